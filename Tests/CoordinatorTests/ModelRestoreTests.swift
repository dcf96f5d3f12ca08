import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// `restore --model`: a real super-resolution model through the whole media path.
final class ModelRestoreTests: XCTestCase {
    func testModelScaleChoice() {
        let source = PixelSize(width: 214, height: 160)
        XCTAssertEqual(FilterFactory.modelScale(processor: "realesr-animevideov3", source: source, content: PixelSize(width: 428, height: 320)), 2)
        XCTAssertEqual(FilterFactory.modelScale(processor: "realesr-animevideov3", source: source, content: PixelSize(width: 642, height: 480)), 3)
        XCTAssertEqual(FilterFactory.modelScale(processor: "realesr-general", source: source, content: PixelSize(width: 428, height: 320)), 4)
        XCTAssertEqual(FilterFactory.modelScale(processor: "realesr-animevideov3", source: source, content: PixelSize(width: 2890, height: 2160)), 4)
        XCTAssertNil(FilterFactory.modelScale(processor: "lanczos", source: source, content: source))
    }

    func testAnimeVideoModelRestoresARealClip() throws {
        let film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let dir = try Fixtures.temporaryDirectory("model-restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Six frames of the 1906 film keep the test short.
        let clip = dir.appendingPathComponent("clip.mkv").path
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-ss", "8", "-i", film, "-frames:v", "6", "-vf", "setsar=1", "-c:v", "ffv1", "-an", clip])
        let neural = dir.appendingPathComponent("neural.mkv").path, classical = dir.appendingPathComponent("lanczos.mkv").path
        for (output, processor) in [(neural, "realesr-animevideov3"), (classical, "lanczos")] {
            let settings = RestoreSettings(input: clip, output: output, geometry: .scale(2), processor: processor,
                                           encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), threads: 2, quiet: true)
            do {
                try RestorePipeline(settings: settings, warn: { _ in }).run()
            } catch let error as NeuralUpscaler.ConfigurationError {
                throw Fixtures.missing("models not installed: \(error)")
            }
        }
        let video = try Fixtures.probe(neural, stream: "v:0")
        let source = try Fixtures.probe(clip, stream: "v:0")
        XCTAssertEqual(Int(video["width"] ?? ""), 2 * Int(source["width"] ?? "")!)
        XCTAssertEqual(Int(video["height"] ?? ""), 2 * Int(source["height"] ?? "")!)
        XCTAssertEqual(video["nb_read_frames"], "6")
        // The model's picture is close to Lanczos overall (same content) but not the same picture.
        let a = try XCTUnwrap(try ConstantRateReader(path: neural).next()).picture
        let b = try XCTUnwrap(try ConstantRateReader(path: classical).next()).picture
        var sum = 0.0
        for (x, y) in zip(a.plane(0), b.plane(0)) { sum += abs(Double(x) - Double(y)) }
        let meanDifference = sum / Double(a.plane(0).count)
        XCTAssertGreaterThan(meanDifference, 0.5, "a model that changes nothing is not running")
        XCTAssertLessThan(meanDifference, 20, "a model that changes everything is broken")
    }
}
