import Foundation
import Inference
import XCTest

/// Tiled output equals untiled output (within 1e-4) for every border model, on real photo crops, and both equal
/// ncnn's output on the same crop (within 1e-3, the model tests' tolerance).
final class TiledUpscalerTests: XCTestCase {
    /// `oracle`: the reference case whose output the whole-frame result must equal (ncnn on the crop, or for a
    /// valid-border model on the replicate-padded crop).
    func compare(_ caseName: String, scale: Int, border: TiledUpscaler.Border, tile: Int, oracle: String? = nil) throws {
        let c = try XCTUnwrap(try ReferenceCases.cases(prefix: caseName).first)
        let input = try ReferenceCases.readTensor(c.inputs.values.first!)
        let net = try Net(paramURL: URL(fileURLWithPath: c.param), weightsURL: URL(fileURLWithPath: c.bin), options: EngineOptions(threads: 2))
        let runner = try TiledUpscaler(net: net, inputName: c.inputs.keys.first!, outputName: c.outputs.keys.first!, scale: scale, border: border)
        let whole = try runner.upscale(input)
        let tiled = try runner.upscale(input, tileSize: tile)
        XCTAssertEqual(whole.width, input.width * scale)
        XCTAssertEqual(whole.height, input.height * scale)
        XCTAssertLessThanOrEqual(ReferenceCases.maxError(whole, tiled), 1e-4, "\(caseName) tile \(tile)")
        let reference = try XCTUnwrap(try ReferenceCases.cases(prefix: oracle ?? caseName).first)
        let oracleInput = try ReferenceCases.readTensor(try XCTUnwrap(reference.inputs.values.first))
        XCTAssertEqual(ReferenceCases.maxError(oracleInput, input), 0, "the oracle must have run on this crop")
        let ncnn = try ReferenceCases.readTensor(try XCTUnwrap(reference.outputs.values.first))
        ncnn.withUnsafeMutableValues { v in for i in v.indices { v[i] = min(max(v[i], 0), 1) } } // the runner clamps (a picture)
        XCTAssertEqual(whole.shapeDescription, ncnn.shapeDescription)
        XCTAssertLessThanOrEqual(ReferenceCases.maxError(whole, ncnn), 1e-3, "\(caseName): whole frame vs ncnn")
        XCTAssertLessThanOrEqual(ReferenceCases.maxError(tiled, ncnn), 1e-3, "\(caseName) tile \(tile) vs ncnn")
        // Sanity: without enough context the seams show, so the comparison can fail.
        if case .samePadding = border {
            let blind = try TiledUpscaler(net: net, inputName: c.inputs.keys.first!, outputName: c.outputs.keys.first!, scale: scale,
                                          border: .samePadding(context: 2))
            XCTAssertGreaterThan(ReferenceCases.maxError(whole, try blind.upscale(input, tileSize: tile)), 1e-3)
        }
    }

    func testAnimeVideoX4Tiles() throws { try compare("realesr-animevideov3-x4", scale: 4, border: .samePadding(context: 20), tile: 16) }
    func testAnimeVideoX3Tiles() throws { try compare("realesr-animevideov3-x3", scale: 3, border: .samePadding(context: 20), tile: 16) }
    func testGeneralTiles() throws { try compare("realesr-general-x4v3", scale: 4, border: .samePadding(context: 34), tile: 16) }
    func testWaifu2xTiles() throws {
        try compare("waifu2x-photo-noise2", scale: 2, border: .valid(padding: 7), tile: 16, oracle: "edgepad-waifu2x-photo-noise2")
    }
    func testWaifu2xScaleOnlyTiles() throws {
        try compare("waifu2x-photo-scale2", scale: 2, border: .valid(padding: 7), tile: 20, oracle: "edgepad-waifu2x-photo-scale2")
    }
}
