import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// Interlaced input is detected where it is decoded and deinterlaced with libavfilter's bwdif, one frame per
/// frame; the frames are exactly those of FFmpeg's own `bwdif` (the CLI is the oracle).
final class DeinterlaceTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("deinterlace") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func clip(_ codec: Fixtures.InterlacedCodec) throws -> String {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        let path = dir.appendingPathComponent("tff.\(codec == .h264 ? "mp4" : "mpg")").path
        try Fixtures.interlacedClip(from: bikes, codec: codec, at: path)
        return path
    }

    /// All frames of a reader, and their times.
    private func frames(_ reader: ConstantRateReader) throws -> (bytes: Data, times: [Rational]) {
        var bytes = Data(), times: [Rational] = []
        while let frame = try reader.next() {
            XCTAssertEqual(frame.picture.pixelFormat, "yuv420p")
            bytes.append(contentsOf: frame.picture.data)
            times.append(frame.time)
        }
        return (bytes, times)
    }

    /// The CLI's frames through `filter` (nil: none), as packed yuv420p.
    private func cliFrames(_ path: String, filter: String?) throws -> Data {
        let out = dir.appendingPathComponent("cli.yuv").path
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", path] + (filter.map { ["-vf", $0] } ?? []) + ["-f", "rawvideo", "-pix_fmt", "yuv420p", out])
        return try Data(contentsOf: URL(fileURLWithPath: out))
    }

    func testStreamsSayTheirFieldOrder() throws {
        _ = try Fixtures.requireFootage("video/bikes.mp4") // before the assertions: a skip inside one would be a failure
        for codec in [Fixtures.InterlacedCodec.h264, .mpeg2] {
            XCTAssertEqual(try MediaInput(path: try clip(codec)).primaryVideoStream().fieldOrder, .topFieldFirst, "\(codec)")
        }
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        XCTAssertEqual(try MediaInput(path: bikes).primaryVideoStream().fieldOrder, .progressive)
    }

    func testAutoDeinterlacesExactlyAsFFmpegsBwdifAndKeepsTheTiming() throws {
        for codec in [Fixtures.InterlacedCodec.h264, .mpeg2] {
            let path = try clip(codec)
            let auto = try ConstantRateReader(path: path, threads: 2)
            let plan = try XCTUnwrap(try auto.fieldPlan(), "\(codec): interlaced input must be detected")
            XCTAssertEqual(plan.filter, "bwdif=mode=send_frame:parity=tff:deint=interlaced")
            let deinterlaced = try frames(auto)
            XCTAssertEqual(deinterlaced.times.count, 50, "one frame per frame")
            XCTAssertEqual(deinterlaced.bytes, try cliFrames(path, filter: plan.filter), "\(codec): frames differ from ffmpeg -vf \(plan.filter)")

            let kept = try ConstantRateReader(path: path, threads: 2, interlacing: .keep)
            XCTAssertNil(try kept.fieldPlan())
            let woven = try frames(kept)
            XCTAssertEqual(woven.bytes, try cliFrames(path, filter: nil), "\(codec): keep hands out the decoded frames")
            XCTAssertEqual(deinterlaced.times, woven.times, "deinterlacing moves no frame in time")
            XCTAssertNotEqual(deinterlaced.bytes, woven.bytes)
        }
    }

    func testProgressiveInputIsLeftAloneUnlessForced() throws {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        XCTAssertNil(try ConstantRateReader(path: bikes, interlacing: .auto).fieldPlan())
        let forced = try ConstantRateReader(path: bikes, interlacing: .deinterlace)
        XCTAssertEqual(try forced.fieldPlan()?.filter, "bwdif=mode=send_frame:parity=auto:deint=all")
        var count = 0
        while try forced.next() != nil { count += 1 }
        XCTAssertEqual(count, 250)
    }
}
