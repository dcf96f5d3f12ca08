import Coordinator
import Foundation
import Shared
import TestSupport
import XCTest

/// How many simulated workers one coordinator keeps busy (issue 4 benchmark). Not a timed test: runs only
/// with FARM_BENCH=1. Workers are real `lumiere-worker --simulate-seconds S` processes, so the CPU and memory
/// measured here are the coordinator's alone.
/// `FARM_BENCH=1 FARM_BENCH_WORKERS=200 FARM_BENCH_SEGMENT_SECONDS=2 swift test -c release --filter FarmCapacityBenchmark`
final class FarmCapacityBenchmark: XCTestCase {
    private var processes: [Process] = []

    override func tearDown() {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func testCoordinatorKeepsSimulatedWorkersBusy() throws {
        let environment = ProcessInfo.processInfo.environment
        try Fixtures.gate("FARM_BENCH", "farm capacity benchmark")
        let workerCount = Int(environment["FARM_BENCH_WORKERS"] ?? "") ?? 20
        let segmentSeconds = Double(environment["FARM_BENCH_SEGMENT_SECONDS"] ?? "") ?? 1
        let segmentsPerWorker = Int(environment["FARM_BENCH_SEGMENTS_PER_WORKER"] ?? "") ?? 5
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lumiere-worker")
        try Fixtures.require(FileManager.default.isExecutableFile(atPath: binary.path), "build lumiere-worker first")

        let harness = try FarmHarness(segmentCount: workerCount * segmentsPerWorker, bytesPerSegment: { _ in 64 << 10 })
        var configuration = harness.coordinatorConfiguration()
        configuration.heartbeatInterval = 1
        configuration.scheduler.speculateAfterMedianFactor = nil // measure plain dispatch
        let coordinator = FarmCoordinator(configuration: configuration, logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        for index in 0..<workerCount {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["--connect", endpoint, "--name", "sim\(index)", "--simulate-seconds", "\(segmentSeconds)",
                                 "--log-level", "error", "--work-dir", harness.root.appendingPathComponent("w\(index)").path]
            try process.run()
            processes.append(process)
        }
        let job = Background("coordinator") {
            try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        }
        // Start the clock once every worker is registered, so process start-up is not counted as idle time.
        while coordinator.statistics.registrations < workerCount { Thread.sleep(forTimeInterval: 0.01) }
        let cpuBefore = FarmHarness.cpuSeconds()
        let start = Date()
        let report = try job.wait(timeout: 3600)
        let wall = Date().timeIntervalSince(start)
        let cpu = FarmHarness.cpuSeconds() - cpuBefore
        XCTAssertTrue(report.succeeded, "\(report)")
        harness.assertAllResultsCorrect()
        let ideal = Double(segmentsPerWorker) * segmentSeconds
        print(String(format: "farm capacity: %d workers, %d segments of %.2f s: wall %.2f s (ideal %.2f s) → busy %.1f%%; "
                     + "coordinator CPU %.2f s (%.2f ms per segment), max RSS %d MiB",
                     workerCount, harness.segments.count, segmentSeconds, wall, ideal, 100 * ideal / wall,
                     cpu, 1000 * cpu / Double(harness.segments.count), FarmHarness.peakResidentMiB()))
        for process in processes { process.terminate() }
        for process in processes { process.waitUntilExit() }
        coordinator.close()
    }


}
