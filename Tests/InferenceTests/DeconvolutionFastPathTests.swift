import Inference
import XCTest

/// The 4×4 stride-2 sub-pixel fast path against the GEMM + col2im reference path
/// (`convolution: .gemm`) on random data: RIFE's shapes, odd sizes, every padding mode.
final class DeconvolutionFastPathTests: XCTestCase {
    struct Shape {
        let cin: Int, cout: Int, h: Int, w: Int
        /// Extra `.param` keys (padding, output padding / size, activation).
        var params = "4=1"
        var bias = true
    }

    static let shapes: [Shape] = [
        // RIFE v4.25 at 640x512 (deconv_70, _74 and the encoder's _68/_69), the larger ones cropped.
        Shape(cin: 192, cout: 52, h: 8, w: 10),
        Shape(cin: 32, cout: 52, h: 23, w: 37),
        Shape(cin: 16, cout: 4, h: 19, w: 41),
        // RIFE v4.0 (5 outputs).
        Shape(cin: 48, cout: 5, h: 9, w: 12),
        // Odd and tiny sizes, channel counts that split into uneven register blocks.
        Shape(cin: 1, cout: 1, h: 1, w: 1),
        Shape(cin: 3, cout: 14, h: 2, w: 17, bias: false),
        Shape(cin: 7, cout: 27, h: 5, w: 33),
        Shape(cin: 5, cout: 13, h: 3, w: 16, params: "4=0"),
        Shape(cin: 4, cout: 6, h: 6, w: 15, params: "4=3"),  // waifu2x-style cut
        Shape(cin: 4, cout: 3, h: 7, w: 9, params: "4=2 14=1 15=0 16=3"),  // unequal cuts
        Shape(cin: 6, cout: 9, h: 4, w: 31, params: "4=1 18=1 19=1 9=2 -23310=1,1.000000e-01"),  // output pad + leaky
        Shape(cin: 2, cout: 4, h: 5, w: 11, params: "4=-233 20=19 21=9"),  // output size, centred cut
        Shape(cin: 2, cout: 4, h: 5, w: 11, params: "4=-234 20=21 21=11"),
        Shape(cin: 3, cout: 5, h: 5, w: 11, params: "4=-233 20=31 21=17"),  // larger than the full output: negative cuts
        Shape(cin: 3, cout: 5, h: 4, w: 40, params: "4=-234 20=85 21=12"),
    ]

    func testFastPathEqualsReferenceOnRandomData() throws {
        var rng = SplitMix(seed: 2025)
        for (index, s) in Self.shapes.enumerated() {
            let weights = (0..<(s.cout * s.cin * 16)).map { _ in rng.uniform() * 0.5 }
            let bias = s.bias ? (0..<s.cout).map { _ in rng.uniform() } : []
            var bin = [UInt8](repeating: 0, count: 4)  // fp32 tag
            for v in weights + bias { withUnsafeBytes(of: v.bitPattern.littleEndian) { bin.append(contentsOf: $0) } }
            let param = """
            7767517
            2 2
            Input input 0 1 in0
            Deconvolution deconv 1 1 in0 out0 0=\(s.cout) 1=4 3=2 5=\(s.bias ? 1 : 0) 6=\(weights.count) \(s.params)
            """
            let input = try Tensor(channels: s.cin, height: s.h, width: s.w, values: (0..<(s.cin * s.h * s.w)).map { _ in rng.uniform() * 2 })
            let reference = try Net(paramText: param, weights: bin, options: EngineOptions(convolution: .gemm))
                .run(inputs: ["in0": input], outputs: ["out0"])["out0"]!
            try assertEveryInstructionSetMatches(paramText: param, weights: bin, input: input, reference: reference, label: "shape \(index) \(s)")
        }
    }

    /// Deterministic uniform values in [-1, 1).
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func uniform() -> Float {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(z >> 40) / Float(1 << 24) * 2 - 1
        }
    }
}
