import Coordinator
import Foundation
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// Issue 16 item 1, backpressure: while the film streams, the segment inputs written ahead of a slow farm are bounded
/// (`InputBacklog`, 2 × workers + 2), and the film is the same bytes as an unbounded run's. bikes.mp4 looped twice
/// (500 frames, 12 shots) in segments of 0.4 s: about 70 segments of ≤ 10 frames, so the analysis could run far ahead.
/// The job directory's inputs/ is sampled every millisecond by a thread of the test, and (in-process) at the end of
/// every segment, when its own input is still there.
final class InputBacklogRestoreTests: XCTestCase {
    private var dir: URL!
    private var film: String!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("input-backlog")
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        film = dir.appendingPathComponent("film.mp4").path
        // Looped by stream copy (a test fixture; the product never runs the ffmpeg CLI).
        try Fixtures.run("ffmpeg", ["-v", "error", "-stream_loop", "1", "-i", bikes, "-c", "copy", film])
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private struct Run {
        var output: URL
        var peakInputs: Int
        var segments: Int
    }

    /// Restores the film, sampling how many segment inputs the job directory holds. `slowdown`: seconds the in-process
    /// executor waits after each segment (a slow renderer).
    private func restore(name: String, inProcess: Bool, inputsAhead: Int?, slowdown: Double = 0) throws -> Run {
        let output = dir.appendingPathComponent("\(name).mp4")
        let job = dir.appendingPathComponent("\(name).job")
        let settings = RestoreSettings(input: film, output: output.path, geometry: .scale(1), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast"), threads: 2, quiet: true)
        var options = FarmOptions(localWorkers: 1, threadsPerWorker: 1, jobDirectory: job.path)
        options.maxSegmentSeconds = 0.4
        options.inProcess = inProcess
        options.inputsAhead = inputsAhead
        let pipeline = FarmRestorePipeline(settings: settings, options: options, warn: { _ in })
        let inputs = job.appendingPathComponent("inputs")
        let peak = Peak()
        pipeline.onSegmentRendered = { _ in
            peak.sample(InputBacklogRestoreTests.count(inputs))
            if slowdown > 0 { Thread.sleep(forTimeInterval: slowdown) }
        }
        let sampler = Thread { while !peak.stopped { peak.sample(InputBacklogRestoreTests.count(inputs)); usleep(1000) } }
        sampler.start()
        defer { peak.stop() }
        let summary = try pipeline.run()
        XCTAssertEqual(summary.frames, 500)
        return Run(output: output, peakInputs: peak.value, segments: summary.segmentsRestored)
    }

    private static func count(_ inputs: URL) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: inputs.path)) ?? []).filter { $0.hasPrefix("segment-") }.count
    }

    func testASlowExecutorKeepsAtMostTheBoundOfInputsAndTheSameFilm() throws {
        let bound = InputBacklog.limit(workers: 1)
        let bounded = try restore(name: "bounded", inProcess: true, inputsAhead: nil, slowdown: 0.05)
        let unbounded = try restore(name: "unbounded", inProcess: true, inputsAhead: .max, slowdown: 0.05)
        print("in-process, \(bounded.segments) segments: at most \(bounded.peakInputs) inputs with the bound (\(bound)), \(unbounded.peakInputs) without")
        XCTAssertGreaterThan(bounded.segments, 40, "a film of many short segments")
        XCTAssertLessThanOrEqual(bounded.peakInputs, bound, "inputs written ahead of the executor")
        XCTAssertGreaterThan(bounded.peakInputs, 0, "the sampler saw the inputs")
        // Without the bound the analysis runs ahead of the slow executor: the test can tell the two apart.
        XCTAssertGreaterThan(unbounded.peakInputs, bound)
        XCTAssertEqual(try Data(contentsOf: bounded.output), try Data(contentsOf: unbounded.output), "the bound changes when inputs are cut, not the film")
    }

    func testOneLocalWorkerKeepsAtMostTheBoundOfInputsAndTheSameFilm() throws {
        _ = try XCTUnwrap(Fixtures.useBuiltWorker(), "lumiere-worker must be built")
        let bound = InputBacklog.limit(workers: 1)
        let bounded = try restore(name: "farm-bounded", inProcess: false, inputsAhead: nil)
        let unbounded = try restore(name: "farm-unbounded", inProcess: false, inputsAhead: .max)
        print("farm, 1 worker, \(bounded.segments) segments: at most \(bounded.peakInputs) inputs with the bound (\(bound)), \(unbounded.peakInputs) without")
        XCTAssertLessThanOrEqual(bounded.peakInputs, bound, "inputs written ahead of the worker")
        XCTAssertEqual(try Data(contentsOf: bounded.output), try Data(contentsOf: unbounded.output), "the bound changes when inputs are cut, not the film")
    }

    private final class Peak: @unchecked Sendable {
        private let lock = NSLock()
        private var peak = 0
        private var done = false
        func sample(_ n: Int) { lock.lock(); peak = max(peak, n); lock.unlock() }
        func stop() { lock.lock(); done = true; lock.unlock() }
        var stopped: Bool { lock.lock(); defer { lock.unlock() }; return done }
        var value: Int { lock.lock(); defer { lock.unlock() }; return peak }
    }
}
