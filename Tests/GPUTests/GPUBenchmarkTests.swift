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
}
