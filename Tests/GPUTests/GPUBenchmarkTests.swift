import Foundation
import Inference
import TestSupport
import XCTest

/// Seconds of CPU time used by this process, all threads (lavapipe's workers included): on a loaded shared machine
/// steadier than wall time, and the same measure Benchmarks/ncnn_vulkan_time.py prints for ncnn-vulkan.
private func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Time per frame on the GPU backend vs the CPU engine (not a test of speed: lavapipe is a CPU implementation, the
/// numbers are recorded in docs/engine.md). Gated: LUMIERE_GPU_BENCH=1; LUMIERE_GPU_BENCH_SIZE=WxH (default 48x40).
final class GPUBenchmarkTests: XCTestCase {
    func testAnimeVideoV3TimePerFrame() throws {
        try Fixtures.gate("LUMIERE_GPU_BENCH", "times animevideov3-x2 on the GPU backend and the CPU engine")
        let device = try GPUTestSupport.deviceIndex()
        let size = (ProcessInfo.processInfo.environment["LUMIERE_GPU_BENCH_SIZE"] ?? "48x40").split(separator: "x").compactMap { Int($0) }
        let (w, h) = size.count == 2 ? (size[0], size[1]) : (48, 40)
        let stem = GPUModelTests.models.appendingPathComponent("realesr-animevideov3/realesr-animevideov3-x2")
        let image = GPUTestSupport.tensor(3, h, w, seed: 1, range: 0...1)
        for convolution in [EngineOptions.ConvolutionAlgorithm.auto, .gemm] {
            var options = EngineOptions(threads: 2)
            options.convolution = convolution
            let net = try Net(paramURL: stem.appendingPathExtension("param"), weightsURL: stem.appendingPathExtension("bin"), options: options)
            let gpu = try GPUNet(net: net, device: device)
            func time(_ runner: InferenceRunner) throws -> (wall: Double, cpu: Double) {
                let start = Date(), cpu = processCPUSeconds()
                _ = try runner.run(inputs: ["data": image], outputs: ["output"])
                return (Date().timeIntervalSince(start), processCPUSeconds() - cpu)
            }
            let first = try time(gpu)   // includes the driver's shader compilation
            let gpuSeconds = try time(gpu), cpuSeconds = try time(net)
            print(String(format: "animevideov3-x2 %dx%d [%@]: GPU (%@) first run %.2f s, then %.2f s (%.2f s CPU); CPU engine (2 threads) %.2f s (%.2f s CPU)",
                         w, h, convolution.rawValue, gpu.device.name, first.wall, gpuSeconds.wall, gpuSeconds.cpu, cpuSeconds.wall, cpuSeconds.cpu))
        }
    }

    /// One 64 → 64 3×3 convolution (the models' layer) and one ReLU at the benchmark size: GFLOP/s of each shader.
    func testConvolutionLayerRate() throws {
        try Fixtures.gate("LUMIERE_GPU_BENCH", "times one 64 → 64 3×3 convolution on the GPU backend")
        let device = try GPUTestSupport.deviceIndex()
        let size = (ProcessInfo.processInfo.environment["LUMIERE_GPU_BENCH_SIZE"] ?? "48x40").split(separator: "x").compactMap { Int($0) }
        let (w, h) = size.count == 2 ? (size[0], size[1]) : (48, 40)
        let weights = GPUTestSupport.weights(tagged: GPUTestSupport.Random.values(seed: 3, 64 * 64 * 9), raw: [GPUTestSupport.Random.values(seed: 4, 64)])
        let x = GPUTestSupport.tensor(64, h, w, seed: 5)
        for convolution in [EngineOptions.ConvolutionAlgorithm.auto, .gemm] {
            var options = EngineOptions(threads: 2)
            options.convolution = convolution
            for layers in [["Convolution conv 1 1 in0 out 0=64 1=3 4=1 5=1 6=36864"], ["ReLU relu 1 1 in0 out"]] {
                let net = try GPUTestSupport.net(inputs: 1, layers: layers, weights: layers[0].hasPrefix("Conv") ? weights : [], options: options)
                let gpu = try GPUNet(net: net, device: device)
                _ = try gpu.run(inputs: ["in0": x], outputs: ["out"])
                let start = Date(), cpu = processCPUSeconds()
                let runs = 3
                for _ in 0..<runs { _ = try gpu.run(inputs: ["in0": x], outputs: ["out"]) }
                let seconds = Date().timeIntervalSince(start) / Double(runs), cpuSeconds = (processCPUSeconds() - cpu) / Double(runs)
                let flops = layers[0].hasPrefix("Conv") ? 2.0 * 64 * 64 * 9 * Double(w * h) : 0
                print(String(format: "%@ %dx%d [%@]: %.4f s per run (%.4f s CPU), %.2f GFLOP/s", String(layers[0].prefix(12)), w, h, convolution.rawValue,
                             seconds, cpuSeconds, flops / seconds / 1e9))
            }
        }
    }

    /// One c → c 3×3 stride-1 convolution at square output sizes on the direct shader and on Winograd F(2,3) and F(4,3):
    /// process CPU seconds per run (lavapipe's threads included), the measurement behind GPUConvolution's rule.
    func testWinogradCrossover() throws {
        try Fixtures.gate("LUMIERE_GPU_BENCH", "times 3×3 convolutions on the direct shader and on Winograd")
        let device = try GPUTestSupport.deviceIndex()
        let saved = (getenv("LUMIERE_GPU_WINOGRAD").map { String(cString: $0) }, getenv("LUMIERE_GPU_WINOGRAD_TILE").map { String(cString: $0) })
        defer {
            if let w = saved.0 { setenv("LUMIERE_GPU_WINOGRAD", w, 1) } else { unsetenv("LUMIERE_GPU_WINOGRAD") }
            if let t = saved.1 { setenv("LUMIERE_GPU_WINOGRAD_TILE", t, 1) } else { unsetenv("LUMIERE_GPU_WINOGRAD_TILE") }
        }
        let sizes = (ProcessInfo.processInfo.environment["LUMIERE_GPU_BENCH_SIZES"] ?? "2,4,8,16,32,48").split(separator: ",").compactMap { Int($0) }
        let channels = (ProcessInfo.processInfo.environment["LUMIERE_GPU_BENCH_CHANNELS"] ?? "16,32,64,128").split(separator: ",").compactMap { Int($0) }
        for c in channels {
            let weights = GPUTestSupport.weights(tagged: GPUTestSupport.Random.values(seed: 3, c * c * 9), raw: [GPUTestSupport.Random.values(seed: 4, c)])
            let layer = "Convolution conv 1 1 in0 out 0=\(c) 1=3 4=1 5=1 6=\(c * c * 9)"
            for n in sizes {
                let x = GPUTestSupport.tensor(c, n, n, seed: 5)
                var cells: [String] = []
                for (algorithm, tile) in [("off", "4"), ("winograd_t4k8", "2"), ("winograd_t4k8", "4")] {
                    setenv("LUMIERE_GPU_WINOGRAD", algorithm, 1)
                    setenv("LUMIERE_GPU_WINOGRAD_TILE", tile, 1)
                    let gpu = try GPUNet(net: try GPUTestSupport.net(inputs: 1, layers: [layer], weights: weights), device: device)
                    _ = try gpu.run(inputs: ["in0": x], outputs: ["out"])
                    let runs = 3, cpu = processCPUSeconds()
                    for _ in 0..<runs { _ = try gpu.run(inputs: ["in0": x], outputs: ["out"]) }
                    cells.append(String(format: "%.4f", (processCPUSeconds() - cpu) / Double(runs)))
                }
                print("crossover \(c)→\(c) at \(n)x\(n): CPU s per run direct \(cells[0]), F(2,3) \(cells[1]), F(4,3) \(cells[2])")
            }
        }
    }

    /// Runs `body` with the environment variables `values` set (nil: unset), restoring them after.
    private func with(_ values: [String: String?], _ body: () throws -> Void) rethrows {
        let saved = values.keys.map { ($0, getenv($0).map { String(cString: $0) }) }
        defer { for (k, v) in saved { if let v { setenv(k, v, 1) } else { unsetenv(k) } } }
        for (k, v) in values { if let v { setenv(k, v, 1) } else { unsetenv(k) } }
        try body()
    }

    /// Process CPU seconds per run of a net made by `make` (loaded inside, so the environment read at load applies),
    /// best of `rounds` rounds of 3 runs after a warm-up.
    private func cpuSecondsPerRun(_ make: () throws -> GPUNet, inputs: [String: Tensor], output: String, rounds: Int = 1) throws -> Double {
        let gpu = try make()
        _ = try gpu.run(inputs: inputs, outputs: [output])
        var best = Double.infinity
        for _ in 0..<rounds {
            let cpu = processCPUSeconds()
            for _ in 0..<3 { _ = try gpu.run(inputs: inputs, outputs: [output]) }
            best = min(best, (processCPUSeconds() - cpu) / 3)
        }
        return best
    }

    /// The rules for RIFE's layers: 3×3 convolutions at tiny outputs on `conv3x3_lanes` vs the pixel-tiled shaders
    /// (direct; Winograd never runs under 64 pixels), and 4×4 stride-2 deconvolutions on `deconv4x4s2_r4x*` vs the
    /// reference gather, at RIFE v4.25's shapes at 64x64.
    func testTinyOutputsAndDeconvolution() throws {
        try Fixtures.gate("LUMIERE_GPU_BENCH", "times RIFE's convolution and deconvolution shapes on both shaders")
        let device = try GPUTestSupport.deviceIndex()
        for (c, n, stride) in [(192, 1, 1), (128, 2, 1), (96, 4, 1), (64, 8, 1), (32, 16, 1), (96, 2, 2), (64, 4, 2), (32, 8, 2)] {
            let weights = GPUTestSupport.weights(tagged: GPUTestSupport.Random.values(seed: 3, c * c * 9), raw: [GPUTestSupport.Random.values(seed: 4, c)])
            let layer = "Convolution conv 1 1 in0 out 0=\(c) 1=3 3=\(stride) 4=1 5=1 6=\(c * c * 9)"
            let x = ["in0": GPUTestSupport.tensor(c, n * stride, n * stride, seed: 5)]
            var cells: [String] = []
            for lanes in ["1000000", "off"] {
                try with(["LUMIERE_GPU_LANES": lanes, "LUMIERE_GPU_WINOGRAD": "off"]) {
                    let s = try cpuSecondsPerRun({ try GPUNet(net: try GPUTestSupport.net(inputs: 1, layers: [layer], weights: weights), device: device) },
                                                 inputs: x, output: "out", rounds: 2)
                    cells.append(String(format: "%.5f", s))
                }
            }
            print("tiny \(c)→\(c) stride \(stride) to \(n)x\(n): CPU s per run conv3x3_lanes \(cells[0]), tiled \(cells[1])")
        }
        for (cin, cout, n) in [(16, 4, 32), (32, 52, 16), (64, 52, 8), (96, 52, 4), (128, 52, 2), (192, 52, 1)] {
            let count = cout * cin * 16
            let weights = GPUTestSupport.weights(tagged: GPUTestSupport.Random.values(seed: 6, count), raw: [GPUTestSupport.Random.values(seed: 7, cout)])
            let layer = "Deconvolution d 1 1 in0 out 0=\(cout) 1=4 3=2 4=1 5=1 6=\(count)"
            let x = ["in0": GPUTestSupport.tensor(cin, n, n, seed: 8)]
            var cells: [String] = []
            for deconv in [nil, "reference"] {
                try with(["LUMIERE_GPU_DECONV": deconv]) {
                    let s = try cpuSecondsPerRun({ try GPUNet(net: try GPUTestSupport.net(inputs: 1, layers: [layer], weights: weights), device: device) },
                                                 inputs: x, output: "out", rounds: 2)
                    cells.append(String(format: "%.5f", s))
                }
            }
            print("deconvolution \(cin)→\(cout) \(n)x\(n) → \(2 * n)x\(2 * n): CPU s per run deconv4x4s2 \(cells[0]), reference \(cells[1])")
        }
    }

    /// RIFE v4.25 on the 64×64 real pair with each RIFE fast path turned off in turn and all of them off (the before),
    /// process CPU seconds and wall seconds per run; the configurations alternate over LUMIERE_GPU_BENCH_ROUNDS rounds
    /// (default 3) so that the machine's load falls on all alike. LUMIERE_GPU_BENCH_PRECISION=fp16 for fp16 blobs and
    /// multiply-adds, fp16-storage for fp16 blobs with fp32 arithmetic.
    func testRIFEFastPaths() throws {
        try Fixtures.gate("LUMIERE_GPU_BENCH", "times RIFE v4.25 with and without its GPU fast paths")
        let device = try GPUTestSupport.deviceIndex()
        let net = try GPURIFEModelTests.net("rife-v4.25-ncnn")
        let inputs = try GPURIFEModelTests.inputs()
        let precision: GPUPrecision = ["fp16": .fp16, "fp16-storage": .fp16Storage][ProcessInfo.processInfo.environment["LUMIERE_GPU_BENCH_PRECISION"] ?? ""] ?? .fp32
        let rounds = Int(ProcessInfo.processInfo.environment["LUMIERE_GPU_BENCH_ROUNDS"] ?? "") ?? 3
        let off: [String: String] = ["LUMIERE_GPU_DECONV": "reference", "LUMIERE_GPU_FUSE": "off", "LUMIERE_GPU_LANES": "off"]
        let allOn: [String: String?] = off.mapValues { _ in String?.none }
        var configs: [(String, [String: String?])] = [("all on", allOn), ("all off (before)", off.mapValues { String?.some($0) })]
        for k in off.keys.sorted() { configs.append(("\(k)=\(off[k]!)", allOn.merging([k: off[k]]) { $1 })) }
        var nets: [GPUNet] = []
        for (_, env) in configs { try with(env) { nets.append(try GPUNet(net: net, device: device, precision: precision)) } }
        for n in nets { _ = try n.run(inputs: inputs, outputs: ["out0"]) }
        var cpu = [[Double]](repeating: [], count: configs.count), wall = cpu
        for _ in 0..<rounds {
            for (i, n) in nets.enumerated() {
                let c0 = processCPUSeconds(), t0 = Date()
                _ = try n.run(inputs: inputs, outputs: ["out0"])
                cpu[i].append(processCPUSeconds() - c0); wall[i].append(Date().timeIntervalSince(t0))
            }
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        for (i, (name, _)) in configs.enumerated() {
            print(String(format: "RIFE v4.25 64x64 %@ %@: CPU s per run min %.4f median %.4f, wall s min %.4f median %.4f (%d runs)", "\(precision)", name,
                         cpu[i].min()!, median(cpu[i]), wall[i].min()!, median(wall[i]), rounds))
        }
    }
}
