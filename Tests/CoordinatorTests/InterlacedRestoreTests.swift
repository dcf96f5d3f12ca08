import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// Issue 13: interlaced input (H.264 and MPEG-2, top field first) is deinterlaced by default, in process and on
/// the farm, and comes out whole-frame and tagged progressive; `--interlaced keep` keeps the woven frames.
/// The oracle is FFmpeg's `idet` on the output (the source clips: 50 of 50 frames woven).
final class InterlacedRestoreTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("interlaced") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func clip(_ codec: Fixtures.InterlacedCodec) throws -> String {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        let path = dir.appendingPathComponent(codec == .h264 ? "tff-h264.mp4" : "tff-mpeg2.mpg").path
        try Fixtures.interlacedClip(from: bikes, codec: codec, at: path)
        // The oracle sees the comb in the source: otherwise a passing test would prove nothing.
        XCTAssertGreaterThanOrEqual(try Fixtures.idet(path).interlaced, 45, "the test clip should be combed")
        return path
    }

    private func settings(_ input: String, _ name: String, scale: Int = 1) -> RestoreSettings {
        RestoreSettings(input: input, output: dir.appendingPathComponent(name).path, geometry: .scale(scale), processor: "lanczos",
                        encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast"), threads: 2, quiet: true)
    }

    private func assertWholeFrames(_ output: String, halveHeight: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let verdict = try Fixtures.idet(output, halveHeight: halveHeight)
        XCTAssertLessThanOrEqual(verdict.interlaced, 2, "idet still finds combed frames in \(output)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(verdict.progressive, 45, file: file, line: line)
        XCTAssertEqual(try Fixtures.fieldOrder(output), "progressive", file: file, line: line)
        XCTAssertEqual(try Fixtures.probe(output, stream: "v:0")["nb_read_frames"], "50", "one frame per frame", file: file, line: line)
    }

    func testInterlacedH264IsDeinterlacedInProcess() throws {
        let input = try clip(.h264)
        let out = settings(input, "h264-x1.mp4")
        try RestorePipeline(settings: out, warn: { _ in }).run()
        try assertWholeFrames(out.output)
    }

    func testInterlacedMPEG2IsDeinterlacedInProcessAtScale2() throws {
        let input = try clip(.mpeg2)
        let out = settings(input, "mpeg2-x2.mkv", scale: 2)
        try RestorePipeline(settings: out, warn: { _ in }).run()
        try assertWholeFrames(out.output, halveHeight: true)
    }

    func testInterlacedInputIsDeinterlacedOnTheFarm() throws {
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
        for codec in [Fixtures.InterlacedCodec.h264, .mpeg2] {
            let input = try clip(codec)
            let out = settings(input, "farm-\(codec).mp4")
            var options = FarmOptions(localWorkers: 2, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("job-\(codec)").path)
            options.maxSegmentSeconds = 1 // several segments, so the split pass and the stitch both see the frames
            let summary = try FarmRestorePipeline(settings: out, options: options, warn: { _ in }).run()
            XCTAssertGreaterThan(summary.segmentsRestored, 1)
            try assertWholeFrames(out.output)
        }
    }

    func testKeepProcessesTheWovenFramesAsBefore() throws {
        let input = try clip(.h264)
        var out = settings(input, "kept.mp4")
        out.interlacing = .keep
        try RestorePipeline(settings: out, warn: { _ in }).run()
        XCTAssertGreaterThanOrEqual(try Fixtures.idet(out.output).interlaced, 45, "keep leaves the fields woven")
    }

    /// The field handling is part of the job's fingerprint: a job restored with `keep` and resumed with `auto`
    /// redoes every segment instead of stitching the combed results.
    func testResumingWithAnotherInterlacedSettingReusesNothing() throws {
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
        let input = try clip(.h264)
        var options = FarmOptions(localWorkers: 2, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("job").path)
        options.maxSegmentSeconds = 1
        options.keepJobDirectory = true
        var kept = settings(input, "resume.mp4")
        kept.interlacing = .keep
        kept.overwrite = true // the same output again and again is the point (`restore --overwrite`)
        let first = try FarmRestorePipeline(settings: kept, options: options, warn: { _ in }).run()
        XCTAssertGreaterThan(first.segmentsRestored, 1)
        XCTAssertGreaterThanOrEqual(try Fixtures.idet(kept.output).interlaced, 45)

        let again = try FarmRestorePipeline(settings: kept, options: options, warn: { _ in }).run()
        XCTAssertEqual(again.segmentsRestored, 0, "the same settings reuse every result")

        var auto = settings(input, "resume.mp4")
        auto.overwrite = true
        let resumed = try FarmRestorePipeline(settings: auto, options: options, warn: { _ in }).run()
        XCTAssertEqual(resumed.segmentsReused, 0, "results made from woven frames must not be reused")
        try assertWholeFrames(auto.output)
    }
}
