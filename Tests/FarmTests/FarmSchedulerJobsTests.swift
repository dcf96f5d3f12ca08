import Coordinator
import Shared
import XCTest

/// Several jobs on one standing farm (issue 18: "segments of several jobs are interleaved by priority, fairly"),
/// driven with a manual clock: strictly higher priority first, equal priorities share the workers (the job with the
/// fewest leases in flight, then the earlier one), a withdrawn job's segments leave the queue, one job's failures do
/// not touch another's segments.
final class FarmSchedulerJobsTests: XCTestCase {
    let a = PeerID([1]), b = PeerID([2]), c = PeerID([3]), d = PeerID([4])

    /// Job `job`'s segment `n`, numbered as the service numbers them (the job in the high bits).
    func id(_ job: Int, _ n: Int) -> SegmentID { try! SegmentID(job: job, segment: SegmentIndex(n)) }

    func specs(_ job: Int, _ count: Int, frames: UInt32 = 10) -> [SegmentSpec] {
        (1...count).map { SegmentSpec(id: id(job, $0), inputFrameCount: frames, expectedOutputFrames: frames, expectedFrameSize: (64, 48)) }
    }

    func capabilities(_ name: String) -> WorkerCapabilities {
        WorkerCapabilities(workerName: name, host: "h", threads: 4, models: [], freeMemoryBytes: 1 << 30)
    }

    func farm() -> FarmScheduler {
        var configuration = SchedulerConfiguration()
        configuration.leaseTimeoutSeconds = 20
        configuration.speculateAfterMedianFactor = nil
        return FarmScheduler(configuration: configuration, now: 0)
    }

    /// The job of each assignment, in order (from the segment id, as numbered by `id`).
    func assignedJobs(_ directives: [FarmDirective]) -> [Int] {
        directives.compactMap { if case .assign(_, let lease, _) = $0 { return lease.segment.job } else { return nil } }
    }

    func finish(_ s: inout FarmScheduler, _ peer: PeerID, now: Double) -> [FarmDirective] {
        let lease = s.currentLease(of: peer)!
        let info = SegmentResultInfo(frameCount: 10, frameWidth: 64, frameHeight: 48, output: PayloadDescription(byteCount: 10, checksum: 1))
        XCTAssertEqual(s.onResultAnnounced(peer, lease, info, now: now), [.receiveResult(peer, lease)])
        return s.onResultReceived(peer, lease, info, received: info.output, now: now)
    }

    func register(_ s: inout FarmScheduler, _ peers: [PeerID], now: Double = 0) -> [FarmDirective] {
        peers.flatMap { s.onWorkerRegistered($0, capabilities("w\($0.bytes[0])"), now: now) }
    }

    func testOneWorkerAlternatesBetweenTwoEqualJobs() {
        var s = farm()
        _ = s.onJobAdded(1, segments: specs(1, 3), planComplete: true, now: 0)
        _ = s.onJobAdded(2, segments: specs(2, 3), planComplete: true, now: 0)
        var order = assignedJobs(register(&s, [a]))
        for t in 1...5 { order += assignedJobs(finish(&s, a, now: Double(t))) }
        XCTAssertEqual(order, [1, 2, 1, 2, 1, 2])
    }

    func testFreedWorkersGoToTheJobWithFewerLeasesUntilTheyAreLevel() {
        var s = farm()
        _ = register(&s, [a, b, c, d])
        var order = assignedJobs(s.onJobAdded(1, segments: specs(1, 20), planComplete: true, now: 1))
        XCTAssertEqual(order, [1, 1, 1, 1], "alone on the farm, job 1 takes every worker")
        order = assignedJobs(s.onJobAdded(2, segments: specs(2, 20), planComplete: true, now: 1))
        XCTAssertEqual(order, [], "leases in flight are not taken back")
        var next: [Int] = []
        for (t, peer) in [a, b, c, d, a, b, c, d].enumerated() { next += assignedJobs(finish(&s, peer, now: 2 + Double(t))) }
        XCTAssertEqual(next, [2, 2, 1, 1, 2, 2, 1, 1], "job 2 catches up to two of four workers, then each keeps its half")
        XCTAssertEqual(s.leasesInFlight(of: 1), 2)
        XCTAssertEqual(s.leasesInFlight(of: 2), 2)
    }

    func testEqualJobsShareTheWorkersFromTheStartAndBothComplete() {
        var s = farm()
        _ = s.onJobAdded(1, segments: specs(1, 3), planComplete: true, now: 0)
        _ = s.onJobAdded(2, segments: specs(2, 3), planComplete: true, now: 0)
        XCTAssertEqual(assignedJobs(register(&s, [a, b, c, d])), [1, 2, 1, 2], "ties go to the earlier job, then the shares level")
        var completed: [Int] = []
        var t = 1.0
        while completed.count < 2 {
            for peer in [a, b, c, d] where s.currentLease(of: peer) != nil {
                for case .jobCompleted(let report) in finish(&s, peer, now: t) {
                    XCTAssertEqual(report.completedSegments, 3)
                    completed.append(report.job)
                }
                t += 1
            }
            XCTAssertLessThan(t, 50)
        }
        XCTAssertEqual(Set(completed), [1, 2])
        XCTAssertFalse(s.isFinished, "a standing farm outlives its jobs")
    }

    func testAHigherPriorityJobTakesEveryFreeWorker() {
        var s = farm()
        _ = register(&s, [a, b])
        XCTAssertEqual(assignedJobs(s.onJobAdded(1, segments: specs(1, 5), planComplete: true, now: 0)), [1, 1])
        _ = s.onJobAdded(2, segments: specs(2, 3), priority: 5, planComplete: true, now: 0)
        XCTAssertEqual(assignedJobs(register(&s, [c, d], now: 1)), [2, 2], "new workers go to the higher priority")
        var next: [Int] = []
        for (t, peer) in [a, b, c].enumerated() { next += assignedJobs(finish(&s, peer, now: 2 + Double(t))) }
        XCTAssertEqual(next, [2, 1, 1], "job 2's last segment first, although job 1 has fewer leases; then job 1 again")
        // Raising job 1 above job 2 changes who gets the next free worker.
        _ = s.onJobPriority(1, 9, now: 5)
        _ = s.onJobAdded(3, segments: specs(3, 2), priority: 5, planComplete: true, now: 5)
        XCTAssertEqual(assignedJobs(finish(&s, d, now: 6)), [1])
    }

    func testAWithdrawnJobsSegmentsLeaveTheQueueWhileItsLeasesFinish() {
        var s = farm()
        _ = s.onJobAdded(1, segments: specs(1, 4), planComplete: true, now: 0)
        _ = s.onJobAdded(2, segments: specs(2, 4), planComplete: true, now: 0)
        XCTAssertEqual(assignedJobs(register(&s, [a, b])), [1, 2])
        s.onJobWithdrawn(1) // paused or cancelled
        XCTAssertEqual(s.pendingCount(of: 1), 0)
        XCTAssertEqual(s.leasesInFlight(of: 1), 1, "its lease in flight is not cut")
        let done = finish(&s, a, now: 1)
        XCTAssertTrue(done.contains { if case .acceptResult = $0 { return true } else { return false } }, "a withdrawn job's result is still kept")
        XCTAssertEqual(assignedJobs(done), [2], "the freed worker goes to job 2")
        XCTAssertEqual(s.leasesInFlight(of: 1), 0, "job 1 may now leave the farm")
        XCTAssertEqual(s.report(of: 1).completedSegments, 1)
        XCTAssertEqual(s.onJobRemoved(1, now: 2), [])
        XCTAssertEqual(s.jobIDs, [2])
        XCTAssertNil(s.job(of: id(1, 1)), "its segments are forgotten")
        XCTAssertEqual(s.job(of: id(2, 1)), 2)
        // Removed with leases still out: they are called back.
        s.onJobWithdrawn(2)
        let lease = s.currentLease(of: b)!, other = s.currentLease(of: a)!
        let removed = s.onJobRemoved(2, now: 3)
        XCTAssertEqual(removed, [.cancel(b, lease, reason: "its job left the farm"), .cancel(a, other, reason: "its job left the farm")])
        XCTAssertNil(s.currentLease(of: b))
        XCTAssertEqual(s.jobIDs, [])
        XCTAssertEqual(s.onResultAnnounced(b, lease, SegmentResultInfo(frameCount: 10, frameWidth: 64, frameHeight: 48,
                                                                       output: PayloadDescription(byteCount: 10, checksum: 1)), now: 4),
                       [.discardResult(b, lease, reason: "result for \(lease) discarded: lease is not current (cancelled or re-assigned)")])
    }

    func testAFailingSegmentFailsOnlyItsJob() {
        var s = farm()
        _ = s.onJobAdded(1, segments: specs(1, 2), planComplete: true, now: 0)
        _ = s.onJobAdded(2, segments: specs(2, 1), planComplete: true, now: 0)
        XCTAssertEqual(assignedJobs(register(&s, [a, b, c])), [1, 2, 1])
        var failedJobs: [Int] = []
        var t = 1.0
        // Whoever holds job 1's first segment fails it, until it runs out of tries (3).
        while failedJobs.isEmpty, t < 30 {
            for peer in [a, b, c] {
                guard let lease = s.currentLease(of: peer), lease.segment == id(1, 1) else { continue }
                for case .jobFailed(let report) in s.onWorkerFailure(peer, lease, message: "bad", now: t) { failedJobs.append(report.job) }
                t += 1
            }
            t += 1
        }
        XCTAssertEqual(failedJobs, [1])
        XCTAssertTrue(s.isFinished(job: 1))
        XCTAssertEqual(s.leasesInFlight(of: 1), 0, "job 1's other lease was called back")
        XCTAssertFalse(s.isFinished(job: 2))
        XCTAssertEqual(s.report(of: 2).requeues, 0, "job 2 saw none of it")
        var completed: [Int] = []
        for peer in [a, b, c] where s.currentLease(of: peer) != nil {
            for case .jobCompleted(let report) in finish(&s, peer, now: t) { completed.append(report.job) }
        }
        for peer in [a, b, c] where s.currentLease(of: peer) != nil {
            for case .jobCompleted(let report) in finish(&s, peer, now: t + 1) { completed.append(report.job) }
        }
        XCTAssertEqual(completed, [2])
    }

    func testTheBlocklistIsPerWorkerAcrossJobs() {
        var s = farm()
        _ = s.onJobAdded(1, segments: specs(1, 3), planComplete: true, now: 0)
        _ = register(&s, [a, b])
        // Worker a fails two different segments of job 1: it is blocklisted on the farm (b can do the work).
        var out = s.onWorkerFailure(a, s.currentLease(of: a)!, message: "bad", now: 1)
        out += s.onWorkerFailure(a, s.currentLease(of: a)!, message: "bad", now: 2)
        XCTAssertTrue(out.contains { if case .rejectWorker(a, _) = $0 { return true } else { return false } })
        XCTAssertTrue(s.report(of: 1).blocklistedWorkers == ["w1"])
        _ = s.onJobAdded(2, segments: specs(2, 1), planComplete: true, now: 3)
        XCTAssertEqual(s.onWorkerRegistered(a, capabilities("w1"), now: 4).count, 1, "job 2 does not take it back either")
        XCTAssertFalse(s.isFinished(job: 1), "two failed tries are below the segment's cap")
    }

    func testAStragglerIsJudgedByItsOwnJobsPace() {
        var configuration = SchedulerConfiguration()
        configuration.leaseTimeoutSeconds = 20
        configuration.speculateAfterMedianFactor = 3
        configuration.minimumCompletionsBeforeSpeculating = 3
        var s = FarmScheduler(configuration: configuration, now: 0)
        _ = s.onJobAdded(1, segments: specs(1, 4), planComplete: true, now: 0)
        _ = s.onJobAdded(2, segments: specs(2, 1), planComplete: true, now: 0)
        XCTAssertEqual(assignedJobs(register(&s, [a, b, c, d])), [1, 2, 1, 1])
        // Job 1 is fast: 1 s per segment; its last segment goes to a.
        var next: [Int] = []
        for peer in [a, c, d] { next += assignedJobs(finish(&s, peer, now: 1)) }
        XCTAssertEqual(next, [1])
        // At 5 s, job 1's last segment is overdue for job 1's pace (4 s > 3 × 1 s) and gets a copy; job 2's segment,
        // 5 s old, has no pace of its own yet: a farm-wide median of job 1's would have copied it too.
        for peer in [a, b, c, d] { _ = s.onHeartbeat(peer, now: 5) }
        let copies = s.onTick(now: 5).compactMap { if case .assign(let peer, let lease, _) = $0 { return (peer, lease.segment) } else { return nil } }
        XCTAssertEqual(copies.map(\.1), [id(1, 4)])
        XCTAssertEqual(s.report(of: 1).speculativeCopies, 1)
        XCTAssertEqual(s.report(of: 2).speculativeCopies, 0)
    }

    func testStreamingJobsAndAnEmptyJob() {
        var s = farm()
        _ = register(&s, [a])
        XCTAssertEqual(s.onJobAdded(7, segments: [], planComplete: true, now: 0).count, 1, "nothing to do: complete at once")
        XCTAssertEqual(assignedJobs(s.onJobAdded(8, segments: [], planComplete: false, now: 0)), [])
        XCTAssertEqual(assignedJobs(s.onSegmentsAdded(specs(8, 1), job: 8, now: 1)), [8])
        XCTAssertTrue(finish(&s, a, now: 2).allSatisfy { if case .jobCompleted = $0 { return false } else { return true } })
        XCTAssertEqual(s.onPlanComplete(job: 8, now: 3).count, 1)
        XCTAssertTrue(s.isFinished(job: 8))
        // A streaming job withdrawn while its plan grows: later segments are never handed out, and the plan's end does
        // not make it complete (it stopped; its next run plans them again).
        _ = s.onJobAdded(9, segments: specs(9, 1), planComplete: false, now: 4)
        _ = finish(&s, a, now: 5)
        s.onJobWithdrawn(9)
        XCTAssertEqual(assignedJobs(s.onSegmentsAdded(specs(9, 2), job: 9, now: 6)), [])
        XCTAssertEqual(s.onPlanComplete(job: 9, now: 7), [])
        XCTAssertFalse(s.isFinished(job: 9))
        XCTAssertEqual(s.leasesInFlight(of: 9), 0, "nothing in flight: it may leave the farm")
    }
}
