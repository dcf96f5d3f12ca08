import Coordinator
import Foundation
import TestSupport
import XCTest

/// Issue 18 item 3: cluster/monitoring/ works out of the box — the rules and the example config pass `promtool`, the
/// rules' unit tests make every alert fire, the dashboard and the rules name only series the coordinator exports, and
/// a real Prometheus scrapes a real running `restore` and answers a query through its HTTP API.
final class MonitoringConfigTests: XCTestCase {
    private static let repositoryRoot = Fixtures.repositoryRoot
    private static let folder = repositoryRoot.appendingPathComponent("cluster/monitoring")
    private static func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// Debian's `prometheus` package (scripts/setup.sh installs it): missing, the test skips here and fails in CI.
    private func requireTool(_ name: String) throws -> String {
        let path = "/usr/bin/\(name)"
        try Fixtures.require(FileManager.default.isExecutableFile(atPath: path), "\(name) not installed (apt-get install prometheus)")
        return path
    }

    private func promtool(_ arguments: [String]) throws -> String {
        let tool = try requireTool("promtool")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = Self.folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "promtool \(arguments.joined(separator: " ")):\n\(text)")
        return text
    }

    func testPromtoolChecksTheRulesAndTheExampleConfig() throws {
        let rules = try promtool(["check", "rules", "lumiere-alerts.yml"])
        XCTAssert(rules.contains("SUCCESS: \(Self.alertNames().count) rules found"), rules)
        let config = try promtool(["check", "config", "prometheus.yml"])
        XCTAssert(config.contains("SUCCESS: prometheus.yml is valid"), config)
        XCTAssert(config.contains("SUCCESS: 1 rule files found"), config)
    }

    /// `promtool test rules`: each alert fires on the series in lumiere-alerts.test.yml (and not before its `for`).
    /// Every alert of the rules file has a test there, so a new alert cannot go untested.
    func testEveryAlertFiresInThePromtoolUnitTests() throws {
        let output = try promtool(["test", "rules", "lumiere-alerts.test.yml"])
        XCTAssert(output.contains("SUCCESS"), output)
        let tests = try String(contentsOf: Self.file("lumiere-alerts.test.yml"), encoding: .utf8)
        let names = Self.alertNames()
        XCTAssertEqual(names.count, 5, "\(names)")
        for name in names { XCTAssert(tests.contains("alertname: \(name)\n        exp_alerts:\n          - exp_labels"), "\(name) is shown firing") }
    }

    /// Every metric name the dashboard's queries and the alert rules use is one `/metrics` serves (taken from a real
    /// rendering with a worker and a job, so renaming a series fails here), and every dashboard query uses one.
    func testDashboardAndRulesNameOnlyExportedMetrics() throws {
        let exported = Self.exportedNames()
        for name in ["lumiere_phase", "lumiere_job_info", "lumiere_jobs", "lumiere_job_dir_bytes", "lumiere_job_dir_free_bytes",
                     "lumiere_worker_state", "lumiere_frames_processed_total", "lumiere_worker_fps"] {
            XCTAssert(exported.contains(name), "\(name) not in \(exported.sorted())")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.file("lumiere-dashboard.json"))) as? [String: Any]
        let dashboard = try XCTUnwrap(json, "the dashboard is a JSON object")
        XCTAssertEqual(dashboard["uid"] as? String, "lumiere-farm")
        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]])
        var exprs: [String] = []
        Self.collect("expr", in: dashboard, into: &exprs)
        XCTAssertGreaterThanOrEqual(exprs.count, panels.count, "every panel has a query")
        var used: Set<String> = []
        for expr in exprs {
            let names = Self.metricNames(in: expr)
            XCTAssertFalse(names.isEmpty, "a dashboard query names a Lumière series: \(expr)")
            used.formUnion(names)
        }
        let rules = try String(contentsOf: Self.file("lumiere-alerts.yml"), encoding: .utf8)
        let ruleNames = Self.metricNames(in: rules)
        XCTAssertFalse(ruleNames.isEmpty)
        XCTAssertEqual(used.union(ruleNames).subtracting(exported), [], "names nothing serves; exported: \(exported.sorted())")
        // The dashboard shows what the issue asks for: the phase, the disk, workers by device, per-worker fps.
        for name in ["lumiere_phase", "lumiere_job_dir_free_bytes", "lumiere_worker_state", "lumiere_worker_fps", "lumiere_eta_seconds",
                     "lumiere_worker_failures_total", "lumiere_retries_total", "lumiere_bytes_transferred_total"] {
            XCTAssert(used.contains(name), "the dashboard shows \(name)")
        }
    }

    /// The real thing: `restore --metrics-port 0` waiting for remote workers (so it stays in its farm phase as long as
    /// the test needs), a real `prometheus` scraping it every second, and a query through Prometheus's HTTP API that
    /// finds the job running in the farm phase. Then SIGTERM: the job stops resumably with status 143.
    func testPrometheusScrapesARunningRestore() throws {
        let prometheus = try requireTool("prometheus")
        _ = try XCTUnwrap(Fixtures.useBuiltWorker(), "lumiere-worker must be built")
        let dir = try Fixtures.temporaryDirectory("prometheus-scrape")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("clip.mp4")
        try Fixtures.syntheticClip(at: clip.path, seconds: 2, size: "160x120", rate: "25",
                                   videoCodec: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        let announced = DispatchSemaphore(value: 0)
        let port = LockedPort()
        let restore = BackgroundProduct("lumiere-coordinator", ["restore", clip.path, "-o", "out.mp4", "--model", "lanczos", "--scale", "1",
                                                                "--workers", "0", "--bind", "ipc://\(dir.path)/farm.sock", "--segment-seconds", "1",
                                                                "--metrics-port", "0", "--status", "off"], in: dir, timeout: 180) { text in
            if port.value == nil, let found = MonitoringConfigTests.announcedPort(text) { port.set(found); announced.signal() }
        }
        defer { restore.send(SIGKILL); _ = try? restore.wait() }
        XCTAssertEqual(announced.wait(timeout: .now() + 60), .success, "the restore announced its metrics port")
        let target = try XCTUnwrap(port.value)

        let prometheusPort = try Self.freePort()
        let config = dir.appendingPathComponent("prometheus.yml")
        try """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        scrape_configs:
          - job_name: lumiere
            static_configs: [{targets: ["127.0.0.1:\(target)"]}]
        """.write(to: config, atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: prometheus)
        server.arguments = ["--config.file=\(config.path)", "--storage.tsdb.path=\(dir.appendingPathComponent("tsdb").path)",
                            "--web.listen-address=127.0.0.1:\(prometheusPort)", "--log.level=warn"]
        let log = dir.appendingPathComponent("prometheus.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        server.standardError = try FileHandle(forWritingTo: log)
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate(); server.waitUntilExit() } }

        // Poll the HTTP API until the scrapes show the job in its farm phase (Prometheus starts, then scrapes each second).
        let api = try StatusClient.Endpoint(parsing: "127.0.0.1:\(prometheusPort)")
        var answer: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            answer = (try? Self.query(api, "lumiere_phase{phase=\"farm\"} == 1 and on(job_id) lumiere_job_info{model=\"lanczos\"}")) ?? []
            if !answer.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        let logText = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(answer.count, 1, "Prometheus answered the query (its log: \(logText.suffix(1500)))")
        let metric = answer.first?["metric"] as? [String: String]
        XCTAssertEqual(metric?["job_id"], "out.mp4.lumiere-job")
        XCTAssertEqual(metric?["job"], "lumiere", "the scrape job's label")
        XCTAssertEqual(metric?["instance"], "127.0.0.1:\(target)")
        let running = try Self.query(api, "lumiere_jobs{state=\"running\"}")
        XCTAssertEqual((running.first?["value"] as? [Any])?.last as? String, "1")
        let pending = try Self.query(api, "lumiere_segments{state=\"pending\"} > 0")
        XCTAssertEqual(pending.count, 1, "segments wait for a worker")

        // No worker ever came: SIGTERM stops the job resumably (status 143), the job directory kept.
        restore.send(SIGTERM)
        let result = try restore.wait()
        XCTAssertEqual(result.status, StopSignal.terminatedExitCode, result.stderr)
        XCTAssert(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.mp4.lumiere-job").path), "kept to resume")
    }

    // MARK: Helpers

    /// `alert:` names in the rules file.
    static func alertNames() -> [String] {
        let rules = (try? String(contentsOf: file("lumiere-alerts.yml"), encoding: .utf8)) ?? ""
        return rules.split(separator: "\n").compactMap { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("- alert: ") ? String(t.dropFirst("- alert: ".count)) : nil
        }
    }

    /// Every metric family a coordinator serves: a rendering with workers in every state and a job with a directory.
    static func exportedNames() -> Set<String> {
        var snapshot = LiveViewTests.sampleSnapshot()
        snapshot.workers[1].state = .gone
        let job = JobInfo(id: "j", film: "f", output: "o", model: "m", device: "cpu", phase: "farm", directory: repositoryRoot.appendingPathComponent("cluster").path)
        let text = FarmMetrics(jobs: { JobList(running: [job]) }).render(snapshot)
        return Set(text.split(separator: "\n").compactMap { line in
            line.hasPrefix("# TYPE ") ? line.split(separator: " ").dropFirst(2).first.map(String.init) : nil
        })
    }

    /// `lumiere_…` identifiers in a PromQL expression (or a rules file).
    static func metricNames(in text: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: "lumiere_[a-z0-9_]+")
        let range = NSRange(text.startIndex..., in: text)
        return Set(regex.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
    }

    static func collect(_ key: String, in value: Any, into found: inout [String]) {
        if let object = value as? [String: Any] {
            for (k, v) in object { if k == key, let s = v as? String { found.append(s) } else { collect(key, in: v, into: &found) } }
        } else if let array = value as? [Any] {
            for v in array { collect(key, in: v, into: &found) }
        }
    }

    /// Prometheus's `/api/v1/query`: the vector result (throws on an error answer).
    static func query(_ api: StatusClient.Endpoint, _ promql: String) throws -> [[String: Any]] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = promql.addingPercentEncoding(withAllowedCharacters: allowed)!
        let body = try StatusClient.get(api, path: "/api/v1/query?query=\(encoded)")
        let json = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        guard json?["status"] as? String == "success", let data = json?["data"] as? [String: Any] else {
            throw FixtureError.toolFailed("prometheus query \(promql): \(String(decoding: body, as: UTF8.self))")
        }
        return data["result"] as? [[String: Any]] ?? []
    }

    static func announcedPort(_ stderr: String) -> UInt16? {
        guard let range = stderr.range(of: "monitoring: http://127.0.0.1:") else { return nil }
        return UInt16(stderr[range.upperBound...].prefix { $0.isNumber })
    }

    /// A port nothing listens on now (bound to 0, read back, closed).
    static func freePort() throws -> UInt16 { UInt16(try Fixtures.freeLoopbackPort()) }
}

private final class LockedPort: @unchecked Sendable {
    private let lock = NSLock()
    private var port: UInt16?
    func set(_ p: UInt16) { lock.lock(); port = p; lock.unlock() }
    var value: UInt16? { lock.lock(); defer { lock.unlock() }; return port }
}
