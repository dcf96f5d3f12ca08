import Inference
import XCTest

/// The direct 3×3 stride-2 convolution path against the im2col + sgemm reference path
/// (`convolution: .gemm`) on random data: RIFE's shapes, odd sizes, every padding mode, fused
/// activations (built-in and a following PReLU layer).
final class ConvolutionStride2Tests: XCTestCase {
    struct Shape {
        let cin: Int, cout: Int, h: Int, w: Int
        /// Extra `.param` keys (padding, pad value, activation).
        var params = "4=1"
        var bias = true
        /// Per-channel PReLU layer after the convolution (folded into it by the loader).
        var prelu = false
    }

    static let shapes: [Shape] = [
        // RIFE v4.25 / v4.0 flow-block and encoder shapes, cropped.
        Shape(cin: 28, cout: 16, h: 23, w: 37, params: "4=1 9=1"),
        Shape(cin: 16, cout: 32, h: 18, w: 40, params: "4=1 9=1"),
        Shape(cin: 3, cout: 16, h: 20, w: 33, params: "4=1 9=1"),
        Shape(cin: 12, cout: 32, h: 15, w: 34, prelu: true),
        Shape(cin: 7, cout: 96, h: 8, w: 10, prelu: true),
        Shape(cin: 96, cout: 192, h: 4, w: 6, params: "4=1 9=1"),
        // Wide rows with many channels: bands of 4 output rows (the last one short).
        Shape(cin: 64, cout: 20, h: 41, w: 200, params: "4=1 9=1"),
        // Odd and tiny sizes, channel counts that split into uneven register blocks, padding modes.
        Shape(cin: 1, cout: 1, h: 3, w: 3, params: "4=0"),
        Shape(cin: 1, cout: 1, h: 1, w: 1),
        Shape(cin: 2, cout: 17, h: 5, w: 49, bias: false),
        Shape(cin: 5, cout: 33, h: 7, w: 16, params: "4=0"),
        Shape(cin: 3, cout: 5, h: 9, w: 31, params: "4=-233"),
        Shape(cin: 3, cout: 5, h: 8, w: 30, params: "4=-234"),
        Shape(cin: 4, cout: 6, h: 6, w: 15, params: "4=2 14=0 15=3 16=1"),  // unequal padding
        Shape(cin: 4, cout: 7, h: 6, w: 15, params: "4=1 18=0.5"),  // non-zero pad value
        Shape(cin: 6, cout: 9, h: 4, w: 31, params: "4=1 9=2 -23310=1,1.000000e-01"),  // leaky
        Shape(cin: 6, cout: 9, h: 5, w: 18, params: "4=1 9=3 -23310=2,-1.000000e-01,2.000000e-01"),  // clip
    ]

    func testDirectPathEqualsReferenceOnRandomData() throws {
        var rng = DeconvolutionFastPathTests.SplitMix(seed: 2026)
        for (index, s) in Self.shapes.enumerated() {
            let weights = (0..<(s.cout * s.cin * 9)).map { _ in rng.uniform() * 0.5 }
            let bias = s.bias ? (0..<s.cout).map { _ in rng.uniform() } : []
            let slopes = s.prelu ? (0..<s.cout).map { _ in rng.uniform() * 0.5 } : []
            var bin = [UInt8](repeating: 0, count: 4)  // fp32 tag
            for v in weights + bias + slopes { withUnsafeBytes(of: v.bitPattern.littleEndian) { bin.append(contentsOf: $0) } }
            let conv = "Convolution conv 1 1 in0 \(s.prelu ? "c0" : "out0") 0=\(s.cout) 1=3 3=2 5=\(s.bias ? 1 : 0) 6=\(weights.count) \(s.params)"
            let param = s.prelu
                ? "7767517\n3 3\nInput input 0 1 in0\n\(conv)\nPReLU prelu 1 1 c0 out0 0=\(s.cout)\n"
                : "7767517\n2 2\nInput input 0 1 in0\n\(conv)\n"
            let input = try Tensor(channels: s.cin, height: s.h, width: s.w, values: (0..<(s.cin * s.h * s.w)).map { _ in rng.uniform() * 2 })
            var gemm = EngineOptions(convolution: .gemm)
            gemm.fuseLayers = false
            let reference = try Net(paramText: param, weights: bin, options: gemm).run(inputs: ["in0": input], outputs: ["out0"])["out0"]!
            try assertEveryInstructionSetMatches(paramText: param, weights: bin, input: input, reference: reference, label: "shape \(index) \(s)")
        }
    }
}
