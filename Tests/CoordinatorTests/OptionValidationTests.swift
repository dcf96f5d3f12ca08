import Coordinator
import Foundation
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// Issue 13, cases 6 and "options checked too late": every option and every shot list is checked against limits
/// and the input before any work, with one line that says what to do.
final class OptionValidationTests: XCTestCase {
    private var dir: URL!
    private var film: URL!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("options")
        let source = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        film = dir.appendingPathComponent("film.mp4")
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", source, "-t", "0.4", "-vf", "scale=64:48", "-c:v", "libx264", "-preset", "ultrafast", film.path])
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func restore(_ args: [String]) throws -> (Fixtures.CommandResult, TimeInterval) {
        let started = Date()
        let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", "film.mp4", "-o", "out.mp4", "--quiet"] + args, in: dir)
        return (result, Date().timeIntervalSince(started))
    }

    /// Before: `--preset ludicrous` and `--pixel-format bogus` failed only after every segment was restored, as
    /// "Unsupported codec: …"; `--tile 5` failed in the workers. (`--preset` is now refused while parsing, exit 64:
    /// CommandLineTests.testFixedSetOptionsRefuseOtherValuesWithTheList.)
    func testBadOptionsFailBeforeAnyWork() throws {
        let cases: [([String], String)] = [
            (["--pixel-format", "bogus"], "unknown --pixel-format bogus"),
            (["--pixel-format", "yuv420p10le"], "--codec h264 cannot write --pixel-format yuv420p10le"),
            (["--codec", "ffv1", "-o", "out.mkv", "--pixel-format", "nv12"], "--codec ffv1 cannot write --pixel-format nv12"),
            (["--crf", "60"], "--crf must be 0…51"),
            (["--tile", "5"], "--tile must be 0"),
            (["--noise", "9"], "--noise must be 0…3"),
            (["--deflicker=5"], "--deflicker strength must be 0.01…1.0, got 5.0"),
            (["--restore-film", "--dust=0"], "--dust strength must be 0.01…4.0, got 0.0"),
        ]
        for (args, message) in cases {
            let (result, seconds) = try restore(["--model", "lanczos"] + args)
            XCTAssertEqual(result.status, 1, "\(args): \(result.stderr)")
            XCTAssert(result.stderr.hasPrefix("error: \(message)") || result.stderr.contains("error: \(message)"), "\(args): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Unsupported codec"), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)")
            XCTAssertLessThan(seconds, 10, "\(args) must fail before any work")
            XCTAssertEqual(Fixtures.tree(dir), ["film.mp4"], "\(args): nothing written")
        }
    }

    /// `--log-level verbose` was taken silently as the default; now both executables refuse it at parse time, list the
    /// levels and exit 64 (EX_USAGE), before any work (issue 19).
    func testLogLevelIsOneOfTheLevels() throws {
        let (result, _) = try restore(["--model", "lanczos", "--log-level", "verbose"])
        XCTAssertEqual(result.status, 64, result.stderr)
        XCTAssertTrue(result.stderr.contains("verbose"), result.stderr)
        XCTAssertTrue(result.stderr.contains("warning") && result.stderr.contains("trace"), "the levels are listed: \(result.stderr)")
        XCTAssertEqual(Fixtures.tree(dir), ["film.mp4"], "nothing written")
        let worker = try Fixtures.runProduct("lumiere-worker", ["--connect", "tcp://127.0.0.1:9", "--log-level", "verbose"], in: dir, timeout: 30)
        XCTAssertEqual(worker.status, 64, worker.stderr)
        XCTAssertTrue(worker.stderr.contains("trace"), worker.stderr)
        let (ok, _) = try restore(["--model", "lanczos", "--log-level", "error"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    /// `--tile 0` is what the message calls valid (the whole frame at once): before, it failed three times in the
    /// worker and ended as "the input may be damaged". A real model through local workers.
    func testTileZeroWorksThroughTheFarm() throws {
        let (result, _) = try restore(["--model", "realesr-animevideov3", "--scale", "2", "--tile", "0", "--preset", "ultrafast"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let probe = try Fixtures.probe(dir.appendingPathComponent("out.mp4").path, stream: "v:0")
        XCTAssertEqual(probe["width"], "128")
    }

    /// `--threads 100000` started hundreds of threads and failed in the decoder; `--workers 12` started 12 processes
    /// for one segment. Both are capped, with a note (workers at the segment count, or at the cores while it is unknown).
    func testThreadsAndWorkersAreCapped() throws {
        let (result, _) = try restore(["--model", "lanczos", "--preset", "ultrafast", "--threads", "100000", "--workers", "12"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssert(result.stderr.contains("note: --threads 100000 lowered to"), result.stderr)
        // A film cut from its packets streams: its segment count is not known when the workers start, so the cap is the cores.
        XCTAssert(result.stderr.contains("local worker(s), not "), result.stderr) // (12 is first lowered to 4 per core)
    }

    /// A crafted shot list: 10¹² frames made the coordinator abort allocating 6.5 GB, 10⁶ took 29 s and 1.9 GB before
    /// an "Internal error", and broken lists were reported as "for another input". Now each is refused at once.
    func testCraftedShotListsAreRefusedAtOnce() throws {
        let identity = try JobKeys.inputIdentity(path: film.path)
        func shots(_ frames: Int, boundaries: [ShotBoundary] = []) throws -> String {
            let list = ShotList(frameCount: frames, rate: Rational(25), settings: ShotDetectorSettings(), boundaries: boundaries, input: identity)
            var data = try JSONEncoder().encode(list)
            if frames < 0 { data = Data("{\"not\": \"a shot list\"}".utf8) }
            let url = dir.appendingPathComponent("shots-\(frames).json")
            try data.write(to: url)
            return url.lastPathComponent
        }
        let cases: [(String, String)] = [
            (try shots(1_000_000_000_000), "frame count 1000000000000"),
            (try shots(1_000_000), "lists 1000000 frames, but the input's duration implies about"),
            (try shots(-1), "is not a shot list"),
            (try shots(10, boundaries: [ShotBoundary(frame: 20, score: 1)]), "outside 1..<10"),
        ]
        for (file, message) in cases {
            let (result, seconds) = try restore(["--model", "lanczos", "--shots", file])
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssert(result.stderr.contains(message), "\(file): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("for another input"), result.stderr)
            XCTAssertLessThan(seconds, 10)
        }
        // A good list for this input (from `shots --json`) is used.
        let made = try Fixtures.runProduct("lumiere-coordinator", ["shots", "film.mp4", "--json", "-o", "good.json"], in: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
        let (result, _) = try restore(["--model", "lanczos", "--preset", "ultrafast", "--shots", "good.json", "--log-level", "info"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssert(result.stderr.contains("shots: reusing"), result.stderr)
    }
}
