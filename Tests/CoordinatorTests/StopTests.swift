import Coordinator
import Foundation
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// Issue 13, case 5: Ctrl-C in every phase. The first stop ends the job cleanly and resumably (no partial file,
/// exit status 130 from the CLI), and the same command afterwards finishes with the same output as a run that was
/// never stopped. Before: analysis and split ignored Ctrl-C and the job exited 0; a stop in the final encode left
/// `.OUT.partial-PID.mp4` behind, still there after a successful resume.
final class StopTests: XCTestCase {
    private var dir: URL!
    private var film: String!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("stop")
        _ = try XCTUnwrap(Fixtures.useBuiltWorker(), "lumiere-worker must be built")
        film = try Fixtures.requireFootage("video/bikes.mp4")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func pipeline(output: URL, job: URL) -> FarmRestorePipeline {
        let settings = RestoreSettings(input: film, output: output.path, geometry: .scale(1), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast"), threads: 1, quiet: true)
        var options = FarmOptions(localWorkers: 2, threadsPerWorker: 1, jobDirectory: job.path)
        options.maxSegmentSeconds = 2
        return FarmRestorePipeline(settings: settings, options: options, warn: { _ in })
    }

    private func partials() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.contains(".partial-") }
    }

    func testFirstStopInEveryPhaseIsCleanAndResumable() throws {
        let reference = dir.appendingPathComponent("reference.mp4")
        try pipeline(output: reference, job: dir.appendingPathComponent("reference-job")).run()
        let want = try Data(contentsOf: reference)

        for phase in ["analysis", "split", "farm", "encode"] {
            let output = dir.appendingPathComponent("\(phase).mp4"), job = dir.appendingPathComponent("\(phase)-job")
            let stopped = pipeline(output: output, job: job)
            let stop = StopSignal()
            stop.onPhase = { if $0 == phase { stop.request() } }
            stopped.stop = stop
            XCTAssertThrowsError(try stopped.run(), phase) { error in
                switch error {
                case RestoreError.interrupted(let at): XCTAssertEqual(at, phase)
                case FarmError.interrupted: XCTAssertEqual(phase, "farm")
                default: XCTFail("\(phase): \(error)")
                }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), phase)
            XCTAssertEqual(partials(), [], "\(phase): no partial output left")

            let resumed = try pipeline(output: output, job: job).run()
            XCTAssertEqual(try Data(contentsOf: output), want, "\(phase): the resumed output is the uninterrupted one")
            XCTAssertEqual(partials(), [])
            XCTAssertFalse(FileManager.default.fileExists(atPath: job.path), "\(phase): the job directory is cleaned up after success")
            if phase == "encode" { XCTAssertEqual(resumed.segmentsRestored, 0, "every segment was finished before the encode") }
        }
    }

    /// A partial output left by a run killed outright (kill -9 mid-encode) is removed by the next run of the job.
    func testPartialOutputOfAKilledRunIsRemovedOnResume() throws {
        let output = dir.appendingPathComponent("out.mp4"), job = dir.appendingPathComponent("job")
        let stopped = pipeline(output: output, job: job)
        let stop = StopSignal()
        stop.onPhase = { if $0 == "encode" { stop.request() } }
        stopped.stop = stop
        XCTAssertThrowsError(try stopped.run())
        // What a killed process leaves: its partial file, recorded in the job's manifest.
        let orphan = dir.appendingPathComponent(".out.partial-999999.mp4")
        try Data("half a film".utf8).write(to: orphan)
        try JobDirectory(url: job).notePartialOutput(orphan)
        try pipeline(output: output, job: job).run()
        XCTAssertFalse(FileManager.default.fileExists(atPath: orphan.path))
        XCTAssertEqual(partials(), [])
    }

    /// The real thing: SIGINT to the CLI during analysis of a longer clip gives exit status 130 and no output.
    func testCtrlCDuringAnalysisExits130() throws {
        let clip = dir.appendingPathComponent("long.mp4")
        try Fixtures.syntheticClip(at: clip.path, seconds: 40, size: "640x360", rate: "25",
                                   videoCodec: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        let signalled = NSLock()
        var sent = false
        let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", clip.path, "-o", "out.mp4", "--model", "lanczos"], in: dir) { text, process in
            signalled.lock(); defer { signalled.unlock() }
            if !sent, text.contains("analyse:") { sent = true; kill(process.processIdentifier, SIGINT) }
        }
        XCTAssert(sent, "analysis progress was seen: \(result.stderr)")
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssert(result.stderr.contains("stopped during analysis"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.mp4").path))
        XCTAssertEqual(partials(), [])
    }

    /// The second Ctrl-C stops at once: during the farm phase of a neural restore (segments take many seconds),
    /// the first SIGINT only drains, the second ends the process within seconds with status 130 and no output.
    func testSecondCtrlCStopsAtOnce() throws {
        let clip = dir.appendingPathComponent("clip.mp4")
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", film, "-t", "4", "-vf", "scale=320:-2", "-c:v", "libx264", "-preset", "ultrafast", clip.path])
        let lock = NSLock()
        var firstAt: Date?
        let secondAt = LockedDate()
        let started = Date()
        let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", clip.path, "-o", "out.mp4", "--model", "realesr-general-wdn",
                                                                      "--scale", "4", "--workers", "1"], in: dir) { text, process in
            lock.lock(); defer { lock.unlock() }
            // Once a worker holds a segment (a line says "N running" with N ≥ 1; a segment queued behind it at the worker
            // shows as "next at workers"), so that the first stop has work in hand to wait for.
            if firstAt == nil, text.range(of: #" [1-9][0-9]* running"#, options: .regularExpression) != nil {
                firstAt = Date()
                kill(process.processIdentifier, SIGINT)
                DispatchQueue.global().asyncAfter(deadline: .now() + 1) {
                    secondAt.set(Date())
                    kill(process.processIdentifier, SIGINT)
                }
            }
        }
        let ended = Date()
        lock.lock(); defer { lock.unlock() }
        XCTAssertNotNil(firstAt, "the farm phase was seen: \(result.stderr)")
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssert(result.stderr.contains("stopped at once"), result.stderr)
        if let secondAt = secondAt.value { XCTAssertLessThan(ended.timeIntervalSince(secondAt), 5, "the second Ctrl-C ends the process within seconds") }
        XCTAssertLessThan(ended.timeIntervalSince(started), 120)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.mp4").path))
        XCTAssertEqual(partials(), [])
        XCTAssert(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.mp4.lumiere-job/lumiere-job.json").path), "kept to resume")
    }
}

/// A time set from another thread.
private final class LockedDate: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date?
    func set(_ d: Date) { lock.lock(); date = d; lock.unlock() }
    var value: Date? { lock.lock(); defer { lock.unlock() }; return date }
}
