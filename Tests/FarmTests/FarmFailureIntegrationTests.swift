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

    func testStragglerIsOvertakenBySpeculativeCopy() throws {
        let harness = try FarmHarness(segmentCount: 6, bytesPerSegment: { _ in 20_000 })
        let coordinator = FarmCoordinator(configuration: harness.coordinatorConfiguration(), logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let (slow, slowThread) = runWorker(harness, "slow", endpoint, SimulatedSegmentProcessor(secondsPerSegment: 20))
        let job = Background("coordinator") {
            try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        }
        let deadline = Date().addingTimeInterval(10)
        while coordinator.statistics.registrations < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        Thread.sleep(forTimeInterval: 0.1) // the slow worker takes the first (longest) segment
        let (fast, fastThread) = runWorker(harness, "fast", endpoint, SimulatedSegmentProcessor(secondsPerSegment: 0.05))
        let started = Date()
        let report = try job.wait(timeout: 30)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the job must not wait for the 20 s straggler")
        XCTAssertTrue(report.succeeded, "\(report)")
        XCTAssertGreaterThanOrEqual(report.speculativeCopies, 1, "\(report)")
        XCTAssertEqual(report.completedByWorker, ["fast": 6])
        harness.assertAllResultsCorrect()
        for worker in [slow, fast] { worker.requestShutdown() }
        _ = try slowThread.wait(timeout: 10)
        _ = try fastThread.wait(timeout: 10)
        coordinator.close()
    }

    /// Worker shutdown: the first request finishes the segment in hand, the second hands it back at once —
    /// a hand-back is not a failed try (max 1 try here, so counting it would fail the job).
    func testWorkerShutdownFinishesThenHandsBackWithoutCountingATry() throws {
        let harness = try FarmHarness(segmentCount: 4, bytesPerSegment: { _ in 20_000 })
        var configuration = harness.coordinatorConfiguration()
        configuration.scheduler.maxAttemptsPerSegment = 1
        configuration.scheduler.speculateAfterMedianFactor = nil
        let coordinator = FarmCoordinator(configuration: configuration, logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let started = Box<Int>()
        let leaving = FarmWorker(configuration: harness.workerConfiguration(name: "leaving", endpoint: endpoint),
                                 processor: SimulatedSegmentProcessor(secondsPerSegment: 0.4, onStart: { _ in
                                     started.value = (started.value ?? 0) + 1
                                 }), logger: FarmHarness.logger("leaving"))
        let leavingThread = Background("leaving") { try leaving.run() }
        let job = Background("coordinator") {
            try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        }
        var deadline = Date().addingTimeInterval(10)
        while started.value == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        leaving.requestShutdown() // first: finish segment 1, take nothing new
        deadline = Date().addingTimeInterval(10)
        while leaving.snapshot.segmentsCompleted < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        XCTAssertEqual(try leavingThread.wait(timeout: 10), .shutdown)
        XCTAssertEqual(started.value, 1, "no new segment after the first shutdown request")

        let handing = FarmWorker(configuration: harness.workerConfiguration(name: "handing", endpoint: endpoint),
                                 processor: SimulatedSegmentProcessor(secondsPerSegment: 30), logger: FarmHarness.logger("handing"))
        let handingThread = Background("handing") { try handing.run() }
        deadline = Date().addingTimeInterval(10)
        while coordinator.statistics.registrations < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        Thread.sleep(forTimeInterval: 0.2) // it is processing a 30 s segment now
        handing.requestShutdown()
        handing.requestShutdown() // second: hand it back now
        XCTAssertEqual(try handingThread.wait(timeout: 10), .shutdown)

        let (finisher, finisherThread) = runWorker(harness, "finisher", endpoint, SimulatedSegmentProcessor())
        let report = try job.wait(timeout: 30)
        XCTAssertTrue(report.succeeded, "\(report)")
        XCTAssertEqual(report.completedByWorker, ["leaving": 1, "finisher": 3])
        harness.assertAllResultsCorrect()
        finisher.requestShutdown()
        _ = try finisherThread.wait(timeout: 10)
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
