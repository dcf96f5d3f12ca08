import Foundation
import Inference
import TestSupport
import XCTest

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
            func time(_ runner: InferenceRunner) throws -> Double {
                let start = Date()
                _ = try runner.run(inputs: ["data": image], outputs: ["output"])
                return Date().timeIntervalSince(start)
            }
            let first = try time(gpu)   // includes the driver's shader compilation
            let gpuSeconds = try time(gpu), cpuSeconds = try time(net)
            print(String(format: "animevideov3-x2 %dx%d [%@]: GPU (%@) first run %.2f s, then %.2f s; CPU engine (2 threads) %.2f s",
                         w, h, convolution.rawValue, gpu.device.name, first, gpuSeconds, cpuSeconds))
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
                let start = Date()
                let runs = 3
                for _ in 0..<runs { _ = try gpu.run(inputs: ["in0": x], outputs: ["out"]) }
                let seconds = Date().timeIntervalSince(start) / Double(runs)
                let flops = layers[0].hasPrefix("Conv") ? 2.0 * 64 * 64 * 9 * Double(w * h) : 0
                print(String(format: "%@ %dx%d [%@]: %.4f s per run, %.2f GFLOP/s", String(layers[0].prefix(12)), w, h, convolution.rawValue,
                             seconds, flops / seconds / 1e9))
            }
        }
    }
}
