import Coordinator
import Shared
import XCTest

/// The heartbeat interval grows with the farm (`HeartbeatPolicy`) and a coordinator behind on its inbox takes no
/// worker for silent (issue 16 item 9: 10,000 workers at the default 1 s collapsed into 107,011 reconnects).
/// Manual clock, no sockets.
final class HeartbeatPolicyTests: XCTestCase {
    func testTheIntervalKeepsTheHeartbeatRateBoundedUpToItsCap() {
        let policy = HeartbeatPolicy() // 1 s, 2,000 a second, cap 10 s
        XCTAssertEqual(policy.interval(workers: 1, current: 1), 1)
        XCTAssertEqual(policy.interval(workers: 2_000, current: 1), 1)
        XCTAssertEqual(policy.interval(workers: 2_001, current: 1), 2)
        XCTAssertEqual(policy.interval(workers: 10_000, current: 1), 5)
        XCTAssertEqual(policy.interval(workers: 10_001, current: 1), 6)
        XCTAssertEqual(policy.interval(workers: 1_000_000, current: 1), 10, "capped")
        var current = 1.0
        for workers in stride(from: 1, through: 20_000, by: 37) {
            current = policy.interval(workers: workers, current: current)
            XCTAssertLessThanOrEqual(Double(workers) / current, 2_000, "\(workers) workers at \(current) s")
            XCTAssertEqual(current, current.rounded(), "whole steps of the base interval")
        }
        let fixed = HeartbeatPolicy(heartbeatsPerSecond: nil)
        XCTAssertEqual(fixed.interval(workers: 50_000, current: 1), 1, "no rate: the interval is fixed")
        let fast = HeartbeatPolicy(baseInterval: 0.1)
        XCTAssertEqual(fast.interval(workers: 150, current: 0.1), 0.1, "a small farm keeps its own interval")
        XCTAssertEqual(fast.interval(workers: 250, current: 0.1), 0.2, accuracy: 1e-9)
        let huge = HeartbeatPolicy(maxInterval: 3_600)
        XCTAssertEqual(huge.interval(workers: 100_000_000, current: 1), 60, "never beyond what a welcome may carry")
    }

    func testTheIntervalShrinksOnlyWellBelowAStep() {
        let policy = HeartbeatPolicy()
        XCTAssertEqual(policy.interval(workers: 2_000, current: 2), 2, "at the edge: stays")
        XCTAssertEqual(policy.interval(workers: 1_700, current: 2), 2, "15 % below: stays")
        XCTAssertEqual(policy.interval(workers: 1_600, current: 2), 1, "20 % below: shrinks")
        XCTAssertEqual(policy.interval(workers: 100, current: 10), 1, "a farm that emptied goes straight back")
    }
}

final class FarmSchedulerHeartbeatTests: XCTestCase {
    func peer(_ i: Int) -> PeerID { PeerID([UInt8(i)]) }

    /// Two heartbeats a second: three workers need 2 s, one 1 s (small numbers, the same rule as 2,000 a second).
    func scheduler(segments: Int = 0) -> FarmScheduler {
        var configuration = SchedulerConfiguration()
        configuration.heartbeat = HeartbeatPolicy(baseInterval: 1, liveness: 3, heartbeatsPerSecond: 2)
        configuration.leaseTimeoutSeconds = 20
        let specs = (0..<segments).map { SegmentSpec(id: SegmentID(SegmentIndex($0 + 1)), inputFrameCount: 10, expectedOutputFrames: 10) }
        return FarmScheduler(segments: specs, configuration: configuration)
    }

    func register(_ s: inout FarmScheduler, _ i: Int, now: Double) -> [FarmDirective] {
        s.onWorkerRegistered(peer(i), WorkerCapabilities(workerName: "w\(i)", host: "h", threads: 1, models: [], freeMemoryBytes: 1 << 30), now: now)
    }

    func welcomes(_ directives: [FarmDirective]) -> [PeerID: Double] {
        var out: [PeerID: Double] = [:]
        for case .welcome(let peer, let interval) in directives { out[peer] = interval }
        return out
    }

    func declaredDead(_ directives: [FarmDirective]) -> [PeerID] {
        directives.compactMap { if case .workerDeclaredDead(let p, _) = $0 { return p } else { return nil } }
    }

    func testAGrowingFarmWelcomesEveryWorkerAgainWithTheLongerInterval() {
        var s = scheduler()
        XCTAssertEqual(welcomes(register(&s, 1, now: 0)), [peer(1): 1])
        XCTAssertEqual(welcomes(register(&s, 2, now: 0)), [peer(2): 1])
        XCTAssertEqual(s.onTick(now: 0.1), [], "two workers at 1 s: two heartbeats a second, within the rate")
        XCTAssertEqual(welcomes(register(&s, 3, now: 0.2)), [peer(3): 1], "the interval changes at the next tick")
        XCTAssertEqual(welcomes(s.onTick(now: 0.3)), [peer(1): 2, peer(2): 2, peer(3): 2], "every worker hears the new interval")
        XCTAssertEqual(s.heartbeatInterval, 2)
        XCTAssertEqual(welcomes(register(&s, 4, now: 0.4)), [peer(4): 2], "a newcomer is welcomed with the interval in force")
        XCTAssertEqual(s.workerExpirySeconds(now: 0.5), 6)
        for i in 1...4 { _ = s.onHeartbeat(peer(i), now: 1) }
        XCTAssertEqual(declaredDead(s.onTick(now: 6.9)), [], "5.9 s of silence is within 3 × 2 s")
        XCTAssertEqual(declaredDead(s.onTick(now: 7.1)), (1...4).map(peer))
    }

    func testAShrinkingFarmKeepsTheOldExpiryUntilEveryWorkerHeardTheShorterInterval() {
        var s = scheduler()
        for i in 1...3 { _ = register(&s, i, now: 0) }
        _ = s.onTick(now: 0)
        XCTAssertEqual(s.heartbeatInterval, 2)
        _ = s.onWorkerGoodbye(peer(3), now: 1)
        XCTAssertEqual(welcomes(s.onTick(now: 1)), [:], "two workers: 2.5 with the hysteresis, still 2 s")
        _ = s.onWorkerGoodbye(peer(2), now: 2)
        XCTAssertEqual(welcomes(s.onTick(now: 2)), [peer(1): 1], "one worker: back to 1 s")
        XCTAssertEqual(s.workerExpirySeconds(now: 2), 6, "it may not have heard the new interval yet")
        XCTAssertEqual(declaredDead(s.onTick(now: 5.5)), [], "silent 5.5 s, last heard under the 2 s interval")
        XCTAssertEqual(s.workerExpirySeconds(now: 8.1), 3, "the old expiry has run out")
        _ = s.onHeartbeat(peer(1), now: 8)
        XCTAssertEqual(declaredDead(s.onTick(now: 10.9)), [])
        XCTAssertEqual(declaredDead(s.onTick(now: 11.1)), [peer(1)])
    }

    func testACoordinatorBehindOnItsInboxTakesNoWorkerForSilentOrStalled() {
        var s = scheduler(segments: 2)
        _ = register(&s, 1, now: 0)
        let lease = s.currentLease(of: peer(1))!
        s.onLeaseActivity(peer(1), lease, now: 0.5, rendering: true)
        // The loop last emptied its inbox at 1 s: whatever the worker sent since may be waiting unread.
        let behind = s.onTick(now: 30, heardUntil: 1)
        XCTAssertEqual(declaredDead(behind), [], "silence is measured up to the last empty inbox, not to now")
        XCTAssertFalse(behind.contains { if case .cancel = $0 { return true } else { return false } }, "nor a stall")
        XCTAssertEqual(s.currentLease(of: peer(1)), lease)
        // Its messages, read at last, prove it alive; once the inbox is empty, real silence counts again.
        _ = s.onHeartbeat(peer(1), now: 30.1)
        s.onLeaseActivity(peer(1), lease, now: 30.1, rendering: true)
        XCTAssertEqual(declaredDead(s.onTick(now: 31, heardUntil: 31)), [])
        XCTAssertEqual(declaredDead(s.onTick(now: 33.2, heardUntil: 33.2)), [peer(1)])
        XCTAssertFalse(s.isRegistered(peer(1)))
    }

    func testAStalledLeaseIsCancelledOnceTheInboxIsRead() {
        var s = scheduler(segments: 2)
        _ = register(&s, 1, now: 0)
        let lease = s.currentLease(of: peer(1))!
        s.onLeaseActivity(peer(1), lease, now: 0.5, rendering: true)
        for t in stride(from: 1.0, through: 25, by: 1) { _ = s.onHeartbeat(peer(1), now: t) } // heartbeating, no progress
        XCTAssertFalse(s.onTick(now: 25, heardUntil: 20).contains { if case .cancel = $0 { return true } else { return false } },
                       "the deadline (20.5 s) is not passed in what was read")
        XCTAssertTrue(s.onTick(now: 25.1, heardUntil: 25.1).contains { if case .cancel(_, let l, _) = $0 { return l == lease } else { return false } })
        XCTAssertEqual(s.lateOrLost, 1, "late, not failed: no blocklist")
    }
}
