import Foundation
import Shared
import Transport

/// A job's place on a standing farm (`serve`): its id in the service's queue (unique among the jobs on the farm) and
/// its priority.
public struct FarmJobPlacement: Sendable, Equatable {
    public var id: FarmJobID
    public var priority: Int

    public init(id: FarmJobID, priority: Int) {
        self.id = id
        self.priority = priority
    }
}

/// A job handed to the serving loop by another thread, and the outcome that thread waits for.
final class FarmTicket: @unchecked Sendable {
    let placement: FarmJobPlacement
    let feed: SegmentFeed
    let inputs: SegmentInputProvider
    let results: SegmentResultSink
    /// Whether the job's stop was asked already (it may come before the loop admits the job: then it is drained at once).
    let stopped: @Sendable () -> Bool
    private let condition = NSCondition()
    private var outcome: Result<JobReport, Error>?

    init(placement: FarmJobPlacement, feed: SegmentFeed, inputs: @escaping SegmentInputProvider, results: @escaping SegmentResultSink,
         stopped: @escaping @Sendable () -> Bool) {
        self.placement = placement
        self.stopped = stopped
        self.feed = feed
        self.inputs = inputs
        self.results = results
    }

    func deliver(_ result: Result<JobReport, Error>) {
        condition.lock(); defer { condition.unlock() }
        if outcome == nil { outcome = result }
        condition.broadcast()
    }

    func wait() -> Result<JobReport, Error> {
        condition.lock(); defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        return outcome!
    }
}

/// What other threads asked of the serving loop since its last turn (under the coordinator's lock).
struct FarmInbox {
    var arriving: [FarmTicket] = []
    var drains: Set<FarmJobID> = []
    var priorities: [FarmJobID: Int] = [:]
}

/// `serve`: one loop on one thread owns the socket for the life of the service (issue 18). Workers connect once and
/// stay; each job runs its own `FarmRestorePipeline` on its own thread, whose `run(feed:…placement:)` puts the job on
/// this farm and waits. The standing `FarmScheduler` interleaves the segments of every job on the farm by priority,
/// fairly; results and input transfers go to the job that owns the segment (`FarmState.owner`).
extension FarmCoordinator {
    /// Runs the farm on the calling thread while `keepServing` says so and until the jobs on it have ended.
    public func serve(while keepServing: () -> Bool) throws {
        guard let socket else { throw FarmError.notBound }
        var state = FarmState(scheduler: FarmScheduler(configuration: configuration.effectiveScheduler, now: now))
        var clocks = LoopClocks()
        monitor.recordJobStarted(segments: [])
        defer {
            let left = lock.withLock { () -> [FarmTicket] in
                servingEnded = true
                defer { inbox = FarmInbox() }
                return inbox.arriving
            }
            for (id, job) in state.jobs { job.ticket?.deliver(.failure(FarmError.interrupted(state.scheduler.report(of: id)))) }
            for ticket in left { ticket.deliver(.failure(FarmError.notBound)) }
            transfers.removeAll(); outbox.removeAll(); unreachable.removeAll()
        }
        while keepServing() || !state.jobs.isEmpty || lock.withLock({ !inbox.arriving.isEmpty }) {
            try admit(&state)
            try step(&state, &clocks, socket)
            try retire(&state)
        }
    }

    /// Asks one job on a standing farm to stop: its pending segments leave the queue at once, its leases in flight
    /// finish (up to `drainTimeoutSeconds`); then its `run` throws `FarmError.interrupted`.
    public func requestDrain(job: FarmJobID) { lock.withLock { _ = inbox.drains.insert(job) } }

    /// A job's new priority on a standing farm, from its next free worker on.
    public func setPriority(job: FarmJobID, _ priority: Int) { lock.withLock { inbox.priorities[job] = priority } }

    /// Frames done and known so far of a job on a standing farm (nil once it left, or before its first segment).
    public func progress(of job: FarmJobID) -> (done: Int64, total: Int64)? { lock.withLock { jobProgress[job] } }

    func addProgress(_ job: FarmJobID, done: Int64 = 0, total: Int64 = 0) {
        lock.withLock {
            var entry = jobProgress[job] ?? (0, 0)
            entry.done += done
            entry.total += total
            jobProgress[job] = entry
        }
    }

    /// From a job's thread: hands the job to the serving loop and waits for its outcome.
    func runOnStandingFarm(_ ticket: FarmTicket) throws -> JobReport {
        let accepted = lock.withLock { () -> Bool in
            guard !servingEnded else { return false }
            inbox.arriving.append(ticket)
            return true
        }
        guard accepted else { throw FarmError.notBound }
        return try ticket.wait().get()
    }

    /// Jobs arriving, drains and priority changes asked since the last turn.
    private func admit(_ state: inout FarmState) throws {
        let asked = lock.withLock { () -> FarmInbox in
            defer { inbox = FarmInbox() }
            return inbox
        }
        for ticket in asked.arriving {
            let id = ticket.placement.id
            guard state.jobs[id] == nil else {
                ticket.deliver(.failure(FarmError.duplicateJob(id)))
                continue
            }
            let first = ticket.feed.take()
            let specs: [SegmentSpec]
            do { specs = try first.segments.map { try FarmState.onFarm($0, job: id) } } catch {
                ticket.deliver(.failure(error))
                continue
            }
            if ticket.stopped() {
                // Stopped before it reached the farm: no segment goes out (the next run plans them again).
                ticket.deliver(.failure(FarmError.interrupted(JobReport(segmentCount: specs.count, completedSegments: 0, failed: nil, completedByWorker: [:],
                                                                        blocklistedWorkers: [], discardedResults: 0, requeues: 0, speculativeCopies: 0))))
                continue
            }
            state.jobs[id] = ActiveJob(feed: ticket.feed, feedOpen: !first.complete, inputs: ticket.inputs, results: ticket.results, ticket: ticket)
            for (farmSpec, spec) in zip(specs, first.segments) { state.jobs[id]!.specs[farmSpec.id] = spec }
            lock.withLock { jobProgress[id] = (0, specs.reduce(0) { $0 + Int64($1.expectedOutputFrames) }) }
            monitor.recordSegmentsAdded(specs)
            logger.notice("job \(id) joins the farm: \(specs.count) segments known\(first.complete ? "" : " so far"), priority \(ticket.placement.priority)")
            try apply(state.scheduler.onJobAdded(id, segments: specs, priority: ticket.placement.priority,
                                                 planComplete: first.complete && first.failure == nil, now: now), &state)
            if let failure = first.failure { state.fail(id, failure) }
        }
        for (id, priority) in asked.priorities where state.jobs[id] != nil {
            try apply(state.scheduler.onJobPriority(id, priority, now: now), &state)
        }
        // A drain for a job not on the farm is dropped: a stop asked before its job arrived is seen by `ticket.stopped`
        // (the stop signal is raised before its drain is asked, so one of the two sees it).
        for id in asked.drains {
            guard state.jobs[id] != nil, state.jobs[id]!.drainStartedAt == nil else { continue }
            state.jobs[id]!.drainStartedAt = now
            try apply(state.scheduler.onJobWithdrawn(id), &state) // calls back its leases queued and not started
            logger.notice("job \(id): no new segments; waiting up to \(configuration.drainTimeoutSeconds) s for its \(state.scheduler.leasesInFlight(of: id)) in flight")
        }
    }

    /// Jobs with an outcome leave the farm (their leases still out are called back) and their threads get it.
    private func retire(_ state: inout FarmState) throws {
        for id in state.jobs.keys.sorted() {
            guard let outcome = state.jobs[id]!.outcome else { continue }
            try apply(state.scheduler.onJobRemoved(id, now: now), &state)
            let job = state.jobs.removeValue(forKey: id)!
            let left = lock.withLock { jobProgress.removeValue(forKey: id) }
            monitor.recordFramesWithdrawn((left?.total ?? 0) - (left?.done ?? 0))
            job.ticket?.deliver(outcome)
        }
    }
}
