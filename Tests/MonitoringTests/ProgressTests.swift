import CommandLineSupport
import Coordinator
import Foundation
import TestSupport
import XCTest

/// Issue 19, item 3 (progress and an ETA): each phase's line with the whole job's ETA, as text and as JSON, driven by
/// a fake clock; then the lines from the real executable (`shots`, and every phase of `restore` in JSON).
final class ProgressTests: XCTestCase {
    func testPhaseLineCarriesTheJobsETA() {
        XCTAssertEqual(ProgressReporter.format(label: "split", done: 100, total: 400, elapsed: 10, jobRemaining: .some(95)),
                       "split: 100/400 frames (25.0%)  10.0 fps  ETA 0:30  job ETA 1:35")
        XCTAssertEqual(ProgressReporter.format(label: "analyse", done: 100, total: nil, elapsed: 4, jobRemaining: .some(nil)),
                       "analyse: 100 frames  25.0 fps  elapsed 0:04  job ETA --:--", "not known yet: said as the live view says it")
        XCTAssertEqual(ProgressReporter.format(label: "shots", done: 288, total: 288, elapsed: 12),
                       "shots: 288/288 frames (100.0%)  24.0 fps  elapsed 0:12", "outside a restore: no job ETA")
        // A phase whose frames were done before it began (the join after a farm that wrote the film): no rate over a blink.
        XCTAssertEqual(ProgressReporter.format(label: "join", done: 288, total: 288, elapsed: 0.0000185),
                       "join: 288/288 frames (100.0%)  elapsed 0:00")
    }

    /// The job's ETA: the phase's own remaining time plus the split (priced at the analysis's decoding speed) and the
    /// farm (priced by its estimate until it runs, then by its own speed); the tail is not priced.
    func testJobETAAddsTheLaterPhases() throws {
        let job = JobETA(frames: 300, farmSeconds: 600)
        // Analysis: 100 of 300 frames in 10 s → 20 s left, the split 300 frames at 10 fps = 30 s, the farm 600 s.
        XCTAssertEqual(try XCTUnwrap(job.remaining(phase: "analyse", done: 100, total: 300, elapsed: 10)), 650, accuracy: 1e-9)
        // Split at 15 fps: 10 s left, the farm 600 s.
        XCTAssertEqual(try XCTUnwrap(job.remaining(phase: "split", done: 150, total: 300, elapsed: 10)), 610, accuracy: 1e-9)
        // The farm at its own speed: 100 s left, nothing priced after it.
        XCTAssertEqual(try XCTUnwrap(job.remaining(phase: "restore", done: 50, total: 100, elapsed: 100)), 100, accuracy: 1e-9)
        XCTAssertEqual(job.remaining(phase: "encode", done: 300, total: 300, elapsed: 3), 0)
        XCTAssertNil(job.remaining(phase: "shots", done: 1, total: 2, elapsed: 1), "not a restore phase")

        let lanczos = JobETA(frames: 300, farmSeconds: nil)
        XCTAssertNil(lanczos.remaining(phase: "analyse", done: 100, total: 300, elapsed: 10), "the farm cannot be priced before it runs")
        XCTAssertEqual(try XCTUnwrap(lanczos.remaining(phase: "restore", done: 30, total: 300, elapsed: 3)), 27, accuracy: 1e-9)
        // The split's price follows the film's exact length once the analysis knows it (here 400, not the estimated 300).
        let longer = JobETA(frames: 300, farmSeconds: 0)
        XCTAssertEqual(try XCTUnwrap(longer.remaining(phase: "analyse", done: 400, total: 400, elapsed: 20)), 20, accuracy: 1e-9)
    }

    /// Not on a terminal: a line every 5 s (by the fake clock) and always at the end; in JSON each line is a record
    /// with the numbers in a `progress` object.
    func testReporterPacesLinesAndWritesJSON() throws {
        var now = Date(timeIntervalSince1970: 1_000_000)
        var lines: [String] = []
        let job = JobETA(frames: 100, farmSeconds: 50)
        let reporter = ProgressReporter(label: "analyse", total: 100, job: job, format: .json, isTerminal: true, clock: { now },
                                        write: { lines.append($0) })
        now += 1; reporter.update(done: 10)
        now += 2; reporter.update(done: 30)
        now += 3; reporter.update(done: 60)
        now += 1; reporter.finish(done: 100)
        XCTAssertEqual(lines.count, 3, "at 1 s, at 6 s, and the end (JSON is never redrawn in place): \(lines)")
        let records = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertTrue(lines.allSatisfy { $0.hasSuffix("}\n") && !$0.contains("\r") })
        let first = try XCTUnwrap(records[0]["progress"] as? [String: Any])
        XCTAssertEqual(first["phase"] as? String, "analyse")
        XCTAssertEqual(first["done"] as? Int, 10)
        XCTAssertEqual(first["total"] as? Int, 100)
        XCTAssertEqual(first["fps"] as? Double, 10)
        XCTAssertEqual(first["eta_seconds"] as? Double, 9)
        XCTAssertEqual(first["job_eta_seconds"] as? Double, 9 + 10 + 50, "9 s left, the split 100 frames at 10 fps, the farm 50 s")
        XCTAssertEqual(records[0]["message"] as? String, "analyse: 10/100 frames (10.0%)  10.0 fps  ETA 0:09  job ETA 1:09")
        XCTAssertEqual(records[0]["level"] as? String, "info")
        let last = try XCTUnwrap(records[2]["progress"] as? [String: Any])
        XCTAssertEqual(last["done"] as? Int, 100)
        XCTAssertNil(last["eta_seconds"], "done: no ETA")
        XCTAssertEqual(try XCTUnwrap(last["job_eta_seconds"] as? Double), 100 / (100.0 / 7) + 50, accuracy: 1)

        var text: [String] = []
        let plain = ProgressReporter(label: "shots", total: 10, format: .text, isTerminal: false, clock: { now }, write: { text.append($0) })
        now += 1; plain.update(done: 5)
        now += 1; plain.finish(done: 10)
        XCTAssertEqual(text, ["shots: 5/10 frames (50.0%)  5.0 fps  ETA 0:01\n", "shots: 10/10 frames (100.0%)  5.0 fps  elapsed 0:02\n"])
    }

    /// The executables: `shots` shows its progress (text, and JSON with --log-format json); `restore --log-format json`
    /// has a progress record for each phase, the job's ETA among them (a source cut from its packets streams: its
    /// inputs are cut while it is analysed, so it has no split phase of its own).
    func testProgressLinesFromTheExecutables() throws {
        let film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let dir = try Fixtures.temporaryDirectory("progress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let shots = try Fixtures.runProduct("lumiere-coordinator", ["shots", film], in: dir, timeout: 120)
        XCTAssertEqual(shots.status, 0, shots.stderr)
        XCTAssertTrue(shots.stderr.contains("shots: 288/288 frames (100.0%)"), shots.stderr)
        let json = try Fixtures.runProduct("lumiere-coordinator", ["shots", film, "--log-format", "json"], in: dir, timeout: 120)
        XCTAssertEqual(json.status, 0, json.stderr)
        let shotRecords = try records(json.stderr)
        XCTAssertEqual((shotRecords.last?["progress"] as? [String: Any])?["done"] as? Int, 288, json.stderr)
        XCTAssertEqual((shotRecords.last?["progress"] as? [String: Any])?["phase"] as? String, "shots")

        try Fixtures.run("ffmpeg", ["-v", "error", "-i", film, "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", dir.appendingPathComponent("clip.mp4").path])
        let restore = try Fixtures.runProduct("lumiere-coordinator", ["restore", "clip.mp4", "-o", "out.mp4", "--model", "lanczos", "--preset", "ultrafast",
                                                                     "--log-format", "json", "--workers", "1", "--segment-seconds", "1"], in: dir, timeout: 300)
        XCTAssertEqual(restore.status, 0, restore.stderr)
        let progress = try records(restore.stderr).compactMap { $0["progress"] as? [String: Any] }
        let phases = Set(progress.compactMap { $0["phase"] as? String })
        XCTAssertTrue(phases.isSuperset(of: ["analyse", "restore"]) && (phases.contains("encode") || phases.contains("join")), "\(phases): \(restore.stderr)")
        XCTAssertTrue(progress.contains { $0["phase"] as? String == "restore" && $0["job_eta_seconds"] is Double }, restore.stderr)
    }

    private func records(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
    }
}
