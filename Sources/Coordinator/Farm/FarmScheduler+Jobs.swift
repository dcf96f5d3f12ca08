import Shared

/// A job on the farm as the scheduler knows it: 0 for the one job of `restore`, the queue's job id under `serve`.
public typealias FarmJobID = Int

/// Several jobs on one farm (issue 18: "segments of several jobs are interleaved by priority, fairly"). Each job has
/// its own pending segments, counters and report; workers, their liveness and the blocklist (per worker name) are the
/// farm's. A free worker takes the next segment of the job `jobsByPolicy` puts first.
extension FarmScheduler {
    struct JobEntry {
        var priority: Int
        /// Arrival order on the farm: the last tie-break between equal jobs.
        var sequence: Int
        /// Pending segments in dispatch order (`FarmScheduler.precedes`): dispatch never rescans all segments.
        var pending: [SegmentID]
        var segmentCount: Int
        var planComplete: Bool
        var done = 0
        var failed = 0
        /// Leases out on workers (a speculative copy counts too): the fair share's measure.
        var inFlight = 0
        /// When it last got a lease (`FarmScheduler.leasesGiven` then): between jobs level in flight, the one served
        /// longest ago goes first, so one free worker alternates between equal jobs instead of staying with the first.
        var lastServed = 0
        var finished = false
        /// Paused, cancelled or stopping: its pending segments left the queue; leases in flight may still finish.
        var withdrawn = false
        var completedByName: [String: Int] = [:]
        /// Seconds per unit of cost of its accepted leases, for deciding when a running lease is a straggler: per job,
        /// as jobs differ in model and scale (and the list ends with its job, not with the service).
        var secondsPerCost: [Double] = []
        var requeues = 0
        var speculations = 0
        var discarded = 0
        /// Queued leases not started that a worker falling idle took over (lease-ahead, `takeOverQueued`).
        var moved = 0

        init(priority: Int, sequence: Int, pending: [SegmentID], segmentCount: Int, planComplete: Bool) {
            self.priority = priority
            self.sequence = sequence
            self.pending = pending
            self.segmentCount = segmentCount
            self.planComplete = planComplete
        }
    }

    // MARK: Policy

    /// Jobs with work to hand out, in the order they get the next free worker: strictly higher priority first; among
    /// equal priorities the job with the fewest leases in flight (a fair share of the workers), then the one served
    /// longest ago (round robin: one worker alternates between two equal jobs), then the one that came first.
    /// O(jobs · log jobs) per free worker; a farm runs a handful of jobs at once.
    func jobsByPolicy() -> [FarmJobID] {
        jobs.filter { !$0.value.finished && !$0.value.withdrawn && !$0.value.pending.isEmpty }
            .sorted { a, b in
                if a.value.priority != b.value.priority { return a.value.priority > b.value.priority }
                if a.value.inFlight != b.value.inFlight { return a.value.inFlight < b.value.inFlight }
                if a.value.lastServed != b.value.lastServed { return a.value.lastServed < b.value.lastServed }
                return a.value.sequence < b.value.sequence
            }
            .map(\.key)
    }

    // MARK: Queries

    /// The jobs on the farm (finished ones stay until `onJobRemoved`).
    public var jobIDs: [FarmJobID] { jobs.keys.sorted() }
    public func leasesInFlight(of job: FarmJobID) -> Int { jobs[job]?.inFlight ?? 0 }
    public func pendingCount(of job: FarmJobID) -> Int { jobs[job]?.pending.count ?? 0 }
    /// Queued leases of the job that idle workers took over before they started (lease-ahead).
    public func queuedLeasesMoved(of job: FarmJobID = 0) -> Int { jobs[job]?.moved ?? 0 }
    public func isFinished(job: FarmJobID) -> Bool { jobs[job]?.finished ?? true }
    /// The job a segment belongs to (nil for an unknown id: a removed job's, or garbage from a worker).
    public func job(of segment: SegmentID) -> FarmJobID? { segments[segment]?.job }

    // MARK: Events

    /// A job comes to the farm with the segments known so far (`planComplete: false`: more come with
    /// `onSegmentsAdded(_:job:now:)`). Its segment ids must differ from every other job's on the farm.
    public mutating func onJobAdded(_ job: FarmJobID, segments specs: [SegmentSpec], priority: Int = 0, planComplete: Bool,
                                    now: Double) -> [FarmDirective] {
        precondition(jobs[job] == nil, "FarmScheduler: job \(job) is on the farm already")
        precondition(specs.allSatisfy { segments[$0.id] == nil }, "FarmScheduler: job \(job) reuses another job's segment id")
        let sorted = specs.sorted(by: FarmScheduler.precedes)
        for spec in sorted { segments[spec.id] = Segment(spec: spec, job: job) }
        order = merge(order, sorted.map(\.id))
        jobSequence += 1
        jobs[job] = JobEntry(priority: priority, sequence: jobSequence, pending: sorted.map(\.id), segmentCount: specs.count,
                             planComplete: planComplete)
        if planComplete && specs.isEmpty { return [.jobCompleted(finish(job))] }
        return dispatch(now: now)
    }

    /// The job's priority changed: it applies from the next free worker on (leases in flight are not taken back).
    public mutating func onJobPriority(_ job: FarmJobID, _ priority: Int, now: Double) -> [FarmDirective] {
        guard jobs[job] != nil else { return [] }
        jobs[job]!.priority = priority
        return dispatch(now: now)
    }

    /// The job stops (pause, cancel, a higher priority in a queue, the service stopping): its pending segments leave
    /// the queue at once, and so do its leases queued on workers behind another segment and not started (lease-ahead:
    /// they are called back, without counting a try); its leases rendering may finish (`leasesInFlight(of:)` says when
    /// none is left), then `onJobRemoved`. Other jobs take the workers it frees.
    @discardableResult
    public mutating func onJobWithdrawn(_ job: FarmJobID) -> [FarmDirective] {
        guard jobs[job] != nil else { return [] }
        jobs[job]!.withdrawn = true
        jobs[job]!.pending = []
        let queued = queuedOrder.filter { segments[$0.segment]?.job == job } // callBack changes the order
        return queued.map { callBack($0, reason: "its job stopped before \($0) started") }
    }

    /// The job leaves the farm: leases still out are called back and its segments forgotten (a result that comes
    /// later is discarded as stale). Free workers go to the other jobs.
    public mutating func onJobRemoved(_ job: FarmJobID, now: Double) -> [FarmDirective] {
        guard jobs[job] != nil else { return [] }
        let out = cancelLeases(of: job, reason: "its job left the farm", now: now)
        order.removeAll { segments[$0]?.job == job }
        segments = segments.filter { $0.value.job != job }
        jobs[job] = nil
        return out + dispatch(now: now)
    }

    // MARK: Internals

    /// Ends one lease of a segment (result, failure, hand-back, cancel), keeping the job's count of leases in flight.
    mutating func endLease(_ lease: LeaseRef) {
        guard let job = segments[lease.segment]?.job, let ended = segments[lease.segment]!.active.removeValue(forKey: lease) else { return }
        jobs[job]?.inFlight -= 1
        if ended.queued { removeQueued(lease) }
    }

    /// Marks the job finished (no more dispatch, its leases are no longer current) and returns its report.
    mutating func finish(_ job: FarmJobID) -> JobReport {
        jobs[job]!.finished = true
        if !isStanding { isFinished = true }
        return report(of: job)
    }

    /// Calls back every lease of the job still on a worker (the workers become free).
    mutating func cancelLeases(of job: FarmJobID, reason: String, now: Double) -> [FarmDirective] {
        guard jobs[job]?.inFlight ?? 0 > 0 else { return [] }
        var out: [FarmDirective] = []
        for id in order where segments[id]!.job == job && !segments[id]!.active.isEmpty {
            for (lease, active) in segments[id]!.active.sorted(by: { $0.key.attempt < $1.key.attempt }) {
                out.append(.cancel(active.peer, lease, reason: reason))
                dropLease(active.peer, lease, now: now)
                endLease(lease)
            }
        }
        return out
    }
}
