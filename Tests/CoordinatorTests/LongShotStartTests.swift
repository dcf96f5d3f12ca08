import Coordinator
import Foundation
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// Issue 16: work starts within seconds in a long shot. box.mp4 is one uncut shot of 15 s (455 frames); scaled to 320x240
/// it is restored with 1 s segments (29 frames). Before, its segments went out only when the analysis reached its end;
/// now the first goes out once 1.5 segments of it are analysed (`ShotSplit`). Positions are frames, not times, so load
/// cannot flake them. The plan must not depend on how the analysis streamed: the film streamed part by part is the film
/// of the classic passes (whole shot list, then split), byte for byte; and a job directory left by the planner before
/// this rule (equal pieces) resumes into the same film, redoing only the segments whose frames changed.
final class LongShotStartTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("long-shot-start")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// box.mp4 at 320x240, as H.264 with a key frame every 15 frames (its segment inputs are cuts of its packets) or as
    /// FFV1 (not a codec proven to cut: lossless inputs, which the classic passes also take). Test fixtures made with the
    /// ffmpeg CLI; the product never runs it.
    private func shot(_ codec: String) throws -> String {
        let box = try Fixtures.requireFootage("video/box.mp4")
        let path = dir.appendingPathComponent("box-\(codec).mkv").path
        let video = codec == "h264" ? ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-g", "15"] : ["-c:v", "ffv1"]
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", box, "-vf", "scale=320:240", "-an"] + video + [path])
        return path
    }

    private func settings(_ input: String, _ name: String) -> RestoreSettings {
        RestoreSettings(input: input, output: dir.appendingPathComponent("\(name).mp4").path, geometry: .scale(1), processor: "lanczos",
                        encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast"), threads: 2, quiet: true)
    }

    private func options(_ name: String, seconds: Double = 1) -> FarmOptions {
        var options = FarmOptions(localWorkers: 1, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("\(name).job").path)
        options.maxSegmentSeconds = seconds
        options.keepJobDirectory = true
        return options
    }

    private func plan(_ name: String) throws -> RestoreJobPlan {
        try JSONDecoder().decode(RestoreJobPlan.self, from: Data(contentsOf: dir.appendingPathComponent("\(name).job/plan.json")))
    }

    /// The farm with one local worker, packet cuts: the first segment is assigned while the analysis is in the shot's
    /// first quarter, after the 44 frames (29 + 15) that decide it and the detector's look-ahead.
    func testTheFirstSegmentOfALongShotIsAssignedLongBeforeItsEnd() throws {
        _ = try XCTUnwrap(Fixtures.useBuiltWorker(), "lumiere-worker must be built")
        let film = try shot("h264")
        let pipeline = FarmRestorePipeline(settings: settings(film, "farm"), options: options("farm"), warn: { _ in })
        let stop = StopSignal()
        pipeline.stop = stop
        let recorded = Recorded()
        pipeline.onFirstAssignment = { first in
            recorded.set(first)
            stop.request() // the order of events is shown; rendering the shot is the next test's
        }
        XCTAssertThrowsError(try pipeline.run()) { XCTAssertTrue(StopSignal.isStop($0), "\($0)") }
        let first = try XCTUnwrap(recorded.value, "a segment was assigned")
        let position = try XCTUnwrap(first.framesAnalysed, "the streaming analysis was running")
        let frames = try XCTUnwrap(Int(try Fixtures.probe(film, stream: "v:0")["nb_read_frames"] ?? ""))
        print("long shot, farm: first assignment after \(position) of \(frames) frames analysed, \(String(format: "%.2f", first.seconds)) s")
        XCTAssertGreaterThan(frames, 400)
        XCTAssertGreaterThanOrEqual(position, 44, "a piece is decided once 1.5 pieces of the shot are known")
        // While the worker starts, the analysis goes on until the inputs ahead of the farm reach their bound (`InputGate`):
        // the first piece decided (44 frames), the bound's 4 pieces of 29 after it, and the detector's look-ahead.
        let bound = 44 + InputBacklog.limit(workers: 1) * 29 + 12
        XCTAssertLessThanOrEqual(position, bound, "assigned after \(position) frames of a \(frames)-frame shot")
        XCTAssertLessThan(bound, frames / 2)
    }

    /// In-process, lossless inputs: streamed part by part, the shot's segments are the classic passes' (planned from the
    /// whole shot list) and so is the film, byte for byte; the first segment went out while the analysis was in the
    /// shot's first quarter, the classic passes' after the whole film was analysed.
    func testTheStreamedLongShotMakesTheWholeFilmPlansFilm() throws {
        let (position, frames, plan) = try streamedAndClassic(seconds: 1)
        XCTAssertLessThan(position, frames / 4)
        XCTAssertEqual(plan.settings.maxSegmentFrames, 29)
        XCTAssertEqual(plan.settings.rampFrames, 29, "1 s of film; no ramp piece is shorter than a piece of 29, so there is none")
        XCTAssertEqual(plan.segments.count, (frames + 28) / 29)
    }

    /// The ramp (issue 16 items 1 and 8): with 10-second segments (299 frames) the shot's first piece would be decided
    /// once 449 of its 456 frames were analysed; the film's first piece is 1 s (29 frames, `ShotSplit`), so it goes out
    /// after 44 (29 + 15) and the detector's look-ahead. Streamed and classic still make the same plan and film.
    func testWithTenSecondSegmentsTheFirstSegmentGoesOutAfterTheRamp() throws {
        let (position, frames, plan) = try streamedAndClassic(seconds: 10)
        XCTAssertEqual(plan.settings.maxSegmentFrames, 299)
        XCTAssertEqual(plan.settings.rampFrames, 29)
        // After it the rest (too short for a piece of 299 and its margin) in two equal pieces.
        let half = 29 + (frames - 29) / 2
        XCTAssertEqual(plan.segments.map(\.owned), [0..<29, 29..<half, half..<frames])
        XCTAssertGreaterThanOrEqual(position, 44, "the first piece is decided once 29 + 15 frames are known")
        XCTAssertLessThan(position, frames / 4, "without the ramp: after 449 of \(frames)")
    }

    /// The long shot restored in-process with lossless inputs, streamed part by part and by the classic passes (planned
    /// from the whole shot list): the same plan, keys and film, byte for byte; the first segment went out while the
    /// analysis was running (returned: frames analysed then, the film's frames, the plan), the classic passes' after.
    private func streamedAndClassic(seconds: Double) throws -> (position: Int, frames: Int, plan: SegmentPlan) {
        let film = try shot("ffv1")
        func restore(_ name: String, streaming: Bool) throws -> RestorePipeline.Summary {
            var options = self.options(name, seconds: seconds)
            options.inProcess = true
            options.streamLosslessInputs = streaming
            return try FarmRestorePipeline(settings: settings(film, name), options: options, warn: { _ in }).run()
        }
        let streamed = try restore("streamed", streaming: true)
        let classic = try restore("classic", streaming: false)
        let frames = Int(streamed.frames)
        XCTAssertGreaterThan(frames, 400)
        XCTAssertEqual(classic.frames, streamed.frames)
        let position = try XCTUnwrap(streamed.firstAssignment?.framesAnalysed, "the streaming analysis was running at the first assignment")
        print("long shot, lossless inputs, \(seconds) s segments: first segment after \(position) of \(frames) frames analysed")
        XCTAssertNil(classic.firstAssignment?.framesAnalysed, "the classic passes hand out nothing while analysing")

        let a = try plan("streamed"), b = try plan("classic")
        XCTAssertEqual(a.shots, [], "box.mp4 is one shot")
        XCTAssertEqual(a.segments, b.segments)
        XCTAssertEqual(a.keys, b.keys)
        XCTAssertEqual(a.segments.segments.map(\.owned), ShotSplit.pieces(shotStart: 0, from: 0, known: frames, closed: true, settings: a.segments.settings))
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("streamed.mp4")), try Data(contentsOf: dir.appendingPathComponent("classic.mp4")))
        return (position, frames, a.segments)
    }

    /// A job directory made by the planner before `ShotSplit` (a shot cut into equal pieces) resumes into the film a fresh
    /// job makes, byte for byte: a segment is reused only when its frames (its key: input, settings, frames, interior; and
    /// the fingerprint of those frames) are the new plan's, the others are redone and the old results pruned. The old
    /// planner's results are made here by listing its pieces as shots (`--shots`): with no overlap and no context a
    /// segment's key and frames do not depend on the shot around it. bikes.mp4 (250 frames, 6 shots at 25 fps; 1 s
    /// segments) has shots that both planners cut alike and shots they cut differently.
    func testAJobOfTheEqualPiecesPlannerResumesIntoTheSameFilm() throws {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        func restore(_ name: String, job: String, shots: String? = nil) throws -> RestorePipeline.Summary {
            var options = self.options(job)
            options.inProcess = true
            options.shotsFile = shots
            return try FarmRestorePipeline(settings: settings(bikes, name), options: options, warn: { _ in }).run()
        }
        _ = try restore("fresh", job: "fresh")
        let list = try ShotList.decode(Data(contentsOf: dir.appendingPathComponent("fresh.job/shots.json")))
        let new = try plan("fresh").segments
        // The equal pieces of before: n = ⌈L / max⌉ per shot.
        let longest = new.settings.maxSegmentFrames
        let old = list.shots.flatMap { shot -> [Range<Int>] in
            let n = (shot.count + longest - 1) / longest
            return (0..<n).map { j in (shot.lowerBound + j * shot.count / n)..<(shot.lowerBound + (j + 1) * shot.count / n) }
        }
        let same = Set(old).intersection(new.segments.map(\.input)).count
        XCTAssertGreaterThan(same, 0, "some shots are cut alike")
        XCTAssertLessThan(same, new.segments.count, "some shots are cut differently: \(old) against \(new.segments.map(\.input))")

        var oldList = list
        oldList.boundaries = old.dropFirst().map { ShotBoundary(frame: $0.lowerBound, score: 1) }
        let shotsFile = dir.appendingPathComponent("old-shots.json")
        try oldList.encoded().write(to: shotsFile)
        let before = try restore("old", job: "resumed", shots: shotsFile.path)
        XCTAssertEqual(before.segmentsRestored, old.count)
        XCTAssertEqual(try plan("resumed").segments.segments.map(\.input), old, "the old planner's segments")

        let resumed = try restore("resumed", job: "resumed")
        print("equal-pieces job resumed: \(resumed.segmentsReused) of \(new.segments.count) segments reused, \(resumed.segmentsRestored) redone; old plan \(old.count) segments")
        XCTAssertEqual(resumed.segmentsReused, same, "the segments both plans share are reused")
        XCTAssertEqual(resumed.segmentsRestored, new.segments.count - same)
        XCTAssertEqual(try plan("resumed").segments, new)
        let journal = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("resumed.job/journal.json"))) as? [String: Any]
        XCTAssertEqual((journal?["entries"] as? [String: Any])?.count, new.segments.count, "the old plan's other results are pruned")
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("resumed.mp4")), try Data(contentsOf: dir.appendingPathComponent("fresh.mp4")))
    }

    private final class Recorded: @unchecked Sendable {
        private let lock = NSLock()
        private var first: RestorePipeline.Summary.FirstAssignment?
        func set(_ f: RestorePipeline.Summary.FirstAssignment) { lock.lock(); if first == nil { first = f }; lock.unlock() }
        var value: RestorePipeline.Summary.FirstAssignment? { lock.lock(); defer { lock.unlock() }; return first }
    }
}
