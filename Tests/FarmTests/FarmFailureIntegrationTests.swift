import Coordinator
import Foundation
import Shared
import Worker
import XCTest

/// Failure paths over real sockets: invalid results, processor errors, graceful drain.
final class FarmFailureIntegrationTests: XCTestCase {
    private func runWorker(_ harness: FarmHarness, _ name: String, _ endpoint: String, _ processor: SegmentProcessor)
        -> (FarmWorker, Background<FarmWorker.ExitReason>) {
        let worker = FarmWorker(configuration: harness.workerConfiguration(name: name, endpoint: endpoint), processor: processor,
                                logger: FarmHarness.logger("worker-\(name)"))
        return (worker, Background("worker-\(name)") { try worker.run() })
    }

    func testWorkerReportingWrongFrameCountFailsTheJobWithAClearReport() throws {
        let harness = try FarmHarness(segmentCount: 2, bytesPerSegment: { _ in 10_000 })
        let coordinator = FarmCoordinator(configuration: harness.coordinatorConfiguration(), logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let liar = SimulatedSegmentProcessor(outputFramesPerInputFrame: 2) // the plan expects 1 output frame per input frame
        let (worker, thread) = runWorker(harness, "liar", endpoint, liar)
        XCTAssertThrowsError(try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)) { error in
            guard case FarmError.jobFailed(let report) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(report.completedSegments, 0)
            XCTAssertEqual(report.failed?.attempts.count, 3)
            XCTAssertTrue("\(error)".contains("frames, expected"), "\(error)")
        }
        worker.requestShutdown()
        _ = try thread.wait(timeout: 10)
        coordinator.close()
    }

    func testProcessorErrorIsRetriedAndTheJobStillSucceeds() throws {
        let harness = try FarmHarness(segmentCount: 3, bytesPerSegment: { _ in 50_000 })
        let coordinator = FarmCoordinator(configuration: harness.coordinatorConfiguration(), logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let flaky = SimulatedSegmentProcessor(failure: { lease in
            lease.segment == 2 && lease.attempt == 1 ? "simulated decoder error" : nil
        })
        let (worker, thread) = runWorker(harness, "flaky-once", endpoint, flaky)
        let report = try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        XCTAssertTrue(report.succeeded, "\(report)")
        XCTAssertEqual(report.requeues, 1)
        harness.assertAllResultsCorrect()
        worker.requestShutdown()
        _ = try thread.wait(timeout: 10)
        coordinator.close()
    }

    func testDrainStopsAssigningAndReturnsAfterSegmentsInFlight() throws {
        let harness = try FarmHarness(segmentCount: 6, bytesPerSegment: { _ in 20_000 })
        let coordinator = FarmCoordinator(configuration: harness.coordinatorConfiguration(), logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let (worker, thread) = runWorker(harness, "steady", endpoint, SimulatedSegmentProcessor(secondsPerSegment: 0.2))
        let job = Background("coordinator") {
            try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        }
        let deadline = Date().addingTimeInterval(20)
        while coordinator.statistics.segmentsAccepted < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        coordinator.requestDrain()
        XCTAssertThrowsError(try job.wait(timeout: 30)) { error in
            guard case FarmError.interrupted(let report) = error else { return XCTFail("\(error)") }
            XCTAssertGreaterThanOrEqual(report.completedSegments, 2)
            XCTAssertLessThan(report.completedSegments, 6, "draining must stop new assignments")
            XCTAssertEqual(coordinator.statistics.segmentsAccepted, report.completedSegments)
        }
        worker.requestShutdown()
        _ = try thread.wait(timeout: 10)
        coordinator.close()
    }
}
