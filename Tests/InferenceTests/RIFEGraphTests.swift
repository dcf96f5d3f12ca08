import Foundation
import Inference
import XCTest

/// The RIFE v4.0 / v4.25 graphs exercise Crop, Slice, Interp, BinaryOp broadcasting, Eltwise,
/// Concat, MemoryData, PixelShuffle, Deconvolution and strided convolutions together. With a
/// test-only `rife.Warp` (the interpolation engineer ships the real one) registered through the
/// custom-layer hook, the whole graph must match ncnn running the same warp in numpy.
final class RIFEGraphTests: XCTestCase {
    /// Bilinear sampling at (x + dx, y + dy) with every tap clamped (rife-ncnn-vulkan's shader).
    final class ReferenceWarp: Layer {
        func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
            let image = inputs[0], flow = inputs[1]
            let w = image.width, h = image.height
            let out = Tensor(channels: image.channels, height: h, width: w)
            for y in 0..<h {
                for x in 0..<w {
                    let sx = Float(x) + flow[0, y, x], sy = Float(y) + flow[1, y, x]
                    let fx = sx.rounded(.down), fy = sy.rounded(.down)
                    let a = sx - fx, b = sy - fy
                    let x0 = min(max(Int(fx), 0), w - 1), x1 = min(max(Int(fx) + 1, 0), w - 1)
                    let y0 = min(max(Int(fy), 0), h - 1), y1 = min(max(Int(fy) + 1, 0), h - 1)
                    for c in 0..<image.channels {
                        let top = image[c, y0, x0] * (1 - a) + image[c, y0, x1] * a
                        let bottom = image[c, y1, x0] * (1 - a) + image[c, y1, x1] * a
                        out[c, y, x] = top * (1 - b) + bottom * b
                    }
                }
            }
            return [out]
        }
    }

    func check(_ name: String) throws {
        var registry = LayerRegistry.standard
        registry.register("rife.Warp") { _, _ in ReferenceWarp() }
        let cCases = try ReferenceCases.cases(prefix: name) // outside XCTUnwrap: a skip thrown inside its autoclosure would be a failure
        let c = try XCTUnwrap(cCases.first)
        let inputs = try c.inputs.mapValues { try ReferenceCases.readTensor($0) }
        let want = try ReferenceCases.readTensor(c.outputs["out0"]!)
        for options in [EngineOptions(threads: 2), EngineOptions(convolution: .gemm)] {
            let net = try Net(paramURL: URL(fileURLWithPath: c.param), weightsURL: URL(fileURLWithPath: c.bin), options: options, registry: registry)
            let got = try XCTUnwrap(try net.run(inputs: inputs, outputs: ["out0"])["out0"])
            XCTAssertEqual(got.shapeDescription, want.shapeDescription)
            let err = ReferenceCases.maxError(got, want)
            XCTAssertLessThanOrEqual(err, 1e-3, "\(name) \(options.convolution)")
            if err > 1e-3, let trace = c.trace {
                // Name the first blob that diverges from ncnn.
                var plain = options
                plain.fuseLayers = false
                let unfused = try Net(paramURL: URL(fileURLWithPath: c.param), weightsURL: URL(fileURLWithPath: c.bin), options: plain, registry: registry)
                let all = try unfused.run(inputs: inputs, outputs: trace.map { $0[0] })
                for pair in trace {
                    let ref = try ReferenceCases.readTensor(pair[1])
                    guard let mine = all[pair[0]] else { continue }
                    let scale = max(1, ref.withUnsafeValues { $0.map(abs).max() ?? 0 })
                    let e = ReferenceCases.maxError(mine, ref)
                    if e > 1e-3 * scale {
                        XCTFail("\(name): first divergence at blob \(pair[0]) (ours \(mine.shapeDescription), ncnn \(ref.shapeDescription)), max error \(e)")
                        break
                    }
                }
            }
        }
        // The result is a real interpolation, not a copy of either input.
        XCTAssertGreaterThan(ReferenceCases.maxError(want, inputs["in0"]!), 1e-2)
    }

    func testRIFEv40MatchesNcnn() throws { try check("rife-v4.0") }
    func testRIFEv425MatchesNcnn() throws { try check("rife-v4.25") }
}
