import Coordinator
import Foundation
import Shared
import TestSupport
import XCTest

/// `--order auto`, recipe validation and the command line's answers to bad frame-rate options.
final class RetimeSettingsTests: XCTestCase {
    func testAutoOrderPicksTheCheaper() {
        let small = PixelSize(width: 214, height: 160)
        // 15 → 24 at ×4 with a neural model: RIFE at 16× the pixels costs more than upscaling 1.6× the frames.
        XCTAssertEqual(RetimeSettings.cheaperOrder(inputRate: Rational(15), outputRate: Rational(24), processor: "realesr-general-wdn", interpolator: "rife-v4.0",
                                                   source: small, content: PixelSize(width: 856, height: 640)), .interpolateFirst)
        // 24 → 60 at ×2 with a neural model: upscaling 2.5× the frames costs more than RIFE at 4× the pixels.
        XCTAssertEqual(RetimeSettings.cheaperOrder(inputRate: Rational(24), outputRate: Rational(60), processor: "realesr-general-wdn", interpolator: "rife-v4.0",
                                                   source: small, content: PixelSize(width: 428, height: 320)), .superResolutionFirst)
        // Lanczos costs next to nothing: interpolate the small frames.
        XCTAssertEqual(RetimeSettings.cheaperOrder(inputRate: Rational(24), outputRate: Rational(60), processor: "lanczos", interpolator: "rife-v4.0",
                                                   source: small, content: PixelSize(width: 428, height: 320)), .interpolateFirst)
        // A down-conversion: interpolate first, then upscale only the fewer output frames.
        XCTAssertEqual(RetimeSettings.cheaperOrder(inputRate: Rational(60), outputRate: Rational(24), processor: "realesr-general", interpolator: "rife-v4.0",
                                                   source: small, content: PixelSize(width: 428, height: 320)), .interpolateFirst)
    }

    func testRecipeIsValidatedWhenDecoded() throws {
        var recipe = RenderRecipe(processor: "lanczos", contentWidth: 320, contentHeight: 240,
                                  retime: RetimeRecipe(inputRate: Rational(24), outputRate: Rational(60)))
        XCTAssertEqual(try RenderRecipe(json: recipe.json()), recipe)
        recipe.retime?.interpolator = "dain"
        XCTAssertThrowsError(try RenderRecipe(json: recipe.json())) { XCTAssertTrue("\($0)".contains("unknown interpolator dain"), "\($0)") }
        recipe.retime = RetimeRecipe(inputRate: Rational(24), outputRate: Rational(1_000_000))
        XCTAssertThrowsError(try RenderRecipe(json: recipe.json()))
        recipe.retime = RetimeRecipe(inputRate: Rational(24), outputRate: Rational(60), maxDuplicateRun: 0)
        XCTAssertThrowsError(try RenderRecipe(json: recipe.json()))
    }

    func testSegmentTimingIsBoundedByItsInput() throws {
        let retime = RetimeRecipe(inputRate: Rational(24), outputRate: Rational(60))
        let good = SegmentTiming(firstInputFrame: 10, outputFrames: 24..<34) // p from 9.6 to 13.2 for input frames 10..<14
        XCTAssertEqual(try good.validated(inputFrameCount: 4, retime: retime), good)
        for bad in [SegmentTiming(firstInputFrame: 10, outputFrames: 20..<34),        // p = 8: a frame before the shot's, not the nearer side
                    SegmentTiming(firstInputFrame: 10, outputFrames: 24..<40),        // p = 15.6: past the input
                    SegmentTiming(firstInputFrame: 10, outputFrames: 0..<1_000_000)] {
            XCTAssertThrowsError(try bad.validated(inputFrameCount: 4, retime: retime), "\(bad)")
        }
        XCTAssertThrowsError(try SegmentTiming(firstInputFrame: -1, outputFrames: 0..<1).validated(inputFrameCount: 4, retime: retime))
    }

    func testCommandLineRejectsBadFrameRateOptions() throws {
        let binary = Fixtures.productsDirectory.appendingPathComponent("lumiere-coordinator").path
        try Fixtures.require(FileManager.default.fileExists(atPath: binary), "binary not built at \(binary)")
        let cases: [([String], String)] = [
            (["--fps", "sixty"], "--fps must be a positive rate"),
            (["--fps", "0"], "--fps must be a positive rate"),
            (["--fps", "60", "--interp", "dain"], "unknown --interp dain"),
            (["--fps", "60", "--order", "fastest"], "--order must be one of auto, interp-first, sr-first"),
            (["--interp", "blend"], "need --fps"),
            (["--fps", "24", "--in-process", "--workers", "2"], "--in-process renders in this process"),
        ]
        let input = try Fixtures.requireFootage("video/pens.mp4")
        for (arguments, expected) in cases {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["restore", input, "-o", FileManager.default.temporaryDirectory.appendingPathComponent("never-\(getpid()).mp4").path] + arguments
            let err = Pipe()
            process.standardError = err
            try process.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 1, "\(arguments): \(text)")
            XCTAssertTrue(text.contains(expected), "\(arguments): \(text)")
            XCTAssertEqual(text.split(separator: "\n").count, 1, "\(arguments): \(text)")
        }
    }
}
