import Foundation
import Processors
import Shared
import TestSupport
import XCTest

final class NeuralUpscalerTests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var models: URL {
        get throws { try ModelLocator.modelsDirectory(currentDirectory: NeuralUpscalerTests.repoRoot) }
    }

    /// A smooth synthetic frame (deterministic, no decoder needed).
    func gradient(width: Int, height: Int) -> RGBImage {
        var img = RGBImage(width: width, height: height)
        for c in 0..<3 { for y in 0..<height { for x in 0..<width {
            img[c, y, x] = Float(0.5 + 0.4 * sin(Double(x + 3 * c) * 0.3) * cos(Double(y) * 0.2))
        } } }
        return img
    }

    func testEveryModelAndScaleProducesTheAdvertisedSize() throws {
        let cases: [(String, Int, Int?)] = [("realesr-animevideov3", 2, nil), ("realesr-animevideov3", 3, nil), ("realesr-animevideov3", 4, nil),
                                            ("realesr-general", 4, nil), ("realesr-general-wdn", 4, nil), ("waifu2x-photo", 2, 1), ("waifu2x-photo", 2, nil)]
        let input = gradient(width: 40, height: 28)
        for (name, scale, noise) in cases {
            let f = try NeuralUpscaler(modelName: name, scale: scale, noise: noise, threads: 2, tileSize: 32, modelsDirectory: try models)
            XCTAssertEqual(f.name, name)
            let out = try f.apply(input)
            XCTAssertEqual(out.size, try f.outputSize(for: input.size), name)
            XCTAssertEqual(out.size, PixelSize(width: 40 * scale, height: 28 * scale))
            XCTAssertTrue(out.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(name) output outside [0, 1]")
        }
    }

    /// Each model through the processor (tiles of 32, clamping) equals ncnn on a real photo crop: the oracle, not
    /// a plausibility check (a bilinear upscale or a model with a wrong layer fails this).
    func testEveryModelMatchesNcnnOnARealPhotoCrop() throws {
        let cases: [(String, Int, Int?, String)] = [
            ("realesr-animevideov3", 2, nil, "realesr-animevideov3-x2"), ("realesr-animevideov3", 3, nil, "realesr-animevideov3-x3"),
            ("realesr-animevideov3", 4, nil, "realesr-animevideov3-x4"), ("realesr-general", 4, nil, "realesr-general-x4v3"),
            ("realesr-general-wdn", 4, nil, "realesr-general-wdn-x4v3"), ("realesrgan-x4plus", 4, nil, "realesrgan-x4plus"),
            // waifu2x loses 7 pixels per side; the processor replicate-pads, so the oracle ran on the padded crop.
            ("waifu2x-photo", 2, nil, "edgepad-waifu2x-photo-scale2.0x"), ("waifu2x-photo", 2, 1, "edgepad-waifu2x-photo-noise1_scale2.0x"),
        ]
        for (name, scale, noise, reference) in cases {
            let cCases = try NcnnReference.cases(prefix: reference) // outside XCTUnwrap: a skip thrown inside its autoclosure would be a failure
            let c = try XCTUnwrap(cCases.first)
            let input = try NcnnReference.read(try XCTUnwrap(c.inputs.values.first))
            let want = try NcnnReference.read(try XCTUnwrap(c.outputs.values.first))
            XCTAssertEqual(input.channels, 3)
            let image = RGBImage(width: input.width, height: input.height, pixels: input.values)
            let f = try NeuralUpscaler(modelName: name, scale: scale, noise: noise, threads: 2, tileSize: 32, modelsDirectory: try models)
            let out = try f.apply(image)
            XCTAssertEqual(out.size, PixelSize(width: want.width, height: want.height), reference)
            guard out.pixels.count == want.values.count else { continue }
            var worst: Float = 0
            for (x, y) in zip(out.pixels, want.values) {
                let d = abs(x - min(max(y, 0), 1)) // the processor clamps to [0, 1]
                if !(d <= worst) { worst = d } // NaN wins
            }
            XCTAssertLessThanOrEqual(worst, 1e-3, "\(name) x\(scale) noise \(noise.map(String.init) ?? "-") vs ncnn (\(reference))")
        }
    }

    /// Frames smaller than a Winograd tile or the receptive field still work (GEMM fallback, edge padding).
    func testTinyFrames() throws {
        for (name, scale) in [("realesr-animevideov3", 4), ("realesr-general", 4), ("waifu2x-photo", 2)] {
            let f = try NeuralUpscaler(modelName: name, scale: scale, threads: 2, modelsDirectory: try models)
            for (w, h) in [(1, 1), (7, 5), (13, 2)] {
                let out = try f.apply(gradient(width: w, height: h))
                XCTAssertEqual(out.size, PixelSize(width: w * scale, height: h * scale), "\(name) \(w)x\(h)")
                XCTAssertTrue(out.pixels.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
            }
        }
    }

    func testTilingDoesNotChangeTheResult() throws {
        let input = gradient(width: 70, height: 50)
        let whole = try NeuralUpscaler(modelName: "realesr-animevideov3", scale: 2, threads: 2, tileSize: 0, modelsDirectory: try models).apply(input)
        let tiled = try NeuralUpscaler(modelName: "realesr-animevideov3", scale: 2, threads: 2, tileSize: 32, modelsDirectory: try models).apply(input)
        let diff = zip(whole.pixels, tiled.pixels).map { abs($0 - $1) }.max() ?? 1
        XCTAssertLessThanOrEqual(diff, 1e-4)
    }

    func testInvalidConfigurationsAreRejectedClearly() throws {
        let models = try self.models  // resolved first, so a missing model folder cannot pass these checks
        XCTAssertThrowsError(try NeuralUpscaler(modelName: "realesr-general", scale: 2, modelsDirectory: models)) { e in
            XCTAssertEqual(e as? NeuralUpscaler.ConfigurationError, .unsupportedScale(model: "realesr-general", scale: 2, supported: [4]))
            XCTAssertTrue("\(e)".contains("×4"), "\(e)")
        }
        XCTAssertThrowsError(try NeuralUpscaler(modelName: "waifu2x-photo", scale: 4, modelsDirectory: models))
        XCTAssertThrowsError(try NeuralUpscaler(modelName: "esrgan", scale: 4, modelsDirectory: models)) { e in
            XCTAssertTrue("\(e)".contains("realesr-animevideov3"), "\(e)")
        }
        XCTAssertThrowsError(try NeuralUpscaler(modelName: "waifu2x-photo", scale: 2, noise: 4, modelsDirectory: models)) { e in
            XCTAssertEqual(e as? NeuralUpscaler.ConfigurationError, .invalidNoise(model: "waifu2x-photo", noise: 4))
        }
        XCTAssertThrowsError(try NeuralUpscaler(modelName: "realesr-general", scale: 4, noise: 1, modelsDirectory: models))
        XCTAssertThrowsError(try NeuralUpscaler(modelName: "realesr-general", scale: 4, tileSize: 5, modelsDirectory: models))
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-no-models-\(getpid())")
        XCTAssertThrowsError(try NeuralUpscaler(modelName: "realesr-general", scale: 4, modelsDirectory: empty)) { e in
            guard case .missingModelFile(let path)? = e as? NeuralUpscaler.ConfigurationError else { return XCTFail("\(e)") }
            XCTAssertTrue(path.hasSuffix("RealESRGAN_General_x4_v3.param"))
        }
    }

    /// The full order (--models-dir, $LUMIERE_MODELS, share directory, ./models, checkout) is tested in
    /// CoordinatorTests/ModelsCommandTests; here: ./models, $LUMIERE_MODELS before it, and no ../shared/models any more.
    func testModelLocatorSearchOrder() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-locator-\(getpid())")
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("work/models/realesr-general-x4v3"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("shared/models/waifu2x-upconv7-photo"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let work = tmp.appendingPathComponent("work")
        // ./models
        XCTAssertEqual(try ModelLocator.modelsDirectory(explicit: nil, environment: [:], currentDirectory: work, executable: nil).path,
                       work.appendingPathComponent("models").standardizedFileURL.path)
        // $LUMIERE_MODELS wins, and a wrong one is named in the error
        XCTAssertEqual(try ModelLocator.modelsDirectory(explicit: nil, environment: ["LUMIERE_MODELS": try models.path], currentDirectory: work, executable: nil).path,
                       try models.standardizedFileURL.path)
        XCTAssertThrowsError(try ModelLocator.modelsDirectory(explicit: nil, environment: ["LUMIERE_MODELS": "/nonexistent/m"], currentDirectory: work, executable: nil)) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/m"), "\(e)")
        }
        // ../shared/models is no longer searched (the models ship in the repository): the error lists what was searched
        try FileManager.default.removeItem(at: work.appendingPathComponent("models"))
        XCTAssertThrowsError(try ModelLocator.modelsDirectory(explicit: nil, environment: [:], currentDirectory: work, executable: nil)) { e in
            guard let nf = e as? ModelLocator.NotFound else { return XCTFail("\(e)") }
            XCTAssertEqual(nf.searched, [work.appendingPathComponent("models").standardizedFileURL.path])
            XCTAssertTrue("\(e)".contains("LUMIERE_MODELS"))
        }
    }
}
