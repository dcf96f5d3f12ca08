import Foundation
import Inference
import Shared
import TestSupport
import XCTest

/// Tiled output equals untiled output (within 1e-4) for every border model, on real photo crops, and both equal
/// ncnn's output on the same crop (within 1e-3, the model tests' tolerance).
final class TiledUpscalerTests: XCTestCase {
    /// `oracle`: the reference case whose output the whole-frame result must equal (ncnn on the crop, or for a
    /// valid-border model on the replicate-padded crop).
    func compare(_ caseName: String, scale: Int, border: TiledUpscaler.Border, tile: Int, oracle: String? = nil) throws {
        let cCases = try ReferenceCases.cases(prefix: caseName) // outside XCTUnwrap: a skip thrown inside its autoclosure would be a failure
        let c = try XCTUnwrap(cCases.first)
        let input = try ReferenceCases.readTensor(c.inputs.values.first!)
        let net = try Net(paramURL: URL(fileURLWithPath: c.param), weightsURL: URL(fileURLWithPath: c.bin), options: EngineOptions(threads: 2))
        let runner = try TiledUpscaler(net: net, inputName: c.inputs.keys.first!, outputName: c.outputs.keys.first!, scale: scale, border: border)
        let whole = try runner.upscale(input)
        let tiled = try runner.upscale(input, tileSize: tile)
        XCTAssertEqual(whole.width, input.width * scale)
        XCTAssertEqual(whole.height, input.height * scale)
        XCTAssertLessThanOrEqual(ReferenceCases.maxError(whole, tiled), 1e-4, "\(caseName) tile \(tile)")
        let referenceCases = try ReferenceCases.cases(prefix: oracle ?? caseName) // outside XCTUnwrap: a skip thrown inside its autoclosure would be a failure
        let reference = try XCTUnwrap(referenceCases.first)
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

/// realesrgan-x4plus (RRDBNet) sees hundreds of pixels (345 stacked 3×3 convolutions), far more than any tile
/// border worth paying for: its tiles are an approximation, and this measures how close (issue 15, item 5).
final class DeepModelTilingTests: XCTestCase {
    func testRealESRGANx4plusTilesAgreeClosely() throws {
        let photo = try Fixtures.requireFootage("photos/LadyBird.jpg")
        let (w, h) = (192, 48)
        let raw = try Fixtures.runData("ffmpeg", ["-v", "error", "-i", photo, "-vf", "crop=\(w):\(h):600:450", "-frames:v", "1",
                                                  "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        XCTAssertEqual(raw.count, w * h * 3)
        let input = Tensor(channels: 3, height: h, width: w)
        input.withUnsafeMutableValues { v in
            for y in 0..<h { for x in 0..<w { for c in 0..<3 { v[(c * h + y) * w + x] = Float(raw[(y * w + x) * 3 + c]) / 255 } } }
        }
        let models = ReferenceCases.modelsDirectory.appendingPathComponent("realesrgan-x4plus")
        let net = try Net(paramURL: models.appendingPathComponent("realesrgan-x4plus.param"), weightsURL: models.appendingPathComponent("realesrgan-x4plus.bin"),
                          options: EngineOptions(threads: 2))
        let entry = try XCTUnwrap(ModelCatalogue.entry(named: "realesrgan-x4plus"))
        guard case .samePadding(let context)? = entry.tileBorder else { return XCTFail("x4plus pads its convolutions") }
        let runner = try TiledUpscaler(net: net, inputName: "data", outputName: "output", scale: 4, border: .samePadding(context: context))
        let whole = try runner.upscale(input)
        let tiled = try runner.upscale(input, tileSize: 64) // three tiles side by side, each with `context` pixels of neighbours
        var worst: Float = 0, sum: Double = 0
        whole.withUnsafeValues { a in tiled.withUnsafeValues { b in
            for i in a.indices { let d = abs(a[i] - b[i]); if !(d <= worst) { worst = d }; sum += Double(d * d) }
        } }
        let psnr = 10 * log10(1 / (sum / Double(whole.channels * whole.height * whole.width)))
        print(String(format: "realesrgan-x4plus, 192x48 in tiles of 64 with %d pixels of context: max difference %.5f (%.2f/255), PSNR %.1f dB vs whole frame",
                     context, worst, worst * 255, psnr))
        XCTAssertLessThan(worst, 0.5 / 255, "tiles of x4plus differ from the whole frame by more than half a code value")
        XCTAssertGreaterThan(psnr, 80) // measured 2026-12-05: max 0.00015 (0.04/255), 102.8 dB
    }
}
