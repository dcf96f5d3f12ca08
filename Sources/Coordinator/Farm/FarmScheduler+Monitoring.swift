import Shared

/// Scheduler counters for monitoring (live view, status, metrics): all O(1) or O(workers), cheap at 20 Hz.
public struct SchedulerCounts: Equatable, Sendable {
    public var total = 0
    public var pending = 0
    /// Being rendered (or returned) by a worker.
    public var running = 0
    /// Held by a worker queued behind the segment it renders (lease-ahead), not started: it has its input and starts
    /// the moment the one before ends. Not in `running`, so one worker never shows as two segments running.
    public var ahead = 0
    public var done = 0
    public var failed = 0
    public var requeues = 0
    public var speculativeCopies = 0

    public init(total: Int = 0, pending: Int = 0, running: Int = 0, ahead: Int = 0, done: Int = 0, failed: Int = 0,
                requeues: Int = 0, speculativeCopies: Int = 0) {
        self.total = total
        self.pending = pending
        self.running = running
        self.ahead = ahead
        self.done = done
        self.failed = failed
        self.requeues = requeues
        self.speculativeCopies = speculativeCopies
    }
}

extension FarmScheduler {
    public var counts: SchedulerCounts {
        var counts = SchedulerCounts(total: segments.count)
        for job in jobs.values {
            counts.pending += job.pending.count
            counts.done += job.done
            counts.failed += job.failed
            counts.requeues += job.requeues
            counts.speculativeCopies += job.speculations
            // A withdrawn job's segments left the queue: only its leases still out are running.
            counts.running += job.withdrawn ? job.inFlight : max(0, job.segmentCount - job.pending.count - job.done - job.failed)
        }
        // Segments out only as queued leases (a speculative copy rendering elsewhere keeps one running). O(leases).
        var ahead = Set<SegmentID>()
        for lease in queuedOrder where segments[lease.segment]?.active.values.allSatisfy(\.queued) == true {
            ahead.insert(lease.segment)
        }
        counts.ahead = ahead.count
        counts.running = max(0, counts.running - ahead.count)
        return counts
    }

    /// Failed tries per worker name (death, stall, error, invalid result).
    public var failuresByWorker: [String: Int] { failuresByName }

    /// The worker name behind a registered peer.
    public func workerName(of peer: PeerID) -> String? { workers[peer]?.name }

    public func isBlocklisted(name: String) -> Bool { blocklist.contains(name) }
}
