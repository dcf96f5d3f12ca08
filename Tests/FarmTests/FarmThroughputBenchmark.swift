import Coordinator
import Foundation
import Shared
import Worker
import TestSupport
import XCTest

/// Loopback transfer throughput of the farm path (not a timed test: runs only with FARM_BENCH=1).
/// `FARM_BENCH=1 swift test -c release --filter FarmThroughputBenchmark`
final class FarmThroughputBenchmark: XCTestCase {
    func testLoopbackSegmentTransferThroughput() throws {
        try Fixtures.gate("FARM_BENCH", "farm throughput benchmark")
        let segmentBytes = 64 << 20
        let harness = try FarmHarness(segmentCount: 8, bytesPerSegment: { _ in segmentBytes })
        var configuration = harness.coordinatorConfiguration()
        configuration.heartbeatInterval = 1 // production timing: a loaded 2-core box must not expire busy workers
        let coordinator = FarmCoordinator(configuration: configuration, logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let workers = (1...2).map { index -> (FarmWorker, Background<FarmWorker.ExitReason>) in
            let worker = FarmWorker(configuration: harness.workerConfiguration(name: "bench\(index)", endpoint: endpoint),
                                    processor: SimulatedSegmentProcessor(), logger: FarmHarness.logger("w"))
            return (worker, Background("w\(index)") { try worker.run() })
        }
        let start = Date()
        let report = try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertTrue(report.succeeded)
        XCTAssertEqual(report.requeues, 0, "\(report)")
        let stats = coordinator.statistics
        let moved = Double(stats.bytesSent + stats.bytesReceived)
        print(String(format: "farm loopback: %.0f MiB moved (in+out) in %.2f s = %.0f MiB/s, including processing and checksums",
                     moved / 1_048_576, seconds, moved / 1_048_576 / seconds))
        for (worker, thread) in workers { worker.requestShutdown(); _ = try thread.wait(timeout: 20) }
        coordinator.close()
    }
}
