import Coordinator
import Foundation
import Shared
import Worker
import TestSupport
import XCTest

/// Real `lumiere-worker` processes against an in-process coordinator: SIGKILL of a worker mid-job.
final class WorkerProcessTests: XCTestCase {
    private var processes: [Process] = []

    override func tearDown() {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        processes.removeAll()
    }

    private func workerBinary() throws -> URL {
        let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [buildDirectory, buildDirectory.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("lumiere-worker")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw Fixtures.missing("lumiere-worker is not built next to the test bundle (\(buildDirectory.path)); run `swift build` first")
    }

    private func spawnWorker(_ binary: URL, name: String, endpoint: String, harness: FarmHarness,
                             seconds: Double = 0.3) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--connect", endpoint, "--name", name, "--simulate-seconds", "\(seconds)", "--log-level", "error",
                             "--work-dir", harness.root.appendingPathComponent("proc-\(name)").path]
        try process.run()
        processes.append(process)
        return process
    }

    func testSigkillOfAWorkerProcessMidJobStillCompletesWithIdenticalResults() throws {
        let binary = try workerBinary()
        let harness = try FarmHarness(segmentCount: 9)
        let coordinator = FarmCoordinator(configuration: harness.coordinatorConfiguration(), logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let workers = try (1...3).map { try spawnWorker(binary, name: "p\($0)", endpoint: endpoint, harness: harness) }
        let job = Background("coordinator") {
            try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        }
        // Kill once the farm is busy: every worker registered and the first results are in.
        let deadline = Date().addingTimeInterval(20)
        while (coordinator.statistics.registrations < 3 || coordinator.statistics.segmentsAccepted < 2) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTAssertEqual(kill(workers[0].processIdentifier, SIGKILL), 0)
        let report = try job.wait(timeout: 60)
        XCTAssertTrue(report.succeeded, "\(report)")
        harness.assertAllResultsCorrect()
        workers[0].waitUntilExit()
        XCTAssertEqual(workers[0].terminationReason, .uncaughtSignal)
        for worker in workers.dropFirst() {
            worker.terminate() // SIGTERM: graceful goodbye
            worker.waitUntilExit()
            XCTAssertEqual(worker.terminationStatus, 0, "a worker stopped by SIGTERM exits cleanly")
        }
        coordinator.close()
    }

    /// A worker frozen (SIGSTOP) past its liveness is declared dead and its segment re-queued; thawed
    /// (SIGCONT), it notices the silence or is told to register again, rejoins as a new peer and works on.
    func testFrozenWorkerIsReplacedAndRejoinsAfterThawing() throws {
        let binary = try workerBinary()
        let harness = try FarmHarness(segmentCount: 16, bytesPerSegment: { _ in 30_000 })
        var configuration = harness.coordinatorConfiguration()
        configuration.scheduler.speculateAfterMedianFactor = nil
        let coordinator = FarmCoordinator(configuration: configuration, logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let frozen = try spawnWorker(binary, name: "frozen", endpoint: endpoint, harness: harness, seconds: 0.4)
        let steady = try spawnWorker(binary, name: "steady", endpoint: endpoint, harness: harness, seconds: 0.4)
        let job = Background("coordinator") {
            try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        }
        let deadline = Date().addingTimeInterval(20)
        while coordinator.statistics.segmentsAccepted < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(kill(frozen.processIdentifier, SIGSTOP), 0)
        Thread.sleep(forTimeInterval: 1.5) // > the 1 s expiry of the test harness
        XCTAssertEqual(kill(frozen.processIdentifier, SIGCONT), 0)
        let report = try job.wait(timeout: 60)
        XCTAssertTrue(report.succeeded, "\(report)")
        harness.assertAllResultsCorrect()
        XCTAssertGreaterThanOrEqual(report.requeues, 1, "the frozen worker's segment must have been re-queued: \(report)")
        XCTAssertGreaterThanOrEqual(coordinator.statistics.registrations, 3, "the thawed worker registers again")
        for worker in [frozen, steady] { worker.terminate(); worker.waitUntilExit() }
        coordinator.close()
    }
}
