import Foundation
import Inference
import TestSupport
import XCTest

/// Timing of RIFE v4.25's deconvolutions at 640x512 (inputs of deconv_74, _73, _68/_69 and _70):
/// the sub-pixel fast path against the GEMM + col2im reference path, 1 and 2 threads, best of 7.
/// A benchmark, not a check: skipped unless LUMIERE_DECONV_BENCH=1 (see BENCHMARKS.md).
final class DeconvolutionBenchmarkTests: XCTestCase {
    func testBenchmarkFastPathAgainstGEMM() throws {
        try Fixtures.gate("LUMIERE_DECONV_BENCH", "deconvolution benchmark")
        print("| input → output channels | input size | fast 1 thr ms | fast 2 thr ms | GEMM 1 thr ms | GEMM 2 thr ms | fast 1 thr GFLOP/s |")
        for (cin, cout, h, w) in [(32, 52, 128, 160), (64, 52, 64, 80), (16, 4, 256, 320), (192, 52, 8, 10)] {
            let weights = (0..<(cout * cin * 16)).map { Float($0 % 17) / 17 - 0.5 }
            var bin = [UInt8](repeating: 0, count: 4)
            for v in weights + [Float](repeating: 0.1, count: cout) { withUnsafeBytes(of: v.bitPattern.littleEndian) { bin.append(contentsOf: $0) } }
            let param = "7767517\n2 2\nInput input 0 1 in0\nDeconvolution deconv 1 1 in0 out0 0=\(cout) 1=4 3=2 4=1 5=1 6=\(weights.count)\n"
            let input = try Tensor(channels: cin, height: h, width: w, values: (0..<(cin * h * w)).map { Float($0 % 13) / 13 })
            var times: [Double] = []
            for options in [EngineOptions(threads: 1), EngineOptions(threads: 2),
                            EngineOptions(threads: 1, convolution: .gemm), EngineOptions(threads: 2, convolution: .gemm)] {
                let net = try Net(paramText: param, weights: bin, options: options)
                var best = Double.infinity
                for _ in 0..<7 {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try net.run(inputs: ["in0": input], outputs: ["out0"])
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                times.append(best)
            }
            let gflops = 2.0 * Double(cin * cout * 16 * h * w) / (times[0] * 1e6)
            print(String(format: "| %d → %d | %dx%d | %.2f | %.2f | %.2f | %.2f | %.0f |", cin, cout, w, h, times[0], times[1], times[2], times[3], gflops))
        }
    }
}
