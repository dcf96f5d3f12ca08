import Coordinator
import Foundation
import Shared
import Transport
import Worker
import XCTest

/// A standing farm (`serve`) over real ZeroMQ sockets with in-process workers: several jobs, each run from its own
/// thread, share the workers; their segment ids collide (each numbers its own from 1) and every result still reaches
/// its own job's sink, byte-exact; a job whose input fails, or that is drained, ends alone.
final class FarmStandingIntegrationTests: XCTestCase {
    func testJobsOnOneFarmGetTheirOwnResultsAndEndAlone() throws {
        let first = try FarmHarness(segmentCount: 6, bytesPerSegment: { 50_000 + $0 * 20_000 }, seed: 1)
        let second = try FarmHarness(segmentCount: 5, bytesPerSegment: { 70_000 + $0 * 10_000 }, seed: 2)
        let coordinator = FarmCoordinator(configuration: first.coordinatorConfiguration(), logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let stopServing = Box<Bool>()
        let serving = Background("serve") { try coordinator.serve { stopServing.value != true } }
        let workers = (1...3).map { n -> (FarmWorker, Background<FarmWorker.ExitReason>) in
            let worker = FarmWorker(configuration: first.workerConfiguration(name: "w\(n)", endpoint: endpoint),
                                    processor: SimulatedSegmentProcessor(secondsPerSegment: 0.05), logger: FarmHarness.logger("worker-w\(n)"))
            return (worker, Background("worker-w\(n)") { try worker.run() })
        }

        // Job 3's input cannot be produced; job 4's plan never completes, and it is drained.
        let broken = SegmentFeed(complete: [SegmentSpec(id: 1, inputFrameCount: 10, expectedOutputFrames: 10, expectedFrameSize: (64, 36))])
        let endless = SegmentFeed()
        endless.add(second.segments)
        let jobs = [
            Background("job 1") { try coordinator.run(feed: SegmentFeed(complete: first.segments), inputs: first.inputProvider, results: first.resultSink,
                                                      placement: FarmJobPlacement(id: 1, priority: 0)) },
            Background("job 2") { try coordinator.run(feed: SegmentFeed(complete: second.segments), inputs: second.inputProvider, results: second.resultSink,
                                                      placement: FarmJobPlacement(id: 2, priority: 0)) },
            Background("job 3") { try coordinator.run(feed: broken, inputs: { _ in throw CocoaError(.fileNoSuchFile) }, results: { _, _, _ in },
                                                      placement: FarmJobPlacement(id: 3, priority: 0)) },
            Background("job 4") { try coordinator.run(feed: endless, inputs: second.inputProvider, results: { _, _, _ in },
                                                      placement: FarmJobPlacement(id: 4, priority: -1)) },
        ]
        let one = try jobs[0].wait(timeout: 60), two = try jobs[1].wait(timeout: 60)
        XCTAssertTrue(one.succeeded, "\(one)")
        XCTAssertTrue(two.succeeded, "\(two)")
        XCTAssertEqual([one.job, two.job], [1, 2])
        XCTAssertEqual([one.completedSegments, two.completedSegments], [6, 5])
        first.assertAllResultsCorrect()
        second.assertAllResultsCorrect()
        XCTAssertThrowsError(try jobs[2].wait(timeout: 30)) { error in
            guard case FarmError.inputUnavailable(let segment, _)? = error as? FarmError else { return XCTFail("\(error)") }
            XCTAssertEqual(segment, 1, "the job's own segment id, not the farm-wide one")
        }
        coordinator.requestDrain(job: 4)
        XCTAssertThrowsError(try jobs[3].wait(timeout: 30)) { error in
            guard case FarmError.interrupted? = error as? FarmError else { return XCTFail("\(error)") }
        }
        XCTAssertNil(coordinator.progress(of: 1), "a job that ended left the farm")

        stopServing.value = true
        try serving.wait(timeout: 10)
        XCTAssertThrowsError(try coordinator.run(feed: SegmentFeed(complete: first.segments), inputs: first.inputProvider, results: first.resultSink,
                                                 placement: FarmJobPlacement(id: 5, priority: 0)), "the farm stopped serving")
        for (worker, thread) in workers {
            worker.requestShutdown()
            _ = try thread.wait(timeout: 10)
        }
        coordinator.close()
    }
}
