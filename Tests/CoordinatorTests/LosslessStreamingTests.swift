import Coordinator
import Foundation
import Logging
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// Issue 16 item 1: sources whose segment inputs must be lossless stream too. An interlaced H.264 film (bikes.mp4
/// looped three times and woven into 375 interlaced frames: the coordinator deinterlaces it, so its inputs cannot be
/// the source's packets) gets its first segment while the analysis is near the film's start — a frame position, not a
/// time, as in `StreamingStartTests` — never holds more inputs than the bound, and makes the same film, byte for byte,
/// as the classic passes (the whole film analysed, then split, before any segment is handed out).
final class LosslessStreamingTests: XCTestCase {
    private var dir: URL!
    private var film: String!
    private static let frames = 375

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("lossless-streaming")
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        film = dir.appendingPathComponent("interlaced.mp4").path
        // A test fixture made with the ffmpeg CLI (the product never runs it): two frames of 50 fps woven into one.
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-stream_loop", "2", "-i", bikes, "-vf", "setpts=N/(50*TB),interlace=scan=tff:lowpass=0",
                                    "-r", "25", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-flags", "+ildct+ilme", "-top", "1", "-an", film])
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func restore(_ name: String, streaming: Bool, slowdown: Double = 0) throws -> (summary: RestorePipeline.Summary, output: URL, peakInputs: Int) {
        let output = dir.appendingPathComponent("\(name).mp4")
        let job = dir.appendingPathComponent("\(name).job")
        let settings = RestoreSettings(input: film, output: output.path, geometry: .scale(1), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast"), threads: 2, quiet: true)
        var options = FarmOptions(localWorkers: 1, threadsPerWorker: 1, jobDirectory: job.path)
        options.maxSegmentSeconds = 1
        options.inProcess = true
        options.streamLosslessInputs = streaming
        let pipeline = FarmRestorePipeline(settings: settings, options: options, warn: { _ in })
        let inputs = job.appendingPathComponent("inputs")
        let peak = Peak()
        pipeline.onSegmentRendered = { _ in
            peak.sample(((try? FileManager.default.contentsOfDirectory(atPath: inputs.path)) ?? []).filter { $0.hasPrefix("segment-") }.count)
            if slowdown > 0 { Thread.sleep(forTimeInterval: slowdown) }
        }
        let summary = try pipeline.run()
        XCTAssertEqual(summary.frames, Int64(LosslessStreamingTests.frames))
        return (summary, output, peak.value)
    }

    private final class Count: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func next() -> Int { lock.withLock { n += 1; return n } }
    }

    private final class Peak: @unchecked Sendable {
        private let lock = NSLock()
        private var peak = 0
        func sample(_ n: Int) { lock.withLock { peak = max(peak, n) } }
        var value: Int { lock.withLock { peak } }
    }

    func testAnInterlacedFilmStreamsWithLosslessInputsAndMakesTheClassicPassesFilm() throws {
        let streamed = try restore("streamed", streaming: true, slowdown: 0.1)
        let classic = try restore("classic", streaming: false)
        let first = try XCTUnwrap(streamed.summary.firstAssignment)
        let position = try XCTUnwrap(first.framesAnalysed, "the streaming analysis was running at the first assignment")
        print("lossless inputs, streamed: first segment after \(position) of \(LosslessStreamingTests.frames) frames analysed; "
              + "at most \(streamed.peakInputs) inputs at once; classic: \(classic.peakInputs)")
        XCTAssertLessThan(position, LosslessStreamingTests.frames / 4, "assigned after \(position) frames were analysed")
        XCTAssertNil(classic.summary.firstAssignment?.framesAnalysed, "the classic passes hand out nothing while analysing")
        XCTAssertGreaterThan(streamed.summary.segmentsRestored, 8)
        XCTAssertLessThanOrEqual(streamed.peakInputs, InputBacklog.limit(workers: 1), "inputs written ahead of the executor")
        XCTAssertGreaterThan(classic.peakInputs, InputBacklog.limit(workers: 1), "the classic split writes every input first")
        XCTAssertEqual(try Data(contentsOf: streamed.output), try Data(contentsOf: classic.output), "the same frames restored and encoded the same way")
    }

    /// box.mp4 looks cuttable until its decode shows frames timed by decode timestamps (found when its one shot closes):
    /// the job starts again with lossless inputs, still streaming, and makes the classic passes' film.
    func testAHazardFoundWhileDecodingRestartsWithLosslessInputs() throws {
        let box = try Fixtures.requireFootage("video/box.mp4")
        func run(_ name: String, streaming: Bool) throws -> (frames: Int64, output: URL, log: [String]) {
            let captured = CapturedLog()
            let logger = Logger(label: "test") { _ in CapturingLogHandler(captured: captured) }
            let output = dir.appendingPathComponent("\(name).mkv")
            let settings = RestoreSettings(input: box, output: output.path, geometry: .scale(1), processor: "lanczos",
                                           encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), threads: 2, quiet: true)
            var options = FarmOptions(localWorkers: 1, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("\(name).job").path)
            options.maxSegmentSeconds = 4
            options.inProcess = true
            options.streamLosslessInputs = streaming
            let summary = try FarmRestorePipeline(settings: settings, options: options, logger: logger, warn: { _ in }).run()
            return (summary.frames, output, captured.lines)
        }
        let streamed = try run("box-streamed", streaming: true)
        XCTAssertTrue(streamed.log.contains { $0.contains("cannot be the source's packets") && $0.contains("starting again with lossless inputs") }, "\(streamed.log)")
        XCTAssertTrue(streamed.log.contains { $0.contains("lossless files") }, "the second start streamed lossless inputs: \(streamed.log)")
        let classic = try run("box-classic", streaming: false)
        XCTAssertEqual(streamed.frames, classic.frames)
        XCTAssertEqual(try Data(contentsOf: streamed.output), try Data(contentsOf: classic.output))
    }

    /// An image sequence (how film scans arrive: no packets to copy) streams too: bikes.mp4's 250 frames as PNG files.
    func testAnImageSequenceStreamsAndMakesTheClassicPassesFilm() throws {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        let scans = dir.appendingPathComponent("scan")
        try FileManager.default.createDirectory(at: scans, withIntermediateDirectories: true)
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", bikes, "-vf", "scale=320:136", scans.appendingPathComponent("f_%04d.png").path])
        func run(_ name: String, streaming: Bool, stopAfter: Int? = nil) throws -> (summary: RestorePipeline.Summary, output: URL) {
            let output = dir.appendingPathComponent("\(name).mp4")
            var settings = RestoreSettings(input: scans.appendingPathComponent("f_%04d.png").path, output: output.path, geometry: .scale(1),
                                           processor: "lanczos", encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast"), threads: 2, quiet: true)
            settings.inputRate = Rational(25)
            var options = FarmOptions(localWorkers: 1, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("\(name).job").path)
            options.maxSegmentSeconds = 1
            options.inProcess = true
            options.streamLosslessInputs = streaming
            let pipeline = FarmRestorePipeline(settings: settings, options: options, warn: { _ in })
            if let stopAfter {
                let stop = StopSignal(), count = Count()
                pipeline.stop = stop
                pipeline.onSegmentRendered = { _ in if count.next() == stopAfter { stop.request() } }
            }
            return (try pipeline.run(), output)
        }
        let streamed = try run("scan-streamed", streaming: true)
        let classic = try run("scan-classic", streaming: false)
        XCTAssertEqual(streamed.summary.frames, 250)
        // Stopped after 3 segments and resumed: the segments after the reused ones are written from a decode that
        // skips the frames no input needs.
        XCTAssertThrowsError(try run("scan-resumed", streaming: true, stopAfter: 3)) { XCTAssertTrue(StopSignal.isStop($0), "\($0)") }
        let resumed = try run("scan-resumed", streaming: true)
        XCTAssertGreaterThanOrEqual(resumed.summary.segmentsReused, 3)
        XCTAssertEqual(try Data(contentsOf: resumed.output), try Data(contentsOf: classic.output))
        let position = try XCTUnwrap(streamed.summary.firstAssignment?.framesAnalysed, "the streaming analysis was running")
        print("image sequence, streamed: first segment after \(position) of 250 frames analysed")
        XCTAssertGreaterThanOrEqual(position, 30, "bikes' first cut is at frame 30: its shot is released once the cut is confirmed")
        XCTAssertLessThan(position, 250 / 4)
        XCTAssertEqual(try Data(contentsOf: streamed.output), try Data(contentsOf: classic.output))
    }
}
