import Foundation
import Inference
import XCTest

/// Tiled output equals untiled output (within 1e-4) for every border model, on real photo crops.
final class TiledUpscalerTests: XCTestCase {
    func compare(_ caseName: String, scale: Int, border: TiledUpscaler.Border, tile: Int) throws {
        let c = try XCTUnwrap(try ReferenceCases.cases(prefix: caseName).first)
        let input = try ReferenceCases.readTensor(c.inputs.values.first!)
        let net = try Net(paramURL: URL(fileURLWithPath: c.param), weightsURL: URL(fileURLWithPath: c.bin), options: EngineOptions(threads: 2))
        let runner = try TiledUpscaler(net: net, inputName: c.inputs.keys.first!, outputName: c.outputs.keys.first!, scale: scale, border: border)
        let whole = try runner.upscale(input)
        let tiled = try runner.upscale(input, tileSize: tile)
        XCTAssertEqual(whole.width, input.width * scale)
        XCTAssertEqual(whole.height, input.height * scale)
        XCTAssertLessThanOrEqual(ReferenceCases.maxError(whole, tiled), 1e-4, "\(caseName) tile \(tile)")
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
    func testWaifu2xTiles() throws { try compare("waifu2x-photo-noise2", scale: 2, border: .valid(padding: 7), tile: 16) }

    /// The whole-frame waifu2x result matches ncnn run on the replicate-padded frame.
    func testWaifu2xValidBorderShape() throws {
        let c = try XCTUnwrap(try ReferenceCases.cases(prefix: "waifu2x-photo-scale2").first)
        let input = try ReferenceCases.readTensor(c.inputs.values.first!)
        let net = try Net(paramURL: URL(fileURLWithPath: c.param), weightsURL: URL(fileURLWithPath: c.bin))
        let runner = try TiledUpscaler(net: net, inputName: c.inputs.keys.first!, outputName: c.outputs.keys.first!, scale: 2, border: .valid(padding: 7))
        let out = try runner.upscale(input, tileSize: 20)
        XCTAssertEqual(out.shapeDescription, "[3x\(input.height * 2)x\(input.width * 2)]")
    }
}
