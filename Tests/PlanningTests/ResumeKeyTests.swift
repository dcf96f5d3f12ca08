import Coordinator
import Foundation
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// Issue 13, case 4: resume keys that cannot lie. The input's identity (size, first and last MiB) does not see an
/// edit in the middle of an uncompressed master; the frames' fingerprints do. Two 4 s rawvideo AVIs of real
/// footage, the same size, one edited in frames 50–70.
final class ResumeKeyTests: XCTestCase {
    private var dir: URL!
    private var original: URL!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("resume-keys")
        _ = try XCTUnwrap(Fixtures.useBuiltWorker(), "lumiere-worker must be built")
        let source = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        original = dir.appendingPathComponent("original.avi")
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", source, "-t", "4", "-c:v", "rawvideo", "-pix_fmt", "yuv420p", original.path])
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The original with frames 50…70 changed by `filter` (same codec, so the same size).
    private func edited(_ name: String, filter: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", original.path, "-vf", "\(filter):enable='between(n,50,70)'",
                                    "-c:v", "rawvideo", "-pix_fmt", "yuv420p", url.path])
        return url
    }

    private func restore(_ input: URL, output: URL, job: URL) throws -> RestorePipeline.Summary {
        // FFV1 output: lossless, so outputs compare frame for frame.
        var settings = RestoreSettings(input: input.path, output: output.path, geometry: .scale(1), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv420p"), threads: 1, quiet: true)
        // The same output again after a finished run is the point of these tests (`restore --overwrite`).
        settings.overwrite = true
        var options = FarmOptions(localWorkers: 2, threadsPerWorker: 1, jobDirectory: job.path)
        options.maxSegmentSeconds = 1
        options.keepJobDirectory = true
        return try FarmRestorePipeline(settings: settings, options: options, warn: { _ in }).run()
    }

    private func frameHashes(_ path: URL) throws -> [String] {
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", path.path, "-f", "framemd5", "-"])
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.split(separator: ",").last ?? "") }
    }

    /// A small edit that moves no cut: exactly the segments whose frames it touches are redone, and the output
    /// equals a fresh restore of the edited file. Before: frame 60 still showed the old picture.
    func testSameSizeEditRedoesExactlyTheSegmentsItTouches() throws {
        let patched = try edited("patched.avi", filter: "drawbox=x=8:y=8:w=24:h=24:color=red:t=fill")
        let a = try Data(contentsOf: original), b = try Data(contentsOf: patched)
        XCTAssertEqual(a.count, b.count)
        XCTAssertEqual(try JobKeys.inputIdentity(path: original.path), try JobKeys.inputIdentity(path: patched.path),
                       "the cheap identity cannot see this edit: the fingerprints must")

        let film = dir.appendingPathComponent("film.avi")
        let job = dir.appendingPathComponent("job"), output = dir.appendingPathComponent("out.mkv")
        try a.write(to: film)
        let first = try restore(film, output: output, job: job)
        try b.write(to: film)
        let resumed = try restore(film, output: output, job: job)

        let plan = try JSONDecoder().decode(RestoreJobPlan.self, from: Data(contentsOf: job.appendingPathComponent("plan.json")))
        let touched = plan.segments.segments.filter { $0.input.overlaps(50..<71) }.count
        XCTAssertEqual(plan.shots.count, 0, "the small edit moves no cut")
        XCTAssertGreaterThan(touched, 0)
        XCTAssertEqual(resumed.segmentsRestored, touched, "only the segments holding frames 50…70 are redone")
        XCTAssertEqual(resumed.segmentsReused, first.segmentsRestored - touched)

        let fresh = dir.appendingPathComponent("fresh.mkv")
        _ = try restore(film, output: fresh, job: dir.appendingPathComponent("fresh-job"))
        let got = try frameHashes(output), want = try frameHashes(fresh)
        XCTAssertEqual(got.count, 120)
        XCTAssertEqual(got, want, "the resumed output is the edited film's")
    }

    /// A large edit that moves the cuts (the shot list is stale too): the film is analysed again and the output is
    /// still exactly the edited film's.
    func testEditThatMovesCutsIsAnalysedAgain() throws {
        let red = try edited("red.avi", filter: "drawbox=x=0:y=0:w=iw:h=ih:color=red:t=fill")
        let film = dir.appendingPathComponent("film.avi")
        let job = dir.appendingPathComponent("job"), output = dir.appendingPathComponent("out.mkv")
        try Data(contentsOf: original).write(to: film)
        _ = try restore(film, output: output, job: job)
        try Data(contentsOf: red).write(to: film)
        _ = try restore(film, output: output, job: job)
        let plan = try JSONDecoder().decode(RestoreJobPlan.self, from: Data(contentsOf: job.appendingPathComponent("plan.json")))
        XCTAssertEqual(plan.shots.map(\.frame), [50, 71], "the red frames are a shot of their own")
        let fresh = dir.appendingPathComponent("fresh.mkv")
        _ = try restore(film, output: fresh, job: dir.appendingPathComponent("fresh-job"))
        XCTAssertEqual(try frameHashes(output), try frameHashes(fresh))
    }

    /// A journal from before fingerprints existed (no `inputFrames`) proves nothing: its segments are redone.
    func testEntriesWithoutFingerprintAreRedone() throws {
        let job = dir.appendingPathComponent("job"), output = dir.appendingPathComponent("out.mkv")
        let first = try restore(original, output: output, job: job)
        let journalURL = job.appendingPathComponent("journal.json")
        var journal = try JobJournal.decode(Data(contentsOf: journalURL), path: journalURL.path)
        for key in journal.entries.keys { journal.entries[key]?.inputFrames = nil }
        try journal.encoded().write(to: journalURL)
        let again = try restore(original, output: output, job: job)
        XCTAssertEqual(again.segmentsRestored, first.segmentsRestored)
        let third = try restore(original, output: output, job: job)
        XCTAssertEqual(third.segmentsRestored, 0, "with fingerprints recorded, an unchanged input reuses everything")
    }
}
