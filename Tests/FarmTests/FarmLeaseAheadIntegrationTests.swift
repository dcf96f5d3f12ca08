import Coordinator
import Foundation
import Shared
import Transport
import Worker
import XCTest

/// Workers that hold a segment ahead (lease-ahead, `lumiere-worker`'s default) against the real coordinator over
/// ZeroMQ (tcp loopback), simulated processor: inputs queue per worker, results come back byte-exact.
final class FarmLeaseAheadIntegrationTests: XCTestCase {
    private func startWorker(_ harness: FarmHarness, _ name: String, _ endpoint: String, ahead: UInt8 = 1,
                             processor: SegmentProcessor = SimulatedSegmentProcessor(secondsPerSegment: 0.05)) -> (FarmWorker, Background<FarmWorker.ExitReason>) {
        var configuration = harness.workerConfiguration(name: name, endpoint: endpoint)
        configuration.capabilities.segmentsAhead = ahead
        let worker = FarmWorker(configuration: configuration, processor: processor, logger: FarmHarness.logger("worker-\(name)"))
        return (worker, Background("worker-\(name)") { try worker.run() })
    }

    func testWorkersHoldingASegmentAheadFinishTheJobByteExact() throws {
        let harness = try FarmHarness(segmentCount: 12, bytesPerSegment: { 100_000 + $0 * 60_000 })
        let coordinator = FarmCoordinator(configuration: harness.coordinatorConfiguration(), logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let workers = (1...2).map { startWorker(harness, "w\($0)", endpoint) }
        let report = try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        XCTAssertTrue(report.succeeded, "\(report)")
        XCTAssertEqual(report.completedSegments, 12)
        XCTAssertEqual(report.requeues, 0, "\(report)")
        harness.assertAllResultsCorrect()
        for (worker, thread) in workers {
            worker.requestShutdown()
            XCTAssertEqual(try thread.wait(timeout: 10), .shutdown)
        }
        coordinator.close()
    }

    /// A worker killed while it holds its current segment and one queued: both go back to the queue and the survivor
    /// finishes every segment.
    func testAWorkerKilledWithASegmentQueuedLosesBoth() throws {
        let harness = try FarmHarness(segmentCount: 4)
        var configuration = harness.coordinatorConfiguration()
        configuration.scheduler.speculateAfterMedianFactor = nil // death detection, not a speculative race
        let coordinator = FarmCoordinator(configuration: configuration, logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let victimBox = Box<FarmWorker>()
        let victimProcessor = SimulatedSegmentProcessor(secondsPerSegment: 2.0, onStart: { _ in
            // Dies once its second segment is queued (the coordinator assigns it right after the first).
            Thread.sleep(forTimeInterval: 0.3)
            victimBox.value?.kill()
        })
        let (victim, victimThread) = startWorker(harness, "victim", endpoint, processor: victimProcessor)
        victimBox.value = victim
        let job = Background("coordinator") {
            try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        }
        XCTAssertEqual(try victimThread.wait(timeout: 20), .killed)
        let (survivor, survivorThread) = startWorker(harness, "survivor", endpoint)
        let report = try job.wait(timeout: 60)
        XCTAssertTrue(report.succeeded, "\(report)")
        XCTAssertEqual(report.completedByWorker["survivor"], 4, "\(report.completedByWorker)")
        XCTAssertGreaterThanOrEqual(report.requeues, 2, "the current and the queued segment both went back: \(report)")
        harness.assertAllResultsCorrect()
        survivor.requestShutdown()
        _ = try survivorThread.wait(timeout: 10)
        coordinator.close()
    }
}
