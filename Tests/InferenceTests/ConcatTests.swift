import Inference
import XCTest

final class ConcatTests: XCTestCase {
    func testConcatMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Concat_")
    }

    /// With threads the copies are cut into pieces; every axis, with inputs larger than a piece
    /// (256 Ki values) and of unequal sizes, must give the values at the places a plain concatenation does.
    func testThreadedCopiesPlaceEveryValue() throws {
        let shapes = [(5, 300, 200), (2, 300, 200)]  // concatenated on axis 0
        for axis in 0..<3 {
            var inputs: [Tensor] = []
            for (i, s) in shapes.enumerated() {
                // Axis 1/2: the second input differs along that axis instead.
                let c = axis == 0 ? s.0 : 5, h = axis == 1 ? (i == 0 ? 300 : 7) : 300, w = axis == 2 ? (i == 0 ? 200 : 9) : 200
                let values = (0..<(c * h * w)).map { Float($0 % 100_003) + Float(i) * 0.5 }
                inputs.append(try Tensor(channels: c, height: h, width: w, values: values))
            }
            let param = "7767517\n3 3\nInput a 0 1 in0\nInput b 0 1 in1\nConcat cat 2 1 in0 in1 out0 0=\(axis)\n"
            for threads in 1...3 {
                let net = try Net(paramText: param, weights: [], options: EngineOptions(threads: threads))
                let out = try net.run(inputs: ["in0": inputs[0], "in1": inputs[1]], outputs: ["out0"])["out0"]!
                let a = inputs[0], b = inputs[1]
                XCTAssertEqual(out.channels, axis == 0 ? a.channels + b.channels : a.channels)
                XCTAssertEqual(out.height, axis == 1 ? a.height + b.height : a.height)
                XCTAssertEqual(out.width, axis == 2 ? a.width + b.width : a.width)
                var mismatches = 0
                for c in 0..<out.channels { for y in 0..<out.height { for x in 0..<out.width {
                    let fromA = axis == 0 ? c < a.channels : (axis == 1 ? y < a.height : x < a.width)
                    let want = fromA ? a[c, y, x]
                        : b[axis == 0 ? c - a.channels : c, axis == 1 ? y - a.height : y, axis == 2 ? x - a.width : x]
                    if out[c, y, x] != want { mismatches += 1 }
                } } }
                XCTAssertEqual(mismatches, 0, "axis \(axis), \(threads) threads")
            }
        }
    }
}
