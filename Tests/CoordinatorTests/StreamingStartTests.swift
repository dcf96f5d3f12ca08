import Coordinator
import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// Issue 16 item 1: work starts at once. On a film long enough that it cannot happen by chance (bikes.mp4 looped 12
/// times: 2 minutes, 3,000 frames, 6 shots every 10 s), the first segment is handed out while the film's one decode pass is still near its start: the
/// test records the analysis's frame position at the first assignment (not a time) and then stops the job.
final class StreamingStartTests: XCTestCase {
    private var dir: URL!
    private var film: String!
    private static let loops = 12, framesPerLoop = 250

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("streaming-start")
        _ = try XCTUnwrap(Fixtures.useBuiltWorker(), "lumiere-worker must be built")
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        film = dir.appendingPathComponent("film.mp4").path
        // Looped by stream copy (a test fixture; the product never runs the ffmpeg CLI).
        try Fixtures.run("ffmpeg", ["-v", "error", "-stream_loop", "\(StreamingStartTests.loops - 1)", "-i", bikes, "-c", "copy", film])
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func firstAssignment(inProcess: Bool) throws -> RestorePipeline.Summary.FirstAssignment {
        let settings = RestoreSettings(input: film, output: dir.appendingPathComponent(inProcess ? "in.mp4" : "farm.mp4").path, geometry: .scale(1),
                                       processor: "lanczos", encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast"), threads: 1, quiet: true)
        var options = FarmOptions(localWorkers: 1, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent(inProcess ? "in-job" : "farm-job").path)
        options.maxSegmentSeconds = 2
        options.inProcess = inProcess
        let pipeline = FarmRestorePipeline(settings: settings, options: options, warn: { _ in })
        let stop = StopSignal()
        pipeline.stop = stop
        let recorded = Recorded()
        pipeline.onFirstAssignment = { first in
            recorded.set(first)
            stop.request() // the order of events is shown; rendering 3,000 frames is not the point
        }
        XCTAssertThrowsError(try pipeline.run()) { XCTAssertTrue(StopSignal.isStop($0), "\($0)") }
        return try XCTUnwrap(recorded.value, "a segment was assigned")
    }

    func testTheFirstSegmentIsAssignedWhileTheAnalysisIsNearTheFilmsStart() throws {
        let first = try firstAssignment(inProcess: false)
        let total = StreamingStartTests.loops * StreamingStartTests.framesPerLoop
        let position = try XCTUnwrap(first.framesAnalysed, "the streaming analysis was running")
        // bikes' first cut is at frame 30: the first shot closes once the detector's look-ahead has passed it.
        XCTAssertGreaterThanOrEqual(position, 30, "a shot is released only once its cut is confirmed")
        XCTAssertLessThan(position, total / 4, "assigned after \(position) of \(total) frames were analysed")
        print("first assignment (farm): \(position) of \(total) frames analysed, \(String(format: "%.2f", first.seconds)) s after the start")
    }

    func testInProcessConsumesTheSameStream() throws {
        let first = try firstAssignment(inProcess: true)
        let position = try XCTUnwrap(first.framesAnalysed)
        XCTAssertGreaterThanOrEqual(position, 30)
        XCTAssertLessThan(position, StreamingStartTests.loops * StreamingStartTests.framesPerLoop / 4)
        print("first assignment (in-process): \(position) frames analysed, \(String(format: "%.2f", first.seconds)) s after the start")
    }

    private final class Recorded: @unchecked Sendable {
        private let lock = NSLock()
        private var first: RestorePipeline.Summary.FirstAssignment?
        func set(_ f: RestorePipeline.Summary.FirstAssignment) { lock.lock(); if first == nil { first = f }; lock.unlock() }
        var value: RestorePipeline.Summary.FirstAssignment? { lock.lock(); defer { lock.unlock() }; return first }
    }
}
