import Coordinator
import Foundation
import TestSupport
import XCTest

/// Issue 18's "done when" for item 1, with the real executables: two films submitted to one `serve`, three
/// `lumiere-worker` processes connected once, one job paused mid-way and resumed, the service kill -9'd mid-queue and
/// started again: both outputs are byte-identical to single `restore` runs of the same settings, and no segment the
/// journal held is restored again (the resumed runs' plans restore at most what the journals lacked).
final class ServiceEndToEndTests: XCTestCase {
    private var dir: URL!
    private var processes: LoggedProcesses!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("service-e2e")
        processes = LoggedProcesses(in: dir)
    }

    override func tearDownWithError() throws {
        processes?.stopAll()
        try? FileManager.default.removeItem(at: dir)
    }

    func testTwoFilmsPauseResumeAndKilledServiceGiveRestoresBytes() throws {
        let films = [try clip("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv", "calais"), try clip("video/carphone_pristine.mp4", "carphone")]
        // References: each film by a plain `restore` with its own local workers.
        var references: [Data] = []
        for (index, film) in films.enumerated() {
            let output = dir.appendingPathComponent("reference-\(index).mp4")
            let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", film.path, "-o", output.path] + settings
                                                 + ["--job-dir", dir.appendingPathComponent("reference-job-\(index)").path, "--workers", "2"], timeout: 300)
            XCTAssertEqual(result.status, 0, result.stderr)
            references.append(try Data(contentsOf: output))
        }

        let state = dir.appendingPathComponent("state")
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        _ = try launch("lumiere-coordinator", serveArguments(state, endpoint), log: "serve-1.log")
        XCTAssertTrue(waitFor(30) { FileManager.default.fileExists(atPath: state.appendingPathComponent("control.sock").path) }, log("serve-1.log"))
        for name in ["w1", "w2", "w3"] {
            _ = try launch("lumiere-worker", ["--connect", endpoint, "--threads", "1", "--name", name, "--log-level", "info",
                                              "--work-dir", dir.appendingPathComponent("scratch-\(name)").path], log: "\(name).log")
        }

        // Two jobs, relative paths from the submitter's directory (the service resolves them against it).
        var ids: [Int] = []
        for (index, film) in films.enumerated() {
            let submitted = try Fixtures.runProduct("lumiere-coordinator", ["submit", film.lastPathComponent, "-o", "out-\(index).mp4"] + settings
                                                    + ["--job-dir", "job-\(index)", "--state-dir", state.path], in: dir, captureStdout: true)
            XCTAssertEqual(submitted.status, 0, submitted.stderr)
            ids.append(try XCTUnwrap(Int(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), submitted.stdout))
        }
        let journals = (0..<2).map { dir.appendingPathComponent("job-\($0)/journal.json") }

        // Pause the first mid-way: the second (running beside it, two slots by default) keeps the farm to itself.
        XCTAssertTrue(waitFor(240) { journalEntries(journals[0]) >= 1 }, "job 1 journaled nothing: \(log("serve-1.log").suffix(3000))")
        XCTAssertEqual(try control(["pause", "\(ids[0])", "--state-dir", state.path]).status, 0)
        XCTAssertTrue(waitFor(120) { jobState(state, ids[0]) == "paused" }, "job 1 never paused: \(log("serve-1.log").suffix(3000))")
        let pausedWith = journalEntries(journals[0])
        XCTAssertTrue(waitFor(60) { jobState(state, ids[1]) == "running" })
        let table = try control(["jobs", "--state-dir", state.path], stdout: true)
        XCTAssertTrue(table.stdout.hasPrefix("ID  STATE"), table.stdout)
        XCTAssertTrue(table.stdout.contains("paused") && table.stdout.contains("out-0.mp4"), table.stdout)

        // Kill the service mid-queue (job 2 part done, job 1 paused) and start it again on the same state directory.
        XCTAssertTrue(waitFor(240) { journalEntries(journals[1]) >= 1 }, "job 2 journaled nothing: \(log("serve-1.log").suffix(3000))")
        let first = processes.all[0]
        XCTAssertEqual(kill(first.processIdentifier, SIGKILL), 0)
        first.waitUntilExit()
        let killedWith = journalEntries(journals[1])
        XCTAssertGreaterThanOrEqual(killedWith, 1)
        _ = try launch("lumiere-coordinator", serveArguments(state, endpoint), log: "serve-2.log")
        XCTAssertTrue(waitFor(300) { jobState(state, ids[1]) == "done" }, "job 2 did not finish after the restart: \(log("serve-2.log").suffix(3000))")
        XCTAssertEqual(jobState(state, ids[0]), "paused", "a pause survives the restart")

        XCTAssertEqual(try control(["resume", "\(ids[0])", "--state-dir", state.path]).status, 0)
        XCTAssertTrue(waitFor(300) { jobState(state, ids[0]) == "done" }, "job 1 did not finish: \(log("serve-2.log").suffix(3000))")
        let listing = try control(["jobs", "--json", "--state-dir", state.path], stdout: true)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [[String: Any]], listing.stdout)
        XCTAssertEqual(rows.compactMap { $0["state"] as? String }, ["done", "done"])
        XCTAssertEqual(rows.compactMap { $0["progress"] as? String }, ["100%", "100%"])

        for index in 0..<2 {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("out-\(index).mp4")), references[index],
                           "job \(ids[index])'s output differs from `restore`'s")
        }
        // The resumed runs: the plan line of each job's last run restores no segment its journal held.
        for (index, journaled) in [(0, pausedWith), (1, killedWith)] {
            let plan = try XCTUnwrap(lastPlan(log("serve-2.log"), job: ids[index]), "job \(ids[index])'s resumed plan is logged: \(log("serve-2.log").suffix(3000))")
            XCTAssertLessThanOrEqual(plan.toRestore, plan.segments - journaled,
                                     "job \(ids[index]): \(journaled) journaled segments, yet \(plan.toRestore) of \(plan.segments) restored again")
            print("service: job \(ids[index]) \(index == 0 ? "paused" : "killed") with \(journaled) of \(plan.segments) segments journaled; resumed restoring \(plan.toRestore)")
        }
        // Workers connect once: each registered once with the first service (kept from job to job), and once with the
        // second (they reconnect by themselves after the kill; nobody restarted them).
        for name in ["w1", "w2", "w3"] { XCTAssertTrue(processes.all.first { $0.arguments?.contains(name) == true }?.isRunning == true, "\(name) exited") }
        XCTAssertEqual(registrations(log("serve-1.log")), 3, log("serve-1.log"))
        XCTAssertEqual(registrations(log("serve-2.log")), 3, log("serve-2.log"))
    }

    /// Issue 18's "segments of several jobs are interleaved by priority, fairly": two films of equal priority on one
    /// `serve` with three real workers share the farm — both jobs get segments before either finishes, the farm's
    /// assignments alternate between them — and both outputs are byte-identical to single `restore` runs.
    func testTwoEqualJobsShareTheFarmAndGiveRestoresBytes() throws {
        let films = [try clip("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv", "calais"), try clip("video/carphone_pristine.mp4", "carphone")]
        let plain = ["--scale", "2", "--model", "lanczos", "--codec", "h264", "--preset", "ultrafast", "--crf", "18", "--segment-seconds", "0.5", "--quiet"]
        var references: [Data] = []
        for (index, film) in films.enumerated() {
            let output = dir.appendingPathComponent("reference-\(index).mp4")
            let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", film.path, "-o", output.path] + plain
                                                 + ["--job-dir", dir.appendingPathComponent("reference-job-\(index)").path, "--workers", "2"], timeout: 300)
            XCTAssertEqual(result.status, 0, result.stderr)
            references.append(try Data(contentsOf: output))
        }

        let state = dir.appendingPathComponent("state")
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        _ = try launch("lumiere-coordinator", serveArguments(state, endpoint), log: "serve.log")
        XCTAssertTrue(waitFor(30) { FileManager.default.fileExists(atPath: state.appendingPathComponent("control.sock").path) }, log("serve.log"))
        var ids: [Int] = []
        for (index, film) in films.enumerated() {
            let submitted = try Fixtures.runProduct("lumiere-coordinator", ["submit", film.path, "-o", dir.appendingPathComponent("out-\(index).mp4").path]
                                                    + plain + ["--state-dir", state.path], captureStdout: true)
            XCTAssertEqual(submitted.status, 0, submitted.stderr)
            ids.append(try XCTUnwrap(Int(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), submitted.stdout))
        }
        // Both jobs run at once (two slots by default) and reach the farm before any worker comes, so that the order of
        // assignments is the scheduler's policy, not the order in which the films happened to be analysed.
        XCTAssertTrue(waitFor(120) { ids.allSatisfy { log("serve.log").contains("job \($0) joins the farm") } }, log("serve.log").suffix(3000).description)
        for name in ["w1", "w2", "w3"] {
            _ = try launch("lumiere-worker", ["--connect", endpoint, "--threads", "1", "--name", name, "--log-level", "info",
                                              "--work-dir", dir.appendingPathComponent("scratch-\(name)").path], log: "\(name).log")
        }
        XCTAssertTrue(waitFor(300) { ids.allSatisfy { jobState(state, $0) == "done" } }, log("serve.log").suffix(3000).description)
        for index in 0..<2 {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("out-\(index).mp4")), references[index],
                           "job \(ids[index])'s output differs from `restore`'s")
        }

        // The farm's log: which job each assignment went to, and where each job ended.
        let lines = log("serve.log").split(separator: "\n")
        let assigned = lines.compactMap { line in ids.first { line.contains("job \($0): assigning segment ") } }
        let ended = ids.map { id in lines.firstIndex { $0.contains("job \(id) ended: completed") } }
        let firstAssigned = ids.map { id in lines.firstIndex { $0.contains("job \(id): assigning segment ") } }
        let firstEnd = try XCTUnwrap(ended.compactMap { $0 }.min(), "both jobs ended: \(lines.suffix(20))")
        for (index, first) in firstAssigned.enumerated() {
            XCTAssertLessThan(try XCTUnwrap(first, "job \(ids[index]) got no segment"), firstEnd, "job \(ids[index]) got its first segment only after a job had finished")
        }
        print("service: assignments by job: \(assigned.map(String.init).joined(separator: " "))")
        // Equal priorities share the workers: the first assignments (3 workers, both jobs pending) go to both jobs.
        XCTAssertEqual(Set(assigned.prefix(3)), Set(ids), "the first three assignments: \(assigned.prefix(3))")
        // While both had segments pending, neither job took more than three assignments in a row (a free worker goes
        // to the job with fewer leases, ties to the one served longest ago: the policy alternates them).
        let segments = ids.map { id in assigned.filter { $0 == id }.count }
        let overlap = 2 * segments.min()!
        var run = 1, longest = 1
        for i in 1..<min(overlap, assigned.count) {
            run = assigned[i] == assigned[i - 1] ? run + 1 : 1
            longest = max(longest, run)
        }
        XCTAssertLessThanOrEqual(longest, 3, "assignments by job: \(assigned)")
    }

    /// A restore option `restore` refuses is refused by `submit` with the same message and exit status, and nothing is queued.
    func testSubmitRefusesABadOptionExactlyAsRestoreDoes() throws {
        let film = try clip("video/carphone_pristine.mp4", "carphone")
        let state = dir.appendingPathComponent("state")
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        _ = try launch("lumiere-coordinator", serveArguments(state, endpoint), log: "serve.log")
        XCTAssertTrue(waitFor(30) { FileManager.default.fileExists(atPath: state.appendingPathComponent("control.sock").path) }, log("serve.log"))
        for bad in [["--preset", "warp9"], ["--scale", "many"], ["--tile", "7"]] {
            let args = [film.path, "-o", dir.appendingPathComponent("x.mp4").path] + bad
            let restore = try Fixtures.runProduct("lumiere-coordinator", ["restore"] + args)
            let submit = try Fixtures.runProduct("lumiere-coordinator", ["submit"] + args + ["--state-dir", state.path])
            XCTAssertNotEqual(restore.status, 0)
            XCTAssertEqual(submit.status, restore.status, "\(bad): \(submit.stderr)")
            XCTAssertEqual(submit.stderr.split(separator: "\n").first, restore.stderr.split(separator: "\n").first, "\(bad)")
        }
        XCTAssertEqual(try Fixtures.runProduct("lumiere-coordinator", ["submit", film.path, "-o", "y.mp4", "--bind", "tcp://*:1", "--state-dir", state.path]).status, 1)
        let listing = try control(["jobs", "--json", "--state-dir", state.path], stdout: true)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [Any], listing.stdout)
        XCTAssertEqual(rows.count, 0, "nothing was queued: \(listing.stdout)")
        // No service: a sentence that says how to start one.
        let none = try Fixtures.runProduct("lumiere-coordinator", ["jobs", "--state-dir", dir.appendingPathComponent("nowhere").path])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("lumiere-coordinator serve --state-dir"), none.stderr)
        // A second service on the same state directory is refused.
        let second = try Fixtures.runProduct("lumiere-coordinator", serveArguments(state, "tcp://127.0.0.1:\(try freePort())"), timeout: 30)
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.stderr.contains("already running"), second.stderr)
        var info = stat()
        XCTAssertEqual(lstat(state.path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        XCTAssertEqual(lstat(state.appendingPathComponent("control.sock").path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
    }

    /// One endpoint for the life of the service (issue 18 items 2, 3): served before any job, it shows the queue — the
    /// running job in its phase, the queued one, and a paused one no longer counted as waiting — in `/metrics` (what the
    /// alert "throughput at zero while jobs are queued" reads) and in the web page's `/farm.json`. No workers: the
    /// running job waits on the farm, which is all this needs.
    func testOneEndpointServesTheQueueForTheLifeOfTheService() throws {
        let film = try clip("video/carphone_pristine.mp4", "carphone")
        let state = dir.appendingPathComponent("state")
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        _ = try launch("lumiere-coordinator", serveArguments(state, endpoint) + ["--metrics-port", "0", "--running-jobs", "1"], log: "serve.log")
        XCTAssertTrue(waitFor(30) { servedPort(log("serve.log")) != nil && FileManager.default.fileExists(atPath: state.appendingPathComponent("control.sock").path) },
                      log("serve.log"))
        let http = try StatusClient.Endpoint(parsing: "127.0.0.1:\(try XCTUnwrap(servedPort(log("serve.log"))))")
        func metrics() -> String { (try? StatusClient.get(http, path: "/metrics")).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        func jobs(_ state: String) -> Double? { sample(metrics(), "lumiere_jobs{state=\"\(state)\"}") }
        XCTAssertEqual(jobs("running"), 0, "served before any job: \(metrics())")
        XCTAssertEqual(jobs("queued"), 0)

        var ids: [Int] = []
        for index in 0..<2 {
            let submitted = try Fixtures.runProduct("lumiere-coordinator", ["submit", film.path, "-o", dir.appendingPathComponent("out-\(index).mp4").path] + settings
                                                    + ["--state-dir", state.path], captureStdout: true)
            XCTAssertEqual(submitted.status, 0, submitted.stderr)
            ids.append(try XCTUnwrap(Int(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), submitted.stdout))
        }
        XCTAssertTrue(waitFor(60) { jobs("running") == 1 && jobs("queued") == 1 }, metrics())
        let text = metrics()
        XCTAssertNotNil(text.split(separator: "\n").first { $0.hasPrefix("lumiere_job_info{") && $0.contains("job_id=\"\(ids[1])\"") && $0.contains("model=\"lanczos\"") },
                        "the queued job's info: \(text)")
        XCTAssertTrue(waitFor(60) { sample(metrics(), "lumiere_phase{job_id=\"\(ids[0])\",phase=\"farm\"}") == 1 }, "the running job reaches the farm: \(metrics())")
        let page = try JSONSerialization.jsonObject(with: StatusClient.get(http, path: "/farm.json")) as? [String: Any]
        let rows = try XCTUnwrap(page?["jobs"] as? [[String: Any]], "\(String(describing: page))")
        XCTAssertEqual(rows.map { $0["id"] as? String }, ids.map { "\($0)" }, "\(rows)")
        XCTAssertEqual(rows.last?["phase"] as? String, "queued", "\(rows)")

        // A paused job is not waiting for the farm.
        XCTAssertEqual(try control(["pause", "\(ids[1])", "--state-dir", state.path]).status, 0)
        XCTAssertTrue(waitFor(30) { jobs("queued") == 0 && jobs("running") == 1 }, metrics())
    }

    // MARK: fixtures

    /// Retimed 15/30 → 24 fps with RIFE (as the farm fault tests): segments take long enough to pause a job mid-way.
    private let settings = ["--scale", "2", "--model", "lanczos", "--codec", "h264", "--preset", "ultrafast", "--crf", "18",
                            "--segment-seconds", "0.5", "--fps", "24", "--interp", "rife-v4.0", "--quiet"]

    private func serveArguments(_ state: URL, _ endpoint: String) -> [String] {
        ["serve", "--state-dir", state.path, "--bind", endpoint, "--log-level", "info"]
    }

    /// 3 s of a film as FFV1 (no audio), in the test's directory.
    private func clip(_ footage: String, _ name: String) throws -> URL {
        let source = try Fixtures.requireFootage(footage)
        let clip = dir.appendingPathComponent("\(name).mkv")
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", source, "-t", "3", "-c:v", "ffv1", "-an", clip.path])
        return clip
    }

    private func control(_ arguments: [String], stdout: Bool = false) throws -> Fixtures.CommandResult {
        try Fixtures.runProduct("lumiere-coordinator", arguments, timeout: 60, captureStdout: stdout)
    }

    private func launch(_ product: String, _ arguments: [String], log: String) throws -> Process {
        try processes.launch(product, arguments, log: log)
    }

    /// The port in the service's "monitoring: http://127.0.0.1:PORT/ …" line.
    private func servedPort(_ log: String) -> Int? {
        guard let range = log.range(of: "monitoring: http://127.0.0.1:") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    /// The value of the series `name{labels}` in a Prometheus text exposition.
    private func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    private func registrations(_ log: String) -> Int { log.split(separator: "\n").filter { $0.contains(" registered: ") }.count }

    private func log(_ name: String) -> String { processes.log(name) }

    private func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        Fixtures.waitFor(seconds, every: 0.05, condition)
    }

    /// A job's state in the service's queue file (what `jobs` reads through the service).
    private func jobState(_ state: URL, _ id: Int) -> String? {
        guard let data = try? Data(contentsOf: state.appendingPathComponent("queue.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let jobs = object["jobs"] as? [[String: Any]] else { return nil }
        return jobs.first { $0["id"] as? Int == id }?["state"] as? String
    }

    private func journalEntries(_ url: URL) -> Int {
        guard let data = try? Data(contentsOf: url),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let entries = object["entries"] as? [String: Any] else { return 0 }
        return entries.count
    }

    /// "N segments, K to restore" from the last plan line the service logged for `job`.
    private func lastPlan(_ log: String, job: Int) -> (segments: Int, toRestore: Int)? {
        let line = log.split(separator: "\n").last { $0.contains("job=\(job)") && $0.contains("to restore") }
        guard let line, let range = line.range(of: #"\d+ segments, \d+ to restore"#, options: .regularExpression) else { return nil }
        let numbers = line[range].split(separator: " ").compactMap { Int($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }

    private func freePort() throws -> Int { try Fixtures.freeLoopbackPort() }
}
