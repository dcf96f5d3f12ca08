// Benchmark (not a test): our engine vs ncnn on one model, same input, same thread counts.
//
//   swift build -c release --product lumiere-engine-bench && .build/release/lumiere-engine-bench
//       [--model realesr-animevideov3-x4] [--photo LadyBird.jpg] [--size 640x480] [--threads 1,2]
//       [--runs 3] [--ncnn-fp16] [--gemm] [--tile-block 36]
//   --frame 1920x1080 [--tile 512]: tiled upscale of one frame, ours only: time and peak RSS
//   --model rife-v4.0|rife-v4.25: RIFE timing with our rife.Warp, ours only
//   LUMIERE_PROFILE=1: time per layer type
//   --device cpu|gpu[:N] --precision fp32|fp16 [--case anime,general,rife] [--size WxH] [--runs N]
//       [--photo FILE] [--pair FIRST,SECOND]: issue 17's cases, ours next to ncnn on the same device
//       (ncnn-Vulkan for gpu:N) in one run, one table row per case (DeviceBench.swift)
//   --check [--device gpu[:N]] [--size WxH]: every shipped model on our GPU engine vs our CPU engine
//   --list-devices: the compute devices our engine and ncnn see
//   Pictures may be .ppm files (read directly; the GPU machine has no ffmpeg CLI); LUMIERE_MODELS,
//   LUMIERE_FOOTAGE, LUMIERE_REPO (folder with Benchmarks/ncnn_bench.py) and LUMIERE_PYTHON
//   (the Python with the ncnn wheel) let it run from the folder scripts/gpu-pack.sh makes.
//
// Prints seconds per frame (best of --runs after one warm-up), the ratio ncnn/ours, our
// GFLOP/s (convolution FLOPs counted as 2 × MACs of the direct algorithm) and the FMA peak.
import Foundation
import Inference

struct Options {
    var model = "realesr-animevideov3-x4"
    var photo = "LadyBird.jpg"
    var size = (640, 480)
    var threads = [1, 2]
    var runs = 3
    var ncnnFP16 = false
    var tileBlock = 36
    /// Memory mode: upscale one frame of this size in tiles with our engine only, report peak RSS.
    var frame: (Int, Int)?
    var tile = 512
    var convolution = EngineOptions.ConvolutionAlgorithm.auto
    /// Device mode (issue 17): set by --device, --precision or --case.
    var device: BenchDevice?
    var precision = Precision.fp32
    var cases = deviceCases.map(\.name)
    var sizeGiven = false
    var pair: (String, String)?
    var check = false
    var listDevices = false
}

let usage = """
    usage: lumiere-engine-bench [--model NAME] [--photo FILE] [--size WxH] [--threads 1,2] [--runs N] [--ncnn-fp16] [--gemm] [--tile-block N]
           lumiere-engine-bench --frame WxH [--tile N] [--model NAME]      tiled upscale of one frame: time and peak RSS (ours only)
           lumiere-engine-bench --model rife-v4.0|rife-v4.25 [--size WxH]   RIFE timing with our rife.Warp (ours only)
           lumiere-engine-bench --device cpu|gpu[:N] [--precision fp32|fp16] [--case anime,general,rife] [--size WxH] [--runs N]
                                [--photo FILE] [--pair FIRST,SECOND]        ours vs ncnn (Vulkan on gpu:N) on the same device
           lumiere-engine-bench --check [--device gpu[:N]] [--size WxH]     our GPU engine vs our CPU engine, every shipped model
           lumiere-engine-bench --list-devices
    LUMIERE_PROFILE=1 prints the time per layer type.
    """

func parse() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
        switch a {
        case "--model": o.model = args.next() ?? o.model
        case "--photo": o.photo = args.next() ?? o.photo
        case "--size":
            let p = (args.next() ?? "").split(separator: "x").compactMap { Int($0) }
            guard p.count == 2, (1...16384).contains(p[0]), (1...16384).contains(p[1]) else { fail("--size takes WxH, e.g. 640x480") }
            o.size = (p[0], p[1])
            o.sizeGiven = true
        case "--device":
            guard let d = BenchDevice(args.next() ?? "") else { fail("--device takes cpu, gpu or gpu:N") }
            o.device = d
        case "--precision":
            guard let p = Precision(rawValue: args.next() ?? "") else { fail("--precision takes fp32 or fp16") }
            o.precision = p
            o.device = o.device ?? .gpu(0)
        case "--case":
            o.cases = (args.next() ?? "").split(separator: ",").map(String.init)
            guard !o.cases.isEmpty, o.cases.allSatisfy({ c in deviceCases.contains { $0.name == c } }) else {
                fail("--case takes a comma list of \(deviceCases.map(\.name).joined(separator: ", "))")
            }
            o.device = o.device ?? .gpu(0)
        case "--pair":
            let p = (args.next() ?? "").split(separator: ",").map(String.init)
            guard p.count == 2 else { fail("--pair takes FIRST,SECOND") }
            o.pair = (p[0], p[1])
        case "--check": o.check = true
        case "--list-devices": o.listDevices = true
        case "--threads": o.threads = (args.next() ?? "").split(separator: ",").compactMap { Int($0) }
        case "--runs": o.runs = Int(args.next() ?? "") ?? o.runs
        case "--ncnn-fp16": o.ncnnFP16 = true
        case "--tile-block": o.tileBlock = Int(args.next() ?? "") ?? o.tileBlock
        case "--frame":
            let p = (args.next() ?? "").split(separator: "x").compactMap { Int($0) }
            if p.count == 2 { o.frame = (p[0], p[1]) }
        case "--tile": o.tile = Int(args.next() ?? "") ?? o.tile
        case "--gemm": o.convolution = .gemm  // im2col + OpenBLAS for every convolution
        case "--help", "-h":
            print(usage)
            exit(0)
        default: fail("unknown argument \(a)")
        }
    }
    return o
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("lumiere-engine-bench: \(message)\n\(usage)\n".utf8))
    exit(2)
}

/// $ENV, else the repo-local folder (filled by setup) when it has `marker`, else ../shared/<name>.
func dataDirectory(_ variable: String, _ name: String, marker: String) -> URL {
    if let v = env[variable], !v.isEmpty { return URL(fileURLWithPath: v) }
    let local = repo.appendingPathComponent(name)
    if FileManager.default.fileExists(atPath: local.appendingPathComponent(marker).path) { return local }
    return repo.appendingPathComponent("../shared/\(name)").standardizedFileURL
}
let models = dataDirectory("LUMIERE_MODELS", "models", marker: "realesr-animevideov3")
let footage = dataDirectory("LUMIERE_FOOTAGE", "footage", marker: "photos")

/// Graph files (under the models folder, without extension) of the upscaling models, by name.
let modelFiles = Dictionary(uniqueKeysWithValues: graphs.filter { !$0.isRIFE }.map { ($0.name, $0.file) })

/// Convolution FLOPs (2 × MACs of the direct algorithm) for one run at this input size. Every
/// convolution of the Real-ESRGAN compact graphs runs at the input's resolution, so each costs
/// 2 × weight count × input pixels (an estimate for other graphs).
func convolutionFLOPs(_ net: Net, input: Tensor, inputName: String) -> Double {
    net.definitions.filter { $0.type == "Convolution" || $0.type == "Deconvolution" }
        .reduce(0.0) { $0 + 2 * Double($1.params.int(6, default: 0)) * Double(input.width * input.height) }
}

/// Nominal clock from /proc/cpuinfo (GHz); 0 when unknown.
func cpuGHz() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu MHz") }),
          let mhz = Double(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") else { return 0 }
    return mhz / 1000
}

let o = parse()
let pictures = Pictures(photo: o.photo.contains("/") ? URL(fileURLWithPath: o.photo) : footage.appendingPathComponent("photos/\(o.photo)"),
                        pair: o.pair.map { (URL(fileURLWithPath: $0.0), URL(fileURLWithPath: $0.1)) }
                            ?? (footage.appendingPathComponent("framepairs/basketball1.png"), footage.appendingPathComponent("framepairs/basketball2.png")))
if o.listDevices || o.check || o.device != nil {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-bench-\(getpid())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    var status: Int32 = 0, failed = false
    do {
        if o.listDevices {
            print("our engine:"); listOurDevices().forEach { print("  \($0)") }
            print(String(decoding: try runTool(python, [repo.appendingPathComponent("Benchmarks/ncnn_bench.py").path, "--list-devices"]), as: UTF8.self), terminator: "")
        }
        if o.check {
            status = try gpuCheck(device: o.device ?? .gpu(0), size: o.sizeGiven ? o.size : (128, 128), models: models, pictures: pictures, scratch: scratch)
        } else if let device = o.device {
            status = try deviceBenchmark(cases: o.cases, device: device, precision: o.precision, size: o.sizeGiven ? o.size : nil, runs: o.runs,
                                     threads: o.threads.first ?? 1, models: models, pictures: pictures, scratch: scratch)
        }
    } catch {
        FileHandle.standardError.write(Data("lumiere-engine-bench: \(error)\n".utf8))
        failed = true
    }
    try? FileManager.default.removeItem(at: scratch)
    // 1: an error or a failed check; 3: it ran, but our engine could not run on that device.
    exit(failed ? 1 : status)
}
if o.model.hasPrefix("rife") {
    // RIFE timing (ours only): --model rife-v4.0|rife-v4.25 [--size 640x480] [--threads N]
    let registry = LayerRegistry.withRIFE
    let dir = models.appendingPathComponent(o.model + "-ncnn")
    let (w, h) = o.size
    for threads in o.threads {
        let net = try Net(paramURL: dir.appendingPathComponent("flownet.param"), weightsURL: dir.appendingPathComponent("flownet.bin"),
                          options: EngineOptions(threads: threads), registry: registry)
        var v = [Float](repeating: 0, count: 3 * w * h)
        for i in 0..<v.count { v[i] = Float((i * 7919) % 1000) / 1000 }
        let a = try Tensor(channels: 3, height: h, width: w, values: v)
        let b = try Tensor(channels: 3, height: h, width: w, values: v.reversed())
        let t = try Tensor(channels: 1, height: h, width: w, values: [Float](repeating: 0.5, count: w * h))
        _ = try net.run(inputs: ["in0": a, "in1": b, "in2": t], outputs: ["out0"])
        // Best of --runs after the warm-up (one run alone varies by 2x on a shared machine), then one
        // profiled run for the time per layer type.
        var dt = Double.infinity
        for _ in 0..<max(1, o.runs) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try net.run(inputs: ["in0": a, "in1": b, "in2": t], outputs: ["out0"])
            dt = min(dt, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        net.profiling = true
        _ = try net.run(inputs: ["in0": a, "in1": b, "in2": t], outputs: ["out0"])
        print(String(format: "%@ %dx%d, %d thread(s): %.3f s per frame pair (best of %d)", o.model, w, h, threads, dt, max(1, o.runs)))
        print(net.layerSeconds.sorted { $0.value > $1.value }.prefix(8).map { String(format: "%@ %.3f", $0.key, $0.value) }.joined(separator: ", "))
    }
    exit(0)
}
if let (fw, fh) = o.frame {
    // Memory mode: --frame 1920x1080 [--tile 512] [--threads N] [--model ...]
    guard let rel = modelFiles[o.model] else { fatalError("unknown model \(o.model)") }
    let net = try Net(paramURL: models.appendingPathComponent(rel + ".param"), weightsURL: models.appendingPathComponent(rel + ".bin"),
                      options: EngineOptions(threads: o.threads.first ?? 1))
    let scale = o.model.hasSuffix("x2") ? 2 : (o.model.hasSuffix("x3") ? 3 : (o.model.hasPrefix("waifu2x") ? 2 : 4))
    let border: TiledUpscaler.Border = o.model.hasPrefix("waifu2x") ? .valid(padding: 7) : .samePadding(context: o.model.hasPrefix("realesr-general") ? 34 : 20)
    let runner = try TiledUpscaler(net: net, inputName: net.inputNames[0], outputName: net.definitions.last!.tops[0], scale: scale, border: border)
    var values = [Float](repeating: 0, count: 3 * fw * fh)
    for i in 0..<values.count { values[i] = Float((i * 7919) % 1000) / 1000 }
    let frame = try Tensor(channels: 3, height: fh, width: fw, values: values)
    let t0 = DispatchTime.now().uptimeNanoseconds
    let out = try runner.upscale(frame, tileSize: o.tile)
    let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print(String(format: "%@ %dx%d -> %dx%d in tiles of %d, %d thread(s): %.2f s, peak RSS %.0f MB",
                 o.model, fw, fh, out.width, out.height, o.tile, o.threads.first ?? 1, dt, Double(usage.ru_maxrss) / 1024))
    exit(0)
}
guard let rel = modelFiles[o.model] else { fatalError("unknown model \(o.model); known: \(modelFiles.keys.sorted())") }
let param = models.appendingPathComponent(rel + ".param"), bin = models.appendingPathComponent(rel + ".bin")
let (w, h) = o.size
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-bench-\(getpid())")
try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
let input = try centreCrop(try loadFrame(pictures.photo), width: w, height: h, name: pictures.photo.path)
let inputURL = tmp.appendingPathComponent("input.lten")
try writeLTEN(input, inputURL)

print("model \(o.model), input \(o.photo) centre crop \(w)x\(h), best of \(o.runs) runs after a warm-up")
print("CPU: \(Backend.bestInstructionSetName) kernels, OpenBLAS \(Backend.blasCoreName), convolution \(o.convolution); ncnn \(o.ncnnFP16 ? "defaults (fp16 storage)" : "fp32")")
for threads in o.threads {
    let jsonURL = tmp.appendingPathComponent("ncnn-\(threads).json")
    var ncnnArgs = [repo.appendingPathComponent("Benchmarks/ncnn_bench.py").path, param.path, bin.path, inputURL.path, jsonURL.path,
                    "--threads", "\(threads)", "--runs", "\(o.runs)"]
    if o.ncnnFP16 { ncnnArgs.append("--fp16") }
    _ = try runTool(python, ncnnArgs)
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: jsonURL)) as! [String: Any]
    let ncnnBest = (json["seconds"] as! [Double]).min()!

    let net = try Net(paramURL: param, weightsURL: bin, options: EngineOptions(threads: threads, convolution: o.convolution, winogradTileBlock: o.tileBlock))
    let inputName = net.inputNames[0]
    let outName = net.definitions.last!.tops[0]
    var ours: [Double] = []
    var output: Tensor?
    for i in 0...o.runs {
        let t0 = DispatchTime.now().uptimeNanoseconds
        output = try net.run(inputs: [inputName: input], outputs: [outName])[outName]
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if i > 0 { ours.append(dt) }
    }
    let best = ours.min()!
    if env["LUMIERE_PROFILE"] != nil {
        net.profiling = true
        _ = try net.run(inputs: [inputName: input], outputs: [outName])
        print(net.layerSeconds.sorted { $0.value > $1.value }.map { String(format: "%@ %.3f", $0.key, $0.value) }.joined(separator: ", "))
    }
    let flops = convolutionFLOPs(net, input: input, inputName: inputName)
    // FMA peak: 32 FP32 FLOP per cycle per core (one 512-bit or two 256-bit FMAs) at the nominal clock.
    let peak = Double(threads) * 32 * cpuGHz()
    print(String(format: "threads %d: ours %.3f s/frame, ncnn %.3f s/frame, ratio (ncnn/ours) %.2fx", threads, best, ncnnBest, ncnnBest / best))
    print(String(format: "  ours: %.0f GFLOP/s direct-convolution equivalent (%.1f GFLOP/frame), ~%.0f GFLOP/s executed in the Winograd GEMMs (÷5.06); FMA peak %.0f GFLOP/s (%d core(s) × 32 FLOP/cycle × %.2f GHz nominal)",
                 flops / best / 1e9, flops / 1e9, flops / best / 1e9 / 5.0625, peak, threads, cpuGHz()))
    _ = output
}
try? FileManager.default.removeItem(at: tmp)
