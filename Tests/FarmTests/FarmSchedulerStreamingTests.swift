import Coordinator
import Shared
import XCTest

/// Segments that arrive while the job runs (issue 16 item 1: the film's shots are still being found), driven with the
/// manual clock: a job is complete only when its plan is complete and every segment is finished.
final class FarmSchedulerStreamingTests: XCTestCase {
    let a = PeerID([1]), b = PeerID([2]), c = PeerID([3])

    func spec(_ id: SegmentID, frames: UInt32) -> SegmentSpec {
        SegmentSpec(id: id, inputFrameCount: frames, expectedOutputFrames: frames, expectedFrameSize: (64, 48))
    }

    func capabilities(_ name: String) -> WorkerCapabilities {
        WorkerCapabilities(workerName: name, host: "h", threads: 4, models: [], freeMemoryBytes: 1 << 30)
    }

    func streaming(_ configure: (inout SchedulerConfiguration) -> Void = { _ in }) -> FarmScheduler {
        var configuration = SchedulerConfiguration()
        configuration.leaseTimeoutSeconds = 20
        configure(&configuration)
        return FarmScheduler(segments: [], configuration: configuration, planComplete: false)
    }

    func assignments(_ directives: [FarmDirective]) -> [(peer: PeerID, lease: LeaseRef)] {
        directives.compactMap { if case .assign(let p, let l, _) = $0 { return (p, l) } else { return nil } }
    }

    func completed(_ directives: [FarmDirective]) -> JobReport? {
        for d in directives { if case .jobCompleted(let r) = d { return r } }
        return nil
    }

    func finish(_ s: inout FarmScheduler, _ peer: PeerID, now: Double, frames: UInt32 = 10) -> [FarmDirective] {
        let lease = s.currentLease(of: peer)!
        let info = SegmentResultInfo(frameCount: frames, frameWidth: 64, frameHeight: 48, output: PayloadDescription(byteCount: 10, checksum: 1))
        XCTAssertEqual(s.onResultAnnounced(peer, lease, info, now: now), [.receiveResult(peer, lease)])
        return s.onResultReceived(peer, lease, info, received: info.output, now: now)
    }

    func testSegmentsAddedWhileWorkersWaitAreAssignedAtOnce() {
        var s = streaming()
        XCTAssertEqual(assignments(s.onWorkerRegistered(a, capabilities("a"), now: 0)).count, 0, "nothing to do yet")
        XCTAssertEqual(assignments(s.onWorkerRegistered(b, capabilities("b"), now: 0)).count, 0)
        XCTAssertTrue(assignments(s.onTick(now: 1)).isEmpty)
        let first = s.onSegmentsAdded([spec(1, frames: 10)], now: 1.5)
        XCTAssertEqual(first, [.assign(a, LeaseRef(segment: 1, attempt: 1), spec(1, frames: 10))], "the first idle worker gets it at once")
        let done = finish(&s, a, now: 2)
        XCTAssertNil(completed(done), "every segment known is finished, but the plan is not complete")
        XCTAssertFalse(s.isFinished)
        // Two more segments: both idle workers get one, the costlier first (dispatch order is kept for added segments).
        let more = assignments(s.onSegmentsAdded([spec(2, frames: 10), spec(3, frames: 10)], now: 3))
        XCTAssertEqual(more.map(\.peer), [a, b])
        XCTAssertEqual(more.map(\.lease.segment), [2, 3])
        _ = finish(&s, a, now: 4)
        XCTAssertNil(completed(finish(&s, b, now: 4)))
        guard let report = completed(s.onPlanComplete(now: 5)) else { return XCTFail("the plan's completion ends a job whose segments are all done") }
        XCTAssertTrue(report.succeeded)
        XCTAssertEqual(report.segmentCount, 3)
        XCTAssertTrue(s.isFinished)
        XCTAssertTrue(s.onPlanComplete(now: 6).isEmpty, "completed once")
    }

    func testSegmentsAddedWhileWorkersAreBusyWaitInDispatchOrder() {
        var s = streaming()
        _ = s.onWorkerRegistered(a, capabilities("a"), now: 0)
        _ = s.onSegmentsAdded([spec(1, frames: 10)], now: 0)
        XCTAssertEqual(s.currentLease(of: a)?.segment, 1)
        XCTAssertTrue(s.onSegmentsAdded([spec(2, frames: 5), spec(3, frames: 40), spec(4, frames: 20)], now: 1).isEmpty, "no idle worker")
        XCTAssertEqual(s.pendingCount, 3)
        XCTAssertEqual(s.onSegmentsAdded([spec(3, frames: 40)], now: 1.1), [], "a segment already known is not added twice")
        XCTAssertEqual(s.pendingCount, 3)
        var order: [SegmentID] = []
        let frames: [SegmentID: UInt32] = [1: 10, 2: 5, 3: 40, 4: 20]
        var t = 2.0
        XCTAssertTrue(s.onPlanComplete(now: t).isEmpty, "segments still to do")
        while let lease = s.currentLease(of: a) {
            order.append(lease.segment)
            let out = finish(&s, a, now: t, frames: frames[lease.segment]!)
            t += 1
            if let report = completed(out) {
                XCTAssertEqual(report.completedSegments, 4)
                break
            }
        }
        XCTAssertEqual(order, [1, 3, 4, 2], "the longest pending segment first, whenever it arrived")
        XCTAssertTrue(s.isFinished)
    }

    func testAPlanThatCompletesEmptyFinishesAndOneWithoutSegmentsYetDoesNot() {
        var s = streaming()
        _ = s.onWorkerRegistered(a, capabilities("a"), now: 0)
        for t in stride(from: 1.0, through: 30, by: 1) { _ = s.onHeartbeat(a, now: t); XCTAssertTrue(s.onTick(now: t).isEmpty) }
        XCTAssertFalse(s.isFinished, "waiting for the analysis is not a finished job")
        XCTAssertNotNil(completed(s.onPlanComplete(now: 31)))
    }

    /// Leases and their deadlines work the same for added segments: a stalled worker's lease is taken back and the
    /// segment goes to another worker; a straggler gets a speculative copy while the plan is still growing.
    func testLeasesAndSpeculativeCopiesAreUnaffected() {
        var s = streaming {
            $0.leaseTimeoutSeconds = 10
            $0.speculateAfterMedianFactor = 5
        }
        _ = s.onWorkerRegistered(a, capabilities("slow"), now: 0)
        _ = s.onWorkerRegistered(b, capabilities("fast"), now: 0)
        _ = s.onSegmentsAdded((1...5).map { spec(SegmentID(SegmentIndex($0)), frames: 10) }, now: 0)
        XCTAssertEqual(s.currentLease(of: a)?.segment, 1)
        var t = 0.0
        for _ in 0..<4 { t += 1; _ = s.onHeartbeat(a, now: t); s.onLeaseActivity(a, s.currentLease(of: a)!, now: t); _ = finish(&s, b, now: t) }
        XCTAssertNil(s.currentLease(of: b), "nothing pending; 4 s is not yet 5 × the 1 s median")
        _ = s.onHeartbeat(a, now: 5.1); _ = s.onHeartbeat(b, now: 5.1)
        let tick = s.onTick(now: 5.1)
        XCTAssertEqual(assignments(tick).map(\.peer), [b], "a speculative copy of the straggler, though the plan is still open")
        XCTAssertEqual(s.currentLease(of: b), LeaseRef(segment: 1, attempt: 2))
        let won = finish(&s, b, now: 5.5)
        XCTAssertTrue(won.contains { if case .cancel(a, _, _) = $0 { return true } else { return false } }, "\(won)")
        XCTAssertNil(completed(won), "plan still open")
        guard let report = completed(s.onPlanComplete(now: 6)) else { return XCTFail() }
        XCTAssertEqual(report.completedSegments, 5)
        XCTAssertEqual(report.speculativeCopies, 1)
    }

    func testAnAddedSegmentsStalledLeaseIsTakenBackAndGivenToAnother() {
        var s = streaming {
            $0.leaseTimeoutSeconds = 10
            $0.speculateAfterMedianFactor = nil
        }
        _ = s.onWorkerRegistered(a, capabilities("a"), now: 0)
        _ = s.onWorkerRegistered(b, capabilities("b"), now: 0)
        _ = s.onSegmentsAdded([spec(6, frames: 10)], now: 6)
        let lease = s.currentLease(of: a)!
        XCTAssertEqual(lease.segment, 6)
        for time in stride(from: 7.0, through: 16.0, by: 1) {
            _ = s.onHeartbeat(a, now: time); _ = s.onHeartbeat(b, now: time)
            XCTAssertTrue(s.onTick(now: time).isEmpty)
        }
        _ = s.onHeartbeat(a, now: 16.5); _ = s.onHeartbeat(b, now: 16.5)
        let stalled = s.onTick(now: 16.5)
        XCTAssertTrue(stalled.contains { if case .cancel(a, lease, _) = $0 { return true } else { return false } }, "\(stalled)")
        XCTAssertEqual(s.currentLease(of: b), LeaseRef(segment: 6, attempt: 2))
        XCTAssertNil(completed(finish(&s, b, now: 17)))
        guard let report = completed(s.onPlanComplete(now: 18)) else { return XCTFail() }
        XCTAssertEqual(report.completedSegments, 1)
        XCTAssertTrue(report.blocklistedWorkers.isEmpty)
    }
}
