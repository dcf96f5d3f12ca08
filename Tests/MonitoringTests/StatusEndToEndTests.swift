import Coordinator
import Foundation
import Logging
import Shared
import Worker
import TestSupport
import XCTest

/// A real farm job (ZeroMQ over loopback, simulated processor on 3 worker threads) with the HTTP status server:
/// `/status.json` and `/metrics` are read mid-job and checked against the coordinator's own state.
final class StatusEndToEndTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("monitoring-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inputs"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    private func logger() -> Logger {
        var logger = Logger(label: "monitoring-test")
        logger.logLevel = .critical
        return logger
    }

    func testStatusAndMetricsMidJobMatchTheCoordinatorAndTheReportIsWritten() throws {
        let segmentCount = 12
        var specs: [SegmentSpec] = []
        for index in 0..<segmentCount {
            let id = SegmentID(SegmentIndex(index + 1))
            try Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* (index + 3)) })
                .write(to: root.appendingPathComponent("inputs/\(id).bin"))
            specs.append(SegmentSpec(id: id, inputFrameCount: UInt32(20 + index), expectedOutputFrames: UInt32(20 + index),
                                     expectedFrameSize: (64, 36)))
        }
        var configuration = FarmCoordinatorConfiguration(bindEndpoint: "tcp://127.0.0.1:*", workDirectory: root.appendingPathComponent("coordinator"))
        configuration.heartbeatInterval = 0.1
        configuration.liveness = 10
        let farm = FarmCoordinator(configuration: configuration, logger: logger())
        let endpoint = try farm.bind()
        defer { farm.close() }
        let server = try StatusServer(port: 0, snapshot: { farm.monitor.snapshot() })
        let port = try server.start()
        defer { server.stop() }
        XCTAssertGreaterThan(port, 0)

        var workers: [(FarmWorker, Thread)] = []
        for n in 1...3 {
            var c = FarmWorkerConfiguration(endpoint: endpoint,
                                            capabilities: WorkerCapabilities(workerName: "sim-\(n)", host: "host-\(n)", threads: 1, models: [], freeMemoryBytes: 1 << 30,
                                                                             device: Self.device(n)),
                                            workDirectory: root.appendingPathComponent("worker-\(n)"))
            c.timing.heartbeatInterval = 0.1
            c.timing.liveness = 10
            let worker = FarmWorker(configuration: c, processor: SimulatedSegmentProcessor(secondsPerSegment: 0.5), logger: logger())
            let thread = Thread { _ = try? worker.run() }
            thread.start()
            workers.append((worker, thread))
        }
        defer { for (worker, _) in workers { worker.requestShutdown() } }

        let root = self.root!
        let job = JobThread {
            try farm.run(segments: specs, inputs: { root.appendingPathComponent("inputs/\($0.id).bin") }, results: { _, _, _ in })
        }

        // Mid-job: some segments done, some not.
        let deadline = Date().addingTimeInterval(60)
        while farm.statistics.segmentsDone < 4 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let before = farm.monitor.snapshot()
        let status = try StatusClient.fetchStatus(StatusClient.Endpoint(parsing: "127.0.0.1:\(port)"))
        let metricsText = String(decoding: try StatusClient.get(StatusClient.Endpoint(parsing: "http://127.0.0.1:\(port)"), path: "/metrics"), as: UTF8.self)
        let cliStatus = try statusFromCommandLine(port: port)
        let after = farm.monitor.snapshot()
        XCTAssertLessThan(before.segments.done, segmentCount, "queried mid-job")

        for remote in [status] + (cliStatus.map { [$0] } ?? []) {
            XCTAssertEqual(remote.framesTotal, specs.reduce(0) { $0 + Int64($1.expectedOutputFrames) })
            XCTAssertEqual(remote.segments.total, segmentCount)
            XCTAssertTrue((before.segments.done...after.segments.done).contains(remote.segments.done), "\(remote.segments)")
            XCTAssertTrue((before.framesDone...after.framesDone).contains(remote.framesDone))
            XCTAssertEqual(remote.segments.pending + remote.segments.running + remote.segments.done, segmentCount)
            XCTAssertEqual(Set(remote.workers.map(\.name)), ["sim-1", "sim-2", "sim-3"])
            XCTAssertEqual(Set(remote.workers.map(\.host)), ["host-1", "host-2", "host-3"])
            for w in remote.workers { XCTAssertEqual(w.device, Self.device(Int(w.name.dropFirst(4))!), "the device the worker registered with") }
            XCTAssertGreaterThan(remote.workers.filter { $0.segment != nil }.count, 0, "someone is working: \(remote.workers)")
            for w in remote.workers {
                let mine = try XCTUnwrap(after.workers.first { $0.name == w.name })
                XCTAssertLessThanOrEqual(w.framesProcessed, mine.framesProcessed)
                XCTAssertLessThanOrEqual(w.segmentsCompleted, mine.segmentsCompleted)
            }
            XCTAssertGreaterThan(remote.outputFPS, 0)
            XCTAssertGreaterThan(remote.bytesSent, 0)
        }
        XCTAssertNotNil(cliStatus, "lumiere-coordinator status --json was not run (binary not built next to the tests)")

        // Metrics mid-job: every series present, values consistent with the coordinator's state.
        let m = MetricsAndPlotTests.parsePrometheus(metricsText)
        let v = { (name: String, labels: [String: String]) in MetricsAndPlotTests.value(m, name, labels) }
        let processed = try XCTUnwrap(v("lumiere_frames_processed_total", [:]), metricsText)
        XCTAssertTrue(Double(before.framesDone)...Double(after.framesDone) ~= processed)
        XCTAssertGreaterThan(processed, 0)
        for state in ["pending", "running", "done", "failed"] { XCTAssertNotNil(v("lumiere_segments", ["state": state]), state) }
        let segmentSum = ["pending", "running", "done"].compactMap { v("lumiere_segments", ["state": $0]) }.reduce(0, +)
        XCTAssertEqual(segmentSum, Double(segmentCount))
        XCTAssertEqual(v("lumiere_queue_depth", [:]), v("lumiere_segments", ["state": "pending"]))
        XCTAssertEqual(v("lumiere_retries_total", [:]), 0)
        XCTAssertGreaterThan(try XCTUnwrap(v("lumiere_bytes_transferred_total", ["direction": "to_workers"])), 0)
        XCTAssertNotNil(v("lumiere_bytes_transferred_total", ["direction": "from_workers"]))
        XCTAssertGreaterThan(try XCTUnwrap(v("lumiere_output_fps", [:])), 0)
        var fpsSum = 0.0
        for n in 1...3 {
            let worker = ["worker": "sim-\(n)"]
            let fps = try XCTUnwrap(v("lumiere_worker_fps", worker), "sim-\(n)")
            XCTAssertNotNil(v("lumiere_worker_fps", ["worker": "sim-\(n)", "device": Self.device(n)]), "the device label: \(metricsText)")
            XCTAssertTrue((0...500).contains(fps), "sane fps \(fps)")
            fpsSum += fps
            XCTAssertNotNil(v("lumiere_worker_frames_processed_total", worker))
            XCTAssertNotNil(v("lumiere_worker_failures_total", worker))
            XCTAssertNotNil(v("lumiere_worker_bytes_transferred_total", worker.merging(["direction": "to_worker"]) { a, _ in a }))
            XCTAssertNotNil(v("lumiere_worker_busy_seconds_total", worker.merging(["activity": "processing"]) { a, _ in a }))
            XCTAssertNotNil(v("lumiere_worker_busy_seconds_total", worker.merging(["activity": "transfer"]) { a, _ in a }))
        }
        XCTAssertGreaterThan(fpsSum, 0)

        let report = try job.wait()
        XCTAssertTrue(report.succeeded, "\(report)")

        // End of job: the report table and the plot.
        let final = farm.monitor.snapshot()
        XCTAssertTrue(final.finished)
        XCTAssertEqual(final.framesDone, final.framesTotal)
        XCTAssertEqual(final.workers.reduce(0) { $0 + $1.segmentsCompleted }, segmentCount)
        for w in final.workers where w.segmentsCompleted > 0 {
            XCTAssertGreaterThan(w.processingSeconds, 0.3 * Double(w.segmentsCompleted), "0.5 s simulated per segment: \(w)")
        }
        let table = ThroughputReport.table(final)
        XCTAssertEqual(table.count, 1 + 1 + 3 + 1, table.joined(separator: "\n"))
        XCTAssertTrue(table[0].contains("\(final.framesTotal)/\(final.framesTotal) frames (100%)"), table[0])
        let plot = ProcessInfo.processInfo.environment["MONITORING_PLOT_OUT"] ?? root.appendingPathComponent("job/throughput.png").path
        try ThroughputReport.writePlot(farm.monitor, to: plot)
        let png = try Data(contentsOf: URL(fileURLWithPath: plot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertGreaterThan(png.count, 2000)
    }

    /// What the simulated workers register as their device (issue 17): one GPU worker, two on the CPU engine.
    static func device(_ n: Int) -> String { n == 1 ? "gpu:0 Test GPU 24 GB (discrete)" : "cpu" }

    /// `lumiere-coordinator status --connect … --json` as a separate process, when the binary is built.
    private func statusFromCommandLine(port: UInt16) throws -> FarmSnapshot? {
        let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        guard let binary = [buildDirectory, buildDirectory.deletingLastPathComponent()].map({ $0.appendingPathComponent("lumiere-coordinator") })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else { return nil }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["status", "--connect", "127.0.0.1:\(port)", "--json"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return try FarmSnapshot.decode(data)
    }

    func testStatusClientParsesEndpointsAndReportsUnreachableCoordinators() throws {
        XCTAssertEqual(try StatusClient.Endpoint(parsing: "head:9090"), try StatusClient.Endpoint(parsing: "http://head:9090/status.json"))
        XCTAssertEqual(try StatusClient.Endpoint(parsing: "[::1]:80").host, "::1")
        for bad in ["head", "head:", "head:0", "head:70000", ":80", "http://"] {
            XCTAssertThrowsError(try StatusClient.Endpoint(parsing: bad), bad)
        }
        // A port nobody listens on: a clear error, not a hang.
        let server = try StatusServer(port: 0, snapshot: { .idle })
        let port = try server.start()
        server.stop()
        XCTAssertThrowsError(try StatusClient.fetchStatus(StatusClient.Endpoint(parsing: "127.0.0.1:\(port)"), timeout: 2)) { error in
            XCTAssertTrue("\(error)".contains("cannot reach the coordinator"), "\(error)")
        }
        XCTAssertThrowsError(try FarmSnapshot.decode(Data("{\"formatVersion\": 99}".utf8)))
        // A port already taken: the second server says so instead of failing silently.
        let first = try StatusServer(port: 0, snapshot: { .idle })
        let taken = try first.start()
        defer { first.stop() }
        let second = try StatusServer(port: taken, snapshot: { .idle })
        XCTAssertThrowsError(try second.start()) { error in
            XCTAssertTrue("\(error)".contains("port in use?"), "\(error)")
        }
        // Not a coordinator's status: a clear error naming the HTTP status.
        XCTAssertThrowsError(try StatusClient.get(StatusClient.Endpoint(parsing: "127.0.0.1:\(taken)"), path: "/nothing-here")) { error in
            XCTAssertTrue("\(error)".contains("HTTP 404"), "\(error)")
        }
    }
}

/// Runs the farm job on its own thread (the coordinator's loop blocks); `wait` returns its report.
final class JobThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<JobReport, Error>?

    init(_ body: @escaping () throws -> JobReport) {
        Thread { [self] in
            result = Result { try body() }
            done.signal()
        }.start()
    }

    func wait(timeout: Double = 120) throws -> JobReport {
        guard done.wait(timeout: .now() + timeout) == .success else { throw FixtureError.toolFailed("the job did not finish in \(timeout) s: a hung job is a failure") }
        return try result!.get()
    }
}
