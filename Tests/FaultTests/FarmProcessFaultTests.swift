import Foundation
import TestSupport
import XCTest

/// The fast farm faults of issue 8 with the real executables: a coordinator (`restore --bind … --workers 0`)
/// and `lumiere-worker` processes restore 8 s of the 1906 film in half-second segments, retimed to 24 fps; a worker or the
/// coordinator is SIGKILLed mid-job; the final file must be byte-identical to a fault-free run.
final class FarmProcessFaultTests: XCTestCase {
    private var dir: URL!
    private var processes: LoggedProcesses!
    private static var clip: URL?
    private static var reference: Data?

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("farm-faults")
        processes = LoggedProcesses(in: dir)
    }

    override func tearDownWithError() throws {
        processes?.stopAll()
        try? FileManager.default.removeItem(at: dir)
    }

    // MARK: the faults

    func testWorkerSigkillMidSegmentGivesIdenticalOutput() throws {
        let reference = try referenceOutput()
        let endpoint = "tcp://127.0.0.1:\(try Self.freePort())"
        let output = dir.appendingPathComponent("worker-kill.mp4")
        let coordinator = try startCoordinator(output: output, job: dir.appendingPathComponent("job"), endpoint: endpoint, log: "coordinator.log")
        let victim = try startWorker("victim", endpoint: endpoint)
        _ = try startWorker("steady", endpoint: endpoint)
        XCTAssertTrue(waitFor(30) { self.log("victim.log").contains("assigned ") }, "the victim never got a lease")
        XCTAssertEqual(kill(victim.processIdentifier, SIGKILL), 0)
        XCTAssertTrue(waitFor(120) { !coordinator.isRunning }, "the job did not finish")
        XCTAssertEqual(coordinator.terminationStatus, 0, log("coordinator.log"))
        victim.waitUntilExit()
        XCTAssertEqual(victim.terminationReason, .uncaughtSignal)
        XCTAssertTrue(log("coordinator.log").contains("gone"), "the coordinator noticed the dead worker")
        XCTAssertEqual(try Data(contentsOf: output), reference, "output differs from the fault-free run")
    }

    func testCoordinatorSigkillThenSameCommandResumesWithIdenticalOutput() throws {
        let reference = try referenceOutput()
        let endpoint = "tcp://127.0.0.1:\(try Self.freePort())"
        let output = dir.appendingPathComponent("coordinator-kill.mp4")
        let job = dir.appendingPathComponent("job")
        let first = try startCoordinator(output: output, job: job, endpoint: endpoint, log: "first.log")
        for name in ["w1", "w2"] { _ = try startWorker(name, endpoint: endpoint) }
        let journal = job.appendingPathComponent("journal.json")
        XCTAssertTrue(waitFor(60) { Self.journalEntries(journal) >= 2 }, "no results journaled")
        XCTAssertEqual(kill(first.processIdentifier, SIGKILL), 0)
        first.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "no output after a killed coordinator")
        let journaled = Self.journalEntries(journal)
        XCTAssertGreaterThanOrEqual(journaled, 2, "the journal survives the kill and still parses")

        // The same command again, on the same endpoint: the workers still running reconnect to it.
        let second = try startCoordinator(output: output, job: job, endpoint: endpoint, log: "second.log")
        XCTAssertTrue(waitFor(120) { !second.isRunning }, "the resumed job did not finish")
        XCTAssertEqual(second.terminationStatus, 0, log("second.log"))
        let plan = try XCTUnwrap(log("second.log").range(of: #"\d+ segments, \d+ to restore"#, options: .regularExpression)
            .map { String(log("second.log")[$0]) }, "the resumed run states its plan")
        let numbers = plan.split(separator: " ").compactMap { Int($0) }
        XCTAssertEqual(numbers.count, 2, plan)
        XCTAssertLessThan(numbers[1], numbers[0], "journaled segments are reused, not redone: \(plan)")
        XCTAssertLessThanOrEqual(numbers[1], numbers[0] - journaled, plan)
        XCTAssertEqual(try Data(contentsOf: output), reference, "output differs from the fault-free run")
    }

    // MARK: fixtures

    /// 8 s of the 1906 film (120 frames, 214x160): 16 segments of half a second.
    private func inputClip() throws -> URL {
        if let clip = Self.clip, FileManager.default.fileExists(atPath: clip.path) { return clip }
        let film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let clip = FileManager.default.temporaryDirectory.appendingPathComponent("fault-clip-\(getpid()).mkv")
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", film, "-t", "8", "-c:v", "ffv1", "-an", clip.path])
        Self.clip = clip
        return clip
    }

    /// The fault-free run: the local default (coordinator + its own workers over the same protocol).
    private func referenceOutput() throws -> Data {
        if let reference = Self.reference { return reference }
        let output = dir.appendingPathComponent("reference.mp4")
        let process = try launch(try binary("lumiere-coordinator"),
                                 restoreArguments(output: output, job: dir.appendingPathComponent("reference-job")) + ["--workers", "2"],
                                 log: "reference.log")
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, log("reference.log"))
        XCTAssertEqual(try Fixtures.probe(output.path, stream: "v:0")["nb_read_frames"], "192", "8 s at 24 fps")
        let data = try Data(contentsOf: output)
        Self.reference = data
        return data
    }

    private func restoreArguments(output: URL, job: URL) throws -> [String] {
        ["restore", try inputClip().path, "-o", output.path, "--scale", "2", "--model", "lanczos", "--codec", "h264",
         "--preset", "ultrafast", "--crf", "18", "--segment-seconds", "0.5", "--job-dir", job.path, "--log-level", "info", "--quiet",
         // Retimed 15 → 24 fps with RIFE: the most involved worker path (interpolation, timing, overlaps in output frames).
         "--fps", "24", "--interp", "rife-v4.0"]
    }

    private func startCoordinator(output: URL, job: URL, endpoint: String, log: String) throws -> Process {
        try launch(try binary("lumiere-coordinator"), try restoreArguments(output: output, job: job) + ["--bind", endpoint, "--workers", "0"], log: log)
    }

    private func startWorker(_ name: String, endpoint: String) throws -> Process {
        try launch(try binary("lumiere-worker"), ["--connect", endpoint, "--threads", "1", "--name", name, "--log-level", "info",
                                                  "--work-dir", dir.appendingPathComponent("scratch-\(name)").path], log: "\(name).log")
    }

    private func launch(_ binary: URL, _ arguments: [String], log: String) throws -> Process {
        try processes.launch(executable: binary, arguments, log: log)
    }

    private func binary(_ name: String) throws -> URL {
        let url = Fixtures.productsDirectory.appendingPathComponent(name)
        try Fixtures.require(FileManager.default.isExecutableFile(atPath: url.path), "\(name) is not built at \(url.path); run `swift build` first")
        return url
    }

    private func log(_ name: String) -> String { processes.log(name) }

    private func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        Fixtures.waitFor(seconds, every: 0.02, condition)
    }

    private static func journalEntries(_ url: URL) -> Int {
        guard let data = try? Data(contentsOf: url),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let entries = object["entries"] as? [String: Any] else { return -1 }
        return entries.count
    }

    /// A port the kernel just handed out on loopback (closed again; the coordinator binds it next).
    private static func freePort() throws -> Int { try Fixtures.freeLoopbackPort() }
}
