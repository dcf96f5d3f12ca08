import Coordinator
import Shared
import XCTest

/// Lease-ahead (FarmScheduler+Leases.swift): a worker that accepts segments ahead holds its current lease plus queued
/// ones, so it never waits between segments. Pure scheduler, manual clock.
final class FarmSchedulerLeaseAheadTests: XCTestCase {
    let a = PeerID([1]), b = PeerID([2]), c = PeerID([3])

    func caps(_ name: String, ahead: UInt8 = 1) -> WorkerCapabilities {
        WorkerCapabilities(workerName: name, host: "h", threads: 4, models: [], freeMemoryBytes: 1 << 30, segmentsAhead: ahead)
    }

    /// Segments `first`..., the lower id the costlier within 50 (dispatch order 1, 2, 3...); ids end in 1 (`frames`).
    func specs(_ n: Int, first: SegmentID = 1) -> [SegmentSpec] {
        (0..<n).map {
            let id = SegmentID(wireValue: first.wireValue + UInt64($0))
            return SegmentSpec(id: id, inputFrameCount: frames(id), expectedOutputFrames: frames(id))
        }
    }

    func frames(_ id: SegmentID) -> UInt32 { UInt32(100 - Int(((id.wireValue & 0xFFFF_FFFF) - 1) % 50)) }

    /// Segment `segment` of job `job`, as the wire carries it.
    func sid(_ job: UInt64, _ segment: UInt64) -> SegmentID { SegmentID(wireValue: job << 32 | segment) }

    func scheduler(_ n: Int, configure: (inout SchedulerConfiguration) -> Void = { _ in }) -> FarmScheduler {
        var configuration = SchedulerConfiguration()
        configuration.leaseTimeoutSeconds = 20
        configure(&configuration)
        return FarmScheduler(segments: specs(n), configuration: configuration)
    }

    func assigned(_ directives: [FarmDirective]) -> [(PeerID, LeaseRef)] {
        directives.compactMap { if case .assign(let p, let l, _) = $0 { return (p, l) } else { return nil } }
    }

    func cancelled(_ directives: [FarmDirective]) -> [(PeerID, LeaseRef)] {
        directives.compactMap { if case .cancel(let p, let l, _) = $0 { return (p, l) } else { return nil } }
    }

    /// Announces and delivers a correct result for `lease`.
    func finish(_ s: inout FarmScheduler, _ peer: PeerID, _ lease: LeaseRef, now: Double) -> [FarmDirective] {
        let info = SegmentResultInfo(frameCount: frames(lease.segment), frameWidth: 8, frameHeight: 8, output: PayloadDescription(byteCount: 10, checksum: 1))
        XCTAssertEqual(s.onResultAnnounced(peer, lease, info, now: now), [.receiveResult(peer, lease)])
        return s.onResultReceived(peer, lease, info, received: info.output, now: now)
    }

    func testAWorkerGetsItsNextSegmentQueuedBehindTheCurrentOne() {
        var s = scheduler(3)
        let out = s.onWorkerRegistered(a, caps("a"), now: 0)
        XCTAssertEqual(assigned(out).map(\.1.segment), [1, 2], "the current segment and one queued behind it")
        XCTAssertEqual(s.currentLease(of: a)?.segment, 1)
        XCTAssertEqual(s.leases(of: a).map(\.segment), [1, 2])
        XCTAssertEqual(s.busyWorkerCount, 1)
        XCTAssertEqual(s.leasesInFlight(of: 0), 2, "a queued lease is out for its job")
        // The first ends: the queued one is current at once, the third is queued behind it.
        let next = finish(&s, a, LeaseRef(segment: 1, attempt: 1), now: 10)
        XCTAssertEqual(assigned(next).map(\.1.segment), [3])
        XCTAssertEqual(s.leases(of: a).map(\.segment), [2, 3])
    }

    /// The live view, status and metrics count a queued lease as "ahead", not "running": one worker renders one segment.
    func testCountsTellASegmentQueuedAtAWorkerFromOneRunning() {
        var s = scheduler(3)
        _ = s.onWorkerRegistered(a, caps("a"), now: 0)
        XCTAssertEqual(s.counts, SchedulerCounts(total: 3, pending: 1, running: 1, ahead: 1))
        _ = finish(&s, a, LeaseRef(segment: 1, attempt: 1), now: 10)
        XCTAssertEqual(s.counts, SchedulerCounts(total: 3, pending: 0, running: 1, ahead: 1, done: 1))
        _ = finish(&s, a, LeaseRef(segment: 2, attempt: 1), now: 20)
        XCTAssertEqual(s.counts, SchedulerCounts(total: 3, pending: 0, running: 1, ahead: 0, done: 2))
    }

    func testAWorkerAskingNothingAheadGetsOneSegmentAtATime() {
        var s = scheduler(3)
        XCTAssertEqual(assigned(s.onWorkerRegistered(a, caps("a", ahead: 0), now: 0)).map(\.1.segment), [1])
        var capped = scheduler(3) { $0.maxSegmentsAhead = 0 }
        XCTAssertEqual(assigned(capped.onWorkerRegistered(a, caps("a", ahead: 4), now: 0)).map(\.1.segment), [1],
                       "the coordinator's cap wins over the worker's wish")
    }

    /// Free workers come before queues: segments released while the job runs go to idle workers first.
    func testIdleWorkersGetSegmentsBeforeAnyIsQueued() {
        var s = FarmScheduler(segments: [], planComplete: false)
        _ = s.onWorkerRegistered(a, caps("a"), now: 0)
        _ = s.onWorkerRegistered(b, caps("b"), now: 0)
        let out = s.onSegmentsAdded(specs(3), now: 1)
        XCTAssertEqual(assigned(out).map { "\($0.0)=\($0.1.segment)" }, ["01=1", "02=2", "01=3"])
    }

    /// A queued lease has no deadline: it is not late while the one ahead of it renders, and its lease timeout counts
    /// from when it becomes current.
    func testAQueuedLeaseIsNotLateUntilItStarts() {
        var s = scheduler(2)
        _ = s.onWorkerRegistered(a, caps("a"), now: 0)
        let first = LeaseRef(segment: 1, attempt: 1), second = LeaseRef(segment: 2, attempt: 1)
        for t in stride(from: 1.0, through: 29, by: 1) {
            _ = s.onHeartbeat(a, now: t)
            s.onLeaseActivity(a, first, now: t, rendering: true)
            XCTAssertTrue(cancelled(s.onTick(now: t)).isEmpty, "t = \(t): 20 s lease timeout, the queued lease is not stalled")
        }
        _ = finish(&s, a, first, now: 30)
        XCTAssertEqual(s.currentLease(of: a), second)
        _ = s.onHeartbeat(a, now: 49)
        XCTAssertTrue(cancelled(s.onTick(now: 49)).isEmpty, "its 20 s count from 30")
        _ = s.onHeartbeat(a, now: 51)
        XCTAssertEqual(cancelled(s.onTick(now: 51)).map(\.1), [second])
    }

    /// At a job's tail a worker falling idle takes over a lease queued on another that has not started (no try counted,
    /// a new attempt); one that has started (progress) stays.
    func testAnIdleWorkerTakesOverAQueuedLeaseNotStarted() {
        var s = scheduler(3)
        _ = s.onWorkerRegistered(a, caps("a"), now: 0) // 1, and 2 queued
        _ = s.onWorkerRegistered(b, caps("b"), now: 0) // 3
        let out = finish(&s, b, LeaseRef(segment: 3, attempt: 1), now: 5)
        XCTAssertEqual(cancelled(out).map { "\($0.0) \($0.1)" }, ["01 segment 2 attempt 1"])
        XCTAssertEqual(assigned(out).map { "\($0.0) \($0.1)" }, ["02 segment 2 attempt 2"])
        XCTAssertEqual(s.leases(of: a).map(\.segment), [1])
        XCTAssertEqual(s.queuedLeasesMoved(), 1)
        XCTAssertEqual(s.report().requeues, 0)
        XCTAssertEqual(s.lateOrLost, 0, "moving a lease is not a try")

        var started = scheduler(3)
        _ = started.onWorkerRegistered(a, caps("a"), now: 0)
        _ = started.onWorkerRegistered(b, caps("b"), now: 0)
        started.onLeaseActivity(a, LeaseRef(segment: 2, attempt: 1), now: 4, rendering: true) // a renders 2 already
        XCTAssertTrue(cancelled(finish(&started, b, LeaseRef(segment: 3, attempt: 1), now: 5)).isEmpty)
        XCTAssertEqual(started.leases(of: a).map(\.segment), [1, 2])
    }

    /// A worker that goes silent with a queued lease loses both: each is pending again and counts toward its
    /// segment's tries, like the current one (three deaths end the job).
    func testAWorkerDyingWithAQueuedLeaseRequeuesBothAndCountsTheirTries() {
        var s = scheduler(2) { $0.speculateAfterMedianFactor = nil }
        var now = 0.0
        for (index, peer) in [a, b, c].enumerated() {
            _ = s.onWorkerRegistered(peer, caps("w\(index)"), now: now)
            XCTAssertEqual(s.leases(of: peer).map(\.segment), [1, 2])
            now += 4
            let out = s.onTick(now: now)
            XCTAssertTrue(out.contains(.workerDeclaredDead(peer, reason: "worker w\(index) silent for 4.0 s (limit 3.0 s)")), "\(out)")
            XCTAssertEqual(s.lateOrLost, 2 * (index + 1) - (index == 2 ? 1 : 0), "both leases are lost tries (the job ends at the third)")
            if index < 2 {
                XCTAssertEqual(s.pendingCount, 2)
                XCTAssertEqual(s.report().requeues, 2 * (index + 1))
            } else {
                guard case .jobFailed(let report)? = out.last else { return XCTFail("\(out)") }
                XCTAssertEqual(report.failed?.attempts.count, 3)
            }
        }
    }

    func testGoodbyeHandsBackEveryLeaseWithoutATry() {
        var s = scheduler(2)
        _ = s.onWorkerRegistered(a, caps("a"), now: 0)
        let out = s.onWorkerGoodbye(a, now: 1)
        XCTAssertEqual(out, [.workerDeclaredDead(a, reason: "said goodbye, handed back segment 1 attempt 1, segment 2 attempt 1")])
        XCTAssertEqual(s.pendingCount, 2)
        XCTAssertEqual(s.lateOrLost, 0)
        XCTAssertEqual(assigned(s.onWorkerRegistered(b, caps("b"), now: 2)).map(\.1), [LeaseRef(segment: 1, attempt: 2), LeaseRef(segment: 2, attempt: 2)])
    }

    /// A job's queued leases count toward its fair share: one worker with room for two alternates between equal jobs.
    func testQueuedLeasesCountTowardTheFairShare() {
        var s = FarmScheduler()
        _ = s.onJobAdded(1, segments: specs(3, first: sid(1, 1)), planComplete: true, now: 0)
        _ = s.onJobAdded(2, segments: specs(3, first: sid(2, 1)), planComplete: true, now: 0)
        let out = s.onWorkerRegistered(a, caps("a"), now: 0)
        XCTAssertEqual(assigned(out).map { s.job(of: $0.1.segment) }, [1, 2])
        XCTAssertEqual(s.leasesInFlight(of: 1), 1)
        XCTAssertEqual(s.leasesInFlight(of: 2), 1)
    }

    /// Pausing or cancelling a job calls back its queued leases that have not started (not a try); its rendering ones
    /// may finish. Another job's segment takes the freed place in the queue.
    func testAWithdrawnJobsQueuedLeaseIsCalledBackCleanly() {
        var s = FarmScheduler()
        _ = s.onJobAdded(1, segments: specs(3, first: sid(1, 1)), planComplete: true, now: 0)
        _ = s.onWorkerRegistered(a, caps("a"), now: 0)
        let current = LeaseRef(segment: sid(1, 1), attempt: 1), queued = LeaseRef(segment: sid(1, 2), attempt: 1)
        XCTAssertEqual(s.leases(of: a), [current, queued])
        let out = s.onJobWithdrawn(1)
        XCTAssertEqual(cancelled(out).map(\.1), [queued])
        XCTAssertEqual(s.leases(of: a), [current])
        XCTAssertEqual(s.leasesInFlight(of: 1), 1, "the rendering lease may still finish")
        XCTAssertEqual(s.lateOrLost, 0)
        XCTAssertEqual(s.counts.running, 1)
        let next = s.onJobAdded(2, segments: specs(1, first: sid(2, 1)), planComplete: true, now: 1)
        XCTAssertEqual(assigned(next).map(\.1.segment), [sid(2, 1)], "job 2 takes the queue's free place")
        _ = finish(&s, a, current, now: 2)
        XCTAssertEqual(s.leasesInFlight(of: 1), 0)
        XCTAssertEqual(s.currentLease(of: a)?.segment, sid(2, 1))
    }

    /// A drain calls back queued leases not started, so a stopping coordinator waits for one segment per worker.
    func testDrainCallsBackQueuedLeases() {
        var s = scheduler(3)
        _ = s.onWorkerRegistered(a, caps("a"), now: 0)
        XCTAssertEqual(cancelled(s.onDrain()).map(\.1), [LeaseRef(segment: 2, attempt: 1)])
        XCTAssertEqual(s.leases(of: a), [LeaseRef(segment: 1, attempt: 1)])
        XCTAssertEqual(s.pendingCount, 2)
        XCTAssertTrue(assigned(finish(&s, a, LeaseRef(segment: 1, attempt: 1), now: 1)).isEmpty, "no new work while draining")
    }

    /// Random registrations (asking 0 to 2 ahead), results of any held lease, failures, goodbyes, disconnects, progress
    /// and ticks: every lease out is held by exactly one worker, within its capacity, and the idle list stays in step.
    func testLeasesStayConsistentUnderRandomEvents() {
        var configuration = SchedulerConfiguration()
        configuration.leaseTimeoutSeconds = 5
        configuration.maxAttemptsPerSegment = 1_000
        configuration.blocklistAfterFailures = 1_000
        configuration.maxSegmentsAhead = 2
        var s = FarmScheduler(segments: specs(5_000), configuration: configuration)
        var rng = SplitMix64(seed: 16) // reproducible: a failure names its step
        var peers: [PeerID] = [], ahead: [PeerID: Int] = [:]
        var now = 0.0, steps = 0, moved = 0
        for step in 0..<3_000 where !s.isFinished {
            steps += 1
            now += 0.1
            switch Int.random(in: 0..<12, using: &rng) {
            case 0, 1:
                let peer = Int.random(in: 0..<4, using: &rng) == 0 && !peers.isEmpty ? peers.randomElement(using: &rng)! : PeerID([UInt8(step & 0xFF), UInt8(step >> 8), 9])
                if !peers.contains(peer) { peers.append(peer) }
                ahead[peer] = Int.random(in: 0...2, using: &rng)
                _ = s.onWorkerRegistered(peer, caps("w\(peer)", ahead: UInt8(ahead[peer]!)), now: now)
            case 2:
                if let peer = peers.randomElement(using: &rng), let lease = s.leases(of: peer).randomElement(using: &rng) {
                    _ = s.onWorkerFailure(peer, lease, message: "simulated", now: now)
                }
            case 3:
                if let peer = peers.randomElement(using: &rng) { _ = s.onWorkerGoodbye(peer, now: now) }
            case 4:
                if let peer = peers.randomElement(using: &rng) { _ = s.onPeerUnreachable(peer, now: now) }
            case 5:
                _ = s.onTick(now: now)
            case 6:
                if let peer = peers.randomElement(using: &rng), let lease = s.leases(of: peer).last {
                    s.onLeaseActivity(peer, lease, now: now, rendering: true)
                }
            default:
                for peer in peers where Int.random(in: 0..<3, using: &rng) == 0 {
                    _ = s.onHeartbeat(peer, now: now)
                    guard let lease = s.leases(of: peer).first else { continue }
                    _ = finish(&s, peer, lease, now: now)
                }
            }
            let held = s.liveWorkers.flatMap { s.leases(of: $0) }
            XCTAssertEqual(held.count, Set(held).count, "step \(step): a lease held twice")
            XCTAssertEqual(held.count, s.leasesInFlight(of: 0), "step \(step): leases out and leases held differ")
            for peer in s.liveWorkers { XCTAssertLessThanOrEqual(s.leases(of: peer).count, 1 + ahead[peer]!, "step \(step)") }
            XCTAssertEqual(s.busyWorkerCount, s.liveWorkers.filter { s.currentLease(of: $0) != nil }.count, "step \(step)")
            if held.count != s.leasesInFlight(of: 0) { return }
            moved = s.queuedLeasesMoved()
        }
        XCTAssertGreaterThan(steps, 1_000, "over a thousand random events ran before the job ended")
        print("lease-ahead random events: \(steps) steps, \(s.report().completedSegments) segments done, \(moved) queued leases moved")
    }
}
