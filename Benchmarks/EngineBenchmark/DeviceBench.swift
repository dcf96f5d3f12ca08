// Issue 17 items 6-7: our engine on a device next to ncnn on the same device (Vulkan for gpu:N), same
// model, same input, in one run; and --check, our GPU engine against our CPU engine on real frames.
import Foundation
import Inference

/// A shipped graph: where its files are under the models folder, and how it is fed.
struct Graph {
    let name: String
    let file: String  // path under the models folder, without .param/.bin
    var isRIFE: Bool { name.hasPrefix("rife") }
    /// RIFE pads frames to a multiple of 32 (v4.0) or 64 (v4.25), as RIFEInterpolator does.
    var padMultiple: Int { name == "rife-v4.25" ? 64 : 32 }
    func param(_ models: URL) -> URL { models.appendingPathComponent(file + ".param") }
    func bin(_ models: URL) -> URL { models.appendingPathComponent(file + ".bin") }
}

let graphs: [Graph] = [
    Graph(name: "realesr-animevideov3-x2", file: "realesr-animevideov3/realesr-animevideov3-x2"),
    Graph(name: "realesr-animevideov3-x3", file: "realesr-animevideov3/realesr-animevideov3-x3"),
    Graph(name: "realesr-animevideov3-x4", file: "realesr-animevideov3/realesr-animevideov3-x4"),
    Graph(name: "realesr-general-x4v3", file: "realesr-general-x4v3/RealESRGAN_General_x4_v3"),
    Graph(name: "realesr-general-wdn-x4v3", file: "realesr-general-wdn-x4v3/RealESRGAN_General_WDN_x4_v3"),
    Graph(name: "waifu2x-photo-noise1", file: "waifu2x-upconv7-photo/noise1_scale2.0x_model"),
    Graph(name: "realesrgan-x4plus", file: "realesrgan-x4plus/realesrgan-x4plus"),
    Graph(name: "rife-v4.0", file: "rife-v4.0-ncnn/flownet"),
    Graph(name: "rife-v4.25", file: "rife-v4.25-ncnn/flownet"),
]
func graph(_ name: String) -> Graph? { graphs.first { $0.name == name } }

/// The issue's three cases and their sizes on a real GPU (`--size` overrides them, for lavapipe).
let deviceCases: [(name: String, graph: String, size: (Int, Int))] = [
    ("anime", "realesr-animevideov3-x4", (640, 480)),
    ("general", "realesr-general-x4v3", (1920, 1080)),  // 1080p → 7680x4320, scaled to UHD by the pipeline
    ("rife", "rife-v4.25", (1920, 1080)),               // padded to 1920x1088
]

/// Where the pictures come from: a photo for super-resolution, a frame pair for RIFE.
struct Pictures {
    let photo: URL, pair: (URL, URL)
    /// The graph's inputs at w × h: a centre crop of the photo, or of both frames plus the t = 0.5 plane.
    func inputs(for g: Graph, inputName: String, width w: Int, height h: Int) throws -> [String: Tensor] {
        if !g.isRIFE { return [inputName: try centreCrop(try loadFrame(photo), width: w, height: h, name: photo.path)] }
        let a = try padded(try centreCrop(try loadFrame(pair.0), width: w, height: h, name: pair.0.path), multiple: g.padMultiple)
        let b = try padded(try centreCrop(try loadFrame(pair.1), width: w, height: h, name: pair.1.path), multiple: g.padMultiple)
        return ["in0": a, "in1": b, "in2": try plane(0.5, width: a.width, height: a.height)]
    }
}

/// The input and output blob names of a graph (first Input layer; the last layer's first top).
func blobNames(_ param: URL, rife: Bool) throws -> (input: String, output: String) {
    if rife { return ("in0", "out0") }
    let lines = try String(contentsOf: param, encoding: .utf8).split(separator: "\n").dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true) }
    guard let input = lines.first(where: { $0.first == "Input" }), input.count > 4, let last = lines.last(where: { !$0.isEmpty }),
          last.count > 4, let bottoms = Int(last[2]), last.count > 4 + bottoms else { throw BenchError.missingModel(param.path) }
    return (String(input[4]), String(last[4 + bottoms]))
}

/// `--device D --precision P [--case anime,general,rife] [--size WxH] [--runs N]`: one table row per case.
func deviceBenchmark(cases: [String], device: BenchDevice, precision: Precision, size: (Int, Int)?, runs: Int, threads: Int,
                     models: URL, pictures: Pictures, scratch: URL) throws -> Int32 {
    let peerName = device == .cpu ? "ncnn-cpu" : "ncnn-vulkan"
    print("| case | model | input | device | precision | ours s/frame | \(peerName) s/frame | ratio \(peerName)/ours | ours vs ncnn max abs diff | ours GPU busy |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    var allRan = true
    var overlapLines: [String] = []
    for c in deviceCases where cases.contains(c.name) {
        guard let g = graph(c.graph) else { continue }
        let (w, h) = size ?? c.size
        let names = try blobNames(g.param(models), rife: g.isRIFE)
        let inputs = try pictures.inputs(for: g, inputName: names.input, width: w, height: h)
        let peer = try runPeer(param: g.param(models), bin: g.bin(models), inputs: inputs, device: device, precision: precision,
                               threads: threads, runs: runs, scratch: scratch)
        // ncnn's RIFE warps run in numpy on the CPU: the ratio uses its time without them (a free warp).
        let peerSeconds = g.isRIFE ? peer.bestWithoutWarps : peer.best
        let peerCell = g.isRIFE ? String(format: "%.4f (%.4f with numpy warps)", peerSeconds, peer.best) : String(format: "%.4f", peerSeconds)
        var oursCell = "—", ratioCell = "—", diffCell = "—", busyCell = "—", precisionCell = "\(precision)"
        do {
            let engine = try makeEngine(param: g.param(models), bin: g.bin(models), device: device, precision: precision, threads: threads)
            // GPU busy: the device's share of the timed runs' wall time (each run's own device seconds, GPUNet), the
            // warm-up left out (it builds the pipelines).
            var calls = 0, wall = 0.0, busy = 0.0
            let (best, out) = try bestOf(runs) { () -> Tensor? in
                let t0 = DispatchTime.now().uptimeNanoseconds
                let result = try engine.run(inputs: inputs, outputs: [names.output])[names.output]
                calls += 1
                if calls > 1, let gpu = engine as? GPUNet {
                    wall += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                    busy += gpu.lastRunDeviceSeconds
                }
                return result
            }
            if let gpu = engine as? GPUNet, wall > 0 {
                busyCell = String(format: "%.1f %% (%@)", 100 * busy / wall, gpu.deviceTimeFromTimestamps ? "timestamps" : "fences")
                overlapLines.append(try overlapLine(c.name, gpu, inputs: inputs, output: names.output, frames: max(2, runs), reference: out))
                if ProcessInfo.processInfo.environment["LUMIERE_PROFILE"] == "1" {
                    overlapLines.append(try layerProfile(c.name, gpu, inputs: inputs, output: names.output))
                }
            }
            // LUMIERE_GPU_COOPMAT=on: the cell says whether the cooperative-matrix convolution really ran.
            if let gpu = engine as? GPUNet, ProcessInfo.processInfo.environment["LUMIERE_GPU_COOPMAT"] == "on" {
                precisionCell += coopMatDispatches(gpu) > 0 ? " coopmat" : " (coopmat not offered)"
            }
            oursCell = String(format: "%.4f", best)
            ratioCell = String(format: "%.2f×", peerSeconds / best)
            if let o = out, let p = peer.output, let d = compare(o, p) { diffCell = String(format: "%.2e", d.maxAbs) }
        } catch {  // ours missing or failing on this device: the row still shows the peer
            oursCell = "\(error)"
            allRan = false
        }
        let input = g.isRIFE ? "\(w)x\(h) pair, t=0.5" : "\(w)x\(h)"
        print("| \(c.name) | \(g.name) | \(input) | \(device) (\(peer.device)) | \(precisionCell) | \(oursCell) | \(peerCell) | \(ratioCell) | \(diffCell) | \(busyCell) |")
    }
    if !overlapLines.isEmpty {
        print("")
        overlapLines.forEach { print($0) }
    }
    return allRan ? 0 : 3  // 3: the peer ran, ours could not
}

/// conv3x3_coopmat dispatches in the network's last run (0: the cooperative-matrix convolution did not run).
func coopMatDispatches(_ gpu: GPUNet) -> Int { gpu.lastRunDispatches["conv3x3_coopmat_fp16a"] ?? 0 }

/// The same `frames` runs one after another (`run`: the device idles while the host records a run and copies its
/// inputs in and outputs out) and with two in flight (`GPUNet.runOverlapped`: the host does that for the next run
/// while the device computes): seconds per frame and GPU busy share of each; every overlapped output must equal the
/// sequential one, bit for bit.
func overlapLine(_ name: String, _ gpu: GPUNet, inputs: [String: Tensor], output: String, frames: Int, reference: Tensor?) throws -> String {
    func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    var t0 = now(), busy = 0.0
    for _ in 0..<frames {
        _ = try gpu.run(inputs: inputs, outputs: [output])
        busy += gpu.lastRunDeviceSeconds
    }
    let sequential = now() - t0, sequentialBusy = busy
    var identical = true
    t0 = now()
    try gpu.runOverlapped(count: frames, inputs: { _ in inputs }, outputs: [output]) { _, result in
        if let r = reference, let o = result[output] { identical = identical && r.toArray() == o.toArray() }
    }
    let overlapped = now() - t0
    return String(format: "%@: %d frames one at a time %.4f s/frame (GPU busy %.1f %%), two in flight %.4f s/frame (GPU busy %.1f %%), %@",
                  name, frames, sequential / Double(frames), 100 * sequentialBusy / sequential, overlapped / Double(frames),
                  100 * gpu.lastRunDeviceSeconds / overlapped, identical ? "same outputs" : "OUTPUTS DIFFER")
}

/// LUMIERE_PROFILE=1 with a GPU: one more run with a submission per layer (`GPUNet.profileLayers`), the device time
/// summed per shader kind (`GPULayer.profileKind`: the convolutions by shader and shape), largest first.
func layerProfile(_ name: String, _ gpu: GPUNet, inputs: [String: Tensor], output: String) throws -> String {
    gpu.profileLayers = true
    defer { gpu.profileLayers = false }
    _ = try gpu.run(inputs: inputs, outputs: [output])
    var byKind: [String: (count: Int, seconds: Double)] = [:]
    for l in gpu.lastLayerProfile { byKind[l.kind, default: (0, 0)].count += 1; byKind[l.kind, default: (0, 0)].seconds += l.seconds }
    let total = byKind.values.map(\.seconds).reduce(0, +)
    var lines = [String(format: "%@ profile: %d layers, %.4f s on the device (one submission per layer)", name, gpu.lastLayerProfile.count, total)]
    for (kind, v) in byKind.sorted(by: { $0.value.seconds > $1.value.seconds }) {
        lines.append(String(format: "  %6.1f %%  %8.4f s  %3d×  %@", 100 * v.seconds / max(total, 1e-12), v.seconds, v.count, kind))
    }
    return lines.joined(separator: "\n")
}

/// `--check [--device gpu:N] [--size WxH]`: every shipped model present on our GPU engine (fp32 and
/// fp16) and on ncnn-Vulkan (fp32), each against our CPU engine on a real-frame crop. fp32 passes within
/// 1e-3 of the CPU engine (issue 17 item 5), fp16 at ≥ 45 dB PSNR. On a device that can run the cooperative-matrix
/// convolution (`ComputeDeviceInfo.cooperativeMatrixConvolution`) fp16 runs once more with it (LUMIERE_GPU_COOPMAT=on),
/// ≥ 45 dB too, and fails unless it really ran. Returns the exit status: 0 all passed, 1 a check failed, 3 our engine
/// could not run on that device.
func gpuCheck(device: BenchDevice, size: (Int, Int), models: URL, pictures: Pictures, scratch: URL) throws -> Int32 {
    let threads = ProcessInfo.processInfo.activeProcessorCount
    print("| model | input | engine | max abs diff vs our CPU engine | PSNR dB | verdict |")
    print("|---|---|---|---|---|---|")
    var ok = true, oursRan = true
    for g in graphs {
        guard FileManager.default.fileExists(atPath: g.bin(models).path) else {
            print("| \(g.name) | — | — | not in \(models.path) | — | skipped |")
            continue
        }
        let (w, h) = size
        let names = try blobNames(g.param(models), rife: g.isRIFE)
        let inputs = try pictures.inputs(for: g, inputName: names.input, width: w, height: h)
        guard let reference = try makeEngine(param: g.param(models), bin: g.bin(models), device: .cpu, precision: .fp32, threads: threads)
            .run(inputs: inputs, outputs: [names.output])[names.output] else { throw BenchError.missingModel(g.param(models).path) }
        /// One comparison; `verdict` false: the peer's row, printed for information, not part of the check.
        func row(_ engine: String, _ out: Tensor?, fp16: Bool, verdict: Bool = true) {
            guard let out, let d = compare(out, reference) else {
                print("| \(g.name) | \(w)x\(h) | \(engine) | output shape differs | — | FAIL |"); ok = ok && !verdict; return
            }
            let pass = fp16 ? d.psnr >= 45 : d.maxAbs <= 1e-3
            ok = ok && (pass || !verdict)
            print(String(format: "| %@ | %dx%d | %@ | %.2e | %.1f | %@ |", g.name, w, h, engine, d.maxAbs, d.psnr,
                         pass ? "ok" : !verdict ? "differs (not counted)" : (fp16 ? "FAIL (< 45 dB)" : "FAIL (> 1e-3)")))
        }
        var coopMat = false
        if case .gpu(let index) = device { coopMat = (try? ComputeDevices.list())?.first { $0.index == index }?.cooperativeMatrixConvolution ?? false }
        for (precision, withCoopMat) in [(Precision.fp32, false), (.fp16, false)] + (coopMat ? [(Precision.fp16, true)] : []) {
            let label = "ours \(device) \(precision)\(withCoopMat ? " coopmat" : "")"
            do {
                if withCoopMat { setenv("LUMIERE_GPU_COOPMAT", "on", 1) }
                defer { if withCoopMat { unsetenv("LUMIERE_GPU_COOPMAT") } }
                let engine = try makeEngine(param: g.param(models), bin: g.bin(models), device: device, precision: precision, threads: threads)
                let out = try engine.run(inputs: inputs, outputs: [names.output])[names.output]
                if withCoopMat, let gpu = engine as? GPUNet, coopMatDispatches(gpu) == 0 {
                    print("| \(g.name) | \(w)x\(h) | \(label) | conv3x3_coopmat did not run: \(gpu.lastRunDispatches) | — | FAIL |")
                    ok = false
                    continue
                }
                row(label, out, fp16: precision == .fp16)
            } catch {
                print("| \(g.name) | \(w)x\(h) | \(label) | \(error) | — | not run |")
                oursRan = false
            }
        }
        if case .gpu = device {  // the peer on the same device, fp32: checks the device and the comparison itself
            let peer = try runPeer(param: g.param(models), bin: g.bin(models), inputs: inputs, device: device, precision: .fp32,
                                   threads: 1, runs: 1, scratch: scratch)
            row("ncnn-vulkan fp32 (\(peer.device)), for information", peer.output, fp16: false, verdict: false)
        }
    }
    return !ok ? 1 : oursRan ? 0 : 3
}
