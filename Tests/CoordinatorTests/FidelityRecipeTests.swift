import Coordinator
import Foundation
import Media
import Processors
import Shared
import XCTest

/// What the fidelity settings put into the render recipe (and so into a job's fingerprint and resume keys).
final class FidelityRecipeTests: XCTestCase {
    private let source = PixelSize(width: 640, height: 272)

    private func recipe(fields: Deinterlacing? = nil, output: String? = nil) throws -> RenderRecipe {
        let settings = RestoreSettings(input: "in.mkv", output: "out.mkv", geometry: .scale(2), processor: "lanczos")
        let geometry = try OutputGeometry(source: source, request: .scale(2))
        return try settings.recipe(source: source, geometry: geometry, fields: fields, outputPixelFormat: output)
    }

    private func json(_ recipe: RenderRecipe) -> String { String(decoding: recipe.json(), as: UTF8.self) }

    func testProgressiveEightBitJobsKeepTheirRecipe() throws {
        // Jobs started before these settings existed resume: nothing new is said for them.
        let plain = json(try recipe(output: "yuv420p"))
        XCTAssertFalse(plain.contains("deinterlaced"), plain)
        XCTAssertFalse(plain.contains("resultPixelFormat"), plain)
    }

    func testDeinterlacingAndDepthChangeTheRecipe() throws {
        let fields = Deinterlacing(fieldOrder: .topFieldFirst, onlyFlaggedFrames: true)
        let interlaced = try recipe(fields: fields, output: "yuv420p")
        XCTAssertEqual(interlaced.deinterlaced, "bwdif=mode=send_frame:parity=tff:deint=interlaced")
        XCTAssertNotEqual(json(interlaced), json(try recipe(output: "yuv420p")))
        XCTAssertEqual(try recipe(output: "yuv422p10le").resultPixelFormat, "gbrp12le")
        XCTAssertEqual(try recipe(output: "gbrp16le").resultPixelFormat, "gbrp16le")
    }

    func testWorkersRefuseAResultFormatTheyDoNotKnow() throws {
        var bad = try recipe(output: "gbrp16le")
        bad.resultPixelFormat = "rgb24"
        XCTAssertThrowsError(try RenderRecipe(json: bad.json())) { error in
            XCTAssertTrue("\(error)".contains("result pixel format rgb24"), "\(error)")
        }
        let good = try recipe(output: "gbrp16le")
        XCTAssertEqual(try RenderRecipe(json: good.json()), good)
    }

    func testFFV1DefaultFollowsTheSourceAndH264StaysPlayable() {
        var settings = RestoreSettings(input: "in.mov", output: "out.mkv", encoding: VideoEncoding(codec: .ffv1))
        XCTAssertEqual(settings.outputEncoding(sourcePixelFormat: "yuv422p10le").pixelFormat, "yuv422p10le")
        XCTAssertEqual(settings.outputEncoding(sourcePixelFormat: "rgb48be").pixelFormat, "gbrp16le")
        settings.encoding = VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p")
        XCTAssertEqual(settings.outputEncoding(sourcePixelFormat: "yuv422p10le").pixelFormat, "yuv444p", "--pixel-format wins")
        settings.encoding = VideoEncoding(codec: .h264)
        XCTAssertEqual(settings.outputEncoding(sourcePixelFormat: "yuv422p10le").pixelFormat, "yuv420p")
    }
}
