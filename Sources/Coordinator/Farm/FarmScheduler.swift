import Shared

/// The farm's scheduling logic as a pure state machine: events in, directives out, time passed in.
/// No sockets, no clock, no files — the coordinator shell does all I/O, and tests drive this directly.
/// Dispatch, speculation and the report live in FarmScheduler+Dispatch.swift; several jobs on one farm (`serve`,
/// issue 18) in FarmScheduler+Jobs.swift.
public struct FarmScheduler {
    enum Status: Equatable { case pending, running, done, failed }

    struct ActiveLease {
        var peer: PeerID
        var startedAt: Double
        var deadline: Double
        /// The worker has acted on this lease (credit, progress, result): it surely received it.
        var acknowledged = false
        /// Waiting behind another lease on its worker, not rendering yet (lease-ahead): no deadline, not a straggler,
        /// and movable to a worker that falls idle. Cleared when it becomes the worker's first lease or reports progress;
        /// `startedAt` and the deadline count from then.
        var queued = false
    }

    struct Segment {
        var spec: SegmentSpec
        /// The job it belongs to (0 for the one job of a scheduler made with its segments).
        var job: FarmJobID = 0
        var status: Status = .pending
        var attemptsStarted: UInt32 = 0
        var failures: [String] = []
        var failedOn: Set<String> = []
        /// Usually one; two while a speculative copy races a straggler.
        var active: [LeaseRef: ActiveLease] = [:]
    }

    struct Worker {
        var name: String
        var lastSeen: Double
        /// The first renders (or returns its result), the others are queued behind it (lease-ahead). Change only through
        /// `addLease`/`dropLease` (FarmScheduler+Leases.swift), which keep `idleOrder` and `roomOrder` in step.
        var leases: [LeaseRef] = []
        /// Leases it may hold: 1 + the segments ahead it accepts (`WorkerCapabilities.segmentsAhead`, capped by
        /// `SchedulerConfiguration.maxSegmentsAhead`).
        var capacity: Int
        /// Registration order (kept across a re-registration of the same connection), for `idleOrder`.
        var sequence: Int
    }

    public let configuration: SchedulerConfiguration
    /// Every job's segments; ids are unique across jobs (the shell numbers them so).
    var segments: [SegmentID: Segment] = [:]
    /// Longest first (ties by id, for determinism); segments added while the job runs are merged in.
    var order: [SegmentID]
    /// The jobs on the farm, each with its pending segments and counters (FarmScheduler+Jobs.swift).
    var jobs: [FarmJobID: JobEntry] = [:]
    var jobSequence = 0
    /// Leases handed out so far (the jobs' round-robin clock).
    var leasesGiven = 0
    /// A standing scheduler (`serve`) outlives its jobs; one made with its segments (`restore`) finishes with its job.
    public let isStanding: Bool
    var workers: [PeerID: Worker] = [:]
    /// Registered workers in registration order (dispatch and ticks are deterministic without sorting).
    var workerOrder: [PeerID] = []
    var dead: Set<PeerID> = []
    /// Registered workers without a lease, in registration order. Dispatch used to filter all of `workerOrder` for
    /// them on every event: with 10,000 workers that O(workers) walk per result and per registration was most of the
    /// coordinator's CPU, and registering 10,000 workers took so long that they timed out (issue 16 item 9).
    var idleOrder: [PeerID] = []
    /// Registered workers holding a lease with room for more (lease-ahead), in registration order.
    var roomOrder: [PeerID] = []
    /// Queued leases (`ActiveLease.queued`) in dispatch order of their segments: the ones an idle worker takes over.
    var queuedOrder: [LeaseRef] = []
    var registrationSequence = 0
    /// Distinct segments each worker name failed: a bad segment failing everywhere must not blocklist everyone.
    var failedSegmentsByName: [String: Set<SegmentID>] = [:]
    var blocklist: Set<String> = []
    /// Failed tries per worker name, for monitoring.
    var failuresByName: [String: Int] = [:]
    /// Leases taken back from workers that were late (heartbeating, no progress) or went silent: not failures.
    public internal(set) var lateOrLost = 0
    /// When dispatch last looked for stragglers (at most every `stragglerScanInterval`).
    var stragglerScanAt = -Double.infinity
    static let stragglerScanInterval = 0.05
    var draining = false
    /// Since when no worker has been registered (nil while there is one).
    var workerlessSince: Double?
    /// The one job of a scheduler made with its segments is finished (completed or failed); a standing one never is.
    public internal(set) var isFinished = false
    /// The heartbeat interval in force (it grows with the farm: `HeartbeatPolicy`) and the expiry it implies.
    var heartbeat: HeartbeatState

    /// `planComplete: false`: more segments come with `onSegmentsAdded`, and `onPlanComplete` says when there are no more.
    public init(segments specs: [SegmentSpec], configuration: SchedulerConfiguration = SchedulerConfiguration(), now: Double = 0,
                planComplete: Bool = true) {
        self.configuration = configuration
        heartbeat = HeartbeatState(configuration.heartbeat)
        for spec in specs { segments[spec.id] = Segment(spec: spec) }
        order = specs.sorted(by: FarmScheduler.precedes).map(\.id)
        isStanding = false
        jobSequence = 1
        jobs[0] = JobEntry(priority: 0, sequence: 1, pending: order, segmentCount: specs.count, planComplete: planComplete)
        workerlessSince = now
    }

    /// A farm that outlives its jobs (`serve`): no job yet; `onJobAdded` brings each, and segments of several jobs
    /// are interleaved by priority, fairly (`jobsByPolicy`).
    public init(configuration: SchedulerConfiguration = SchedulerConfiguration(), now: Double = 0) {
        self.configuration = configuration
        heartbeat = HeartbeatState(configuration.heartbeat)
        order = []
        isStanding = true
        workerlessSince = now
    }

    /// Dispatch order: the costlier segment first, ties by id.
    static func precedes(_ a: SegmentSpec, _ b: SegmentSpec) -> Bool { (a.cost, b.id) > (b.cost, a.id) }

    // MARK: Queries

    public var liveWorkers: [PeerID] { workerOrder }
    public func isRegistered(_ peer: PeerID) -> Bool { workers[peer] != nil }
    /// The lease the worker renders or returns first (nil: idle).
    public func currentLease(of peer: PeerID) -> LeaseRef? { workers[peer]?.leases.first }
    /// Every lease the worker holds: the current one, then those queued behind it (lease-ahead).
    public func leases(of peer: PeerID) -> [LeaseRef] { workers[peer]?.leases ?? [] }
    public var pendingCount: Int { jobs.values.reduce(0) { $0 + $1.pending.count } }
    public var doneCount: Int { jobs.values.reduce(0) { $0 + $1.done } }
    /// Every segment of the (first) job is known (issue 16 item 1: segments arrive while the film is still being
    /// analysed; the job is done only when the plan is complete and every segment is finished).
    public var isPlanComplete: Bool { jobs[0]?.planComplete ?? true }
    /// Registered workers holding a lease (O(1): from the idle list).
    public var busyWorkerCount: Int { workerOrder.count - idleOrder.count }
    /// How often the coordinator heartbeats its workers, and they it: announced in every `welcome`.
    public var heartbeatInterval: Double { heartbeat.interval }
    /// Silence after which a worker is declared dead at `now` (interval × liveness; longer for a while after the
    /// interval shrank, until every worker has heard the new one).
    public func workerExpirySeconds(now: Double) -> Double { heartbeat.expirySeconds(configuration.heartbeat, now: now) }

    // MARK: Events

    public mutating func onWorkerRegistered(_ peer: PeerID, _ capabilities: WorkerCapabilities, now: Double) -> [FarmDirective] {
        let name = capabilities.workerName
        guard !blocklist.contains(name) else {
            return [.rejectWorker(peer, reason: "worker \(name) is blocklisted \(isStanding ? "on this farm (until the service restarts)" : "for this job") after repeated failures")]
        }
        var out: [FarmDirective] = []
        dead.remove(peer)
        let capacity = 1 + min(Int(capabilities.segmentsAhead), configuration.maxSegmentsAhead)
        if let held = workers[peer]?.leases, !held.isEmpty {
            // Its current segment counts as failed, as before lease-ahead; those queued behind it as lost (a queued
            // lease counting as a failure would blocklist a worker for one re-registration).
            for (index, lease) in held.enumerated() where workers[peer]?.leases.contains(lease) == true {
                out += fail(peer, lease, reason: "worker re-registered and lost its segment", now: now, dispatchAfter: false,
                            cause: index == 0 ? .failed : .lost)
            }
            if blocklist.contains(name) { return out } // refused (the directive is in `out`)
        }
        if let known = workers[peer] {
            workers[peer] = Worker(name: name, lastSeen: now, capacity: capacity, sequence: known.sequence) // idle already (fail above)
        } else {
            workerOrder.append(peer)
            registrationSequence += 1
            workers[peer] = Worker(name: name, lastSeen: now, capacity: capacity, sequence: registrationSequence)
            insertIdle(peer)
        }
        workerlessSince = nil
        return out + [.welcome(peer, heartbeatInterval: heartbeat.interval)] + dispatch(now: now)
    }

    /// Any well-formed message from a peer proves it alive (Paranoid Pirate: every message is a heartbeat).
    /// An unknown peer, or one declared dead whose connection survived (a long stall), must register again.
    public mutating func onHeartbeat(_ peer: PeerID, now: Double) -> [FarmDirective] {
        guard workers[peer] != nil else { return [.askToRegister(peer)] }
        workers[peer]!.lastSeen = now
        return []
    }

    /// Transfer or progress on a lease: the worker is making progress, so its lease deadline moves. `rendering`: the
    /// worker reports frames of it (progress), so a lease queued behind another has started.
    public mutating func onLeaseActivity(_ peer: PeerID, _ lease: LeaseRef, now: Double, rendering: Bool = false) {
        guard isCurrent(peer, lease) else { return }
        segments[lease.segment]!.active[lease]!.deadline = now + configuration.leaseTimeoutSeconds
        segments[lease.segment]!.active[lease]!.acknowledged = true
        if rendering { start(lease, now: now) }
    }

    /// The worker announces a result; only its metadata is known yet. Cheap checks first, before any bytes move.
    public mutating func onResultAnnounced(_ peer: PeerID, _ lease: LeaseRef, _ info: SegmentResultInfo, now: Double) -> [FarmDirective] {
        guard isCurrent(peer, lease) else { return discard(peer, lease) }
        onLeaseActivity(peer, lease, now: now)
        if let problem = metadataProblem(info, segments[lease.segment]!.spec) {
            return [.cancel(peer, lease, reason: problem)] + fail(peer, lease, reason: problem, now: now)
        }
        return [.receiveResult(peer, lease)]
    }

    /// All result bytes arrived; `received` is what the shell measured on them.
    public mutating func onResultReceived(_ peer: PeerID, _ lease: LeaseRef, _ info: SegmentResultInfo,
                                          received: PayloadDescription, now: Double) -> [FarmDirective] {
        guard isCurrent(peer, lease) else { return discard(peer, lease) }
        if let problem = metadataProblem(info, segments[lease.segment]!.spec) ?? payloadProblem(info.output, received) {
            return fail(peer, lease, reason: problem, now: now)
        }
        let segment = segments[lease.segment]!
        let job = segment.job
        jobs[job]!.secondsPerCost.append((now - segment.active[lease]!.startedAt) / Double(max(segment.spec.cost, 1)))
        dropLease(peer, lease, now: now)
        endLease(lease)
        jobs[job]!.completedByName[workers[peer]!.name, default: 0] += 1
        var out: [FarmDirective] = [.acceptResult(peer, lease, info)]
        // A speculative twin still running loses the race.
        for (other, active) in segments[lease.segment]!.active.sorted(by: { $0.key.attempt < $1.key.attempt }) {
            out.append(.cancel(active.peer, other, reason: "\(lease) finished first"))
            dropLease(active.peer, other, now: now)
            endLease(other)
        }
        segments[lease.segment]!.status = .done
        jobs[job]!.done += 1
        if jobs[job]!.planComplete && jobs[job]!.done == jobs[job]!.segmentCount {
            out.append(.jobCompleted(finish(job)))
        }
        return out + dispatch(now: now)
    }

    /// The worker reports that this attempt failed (processor error, bad input transfer, ...).
    public mutating func onWorkerFailure(_ peer: PeerID, _ lease: LeaseRef, message: String, now: Double) -> [FarmDirective] {
        guard isCurrent(peer, lease) else { return [] }
        return fail(peer, lease, reason: "worker \(workers[peer]!.name): \(message)", now: now)
    }

    /// Orderly departure: the segment is handed back without counting as a failed try.
    public mutating func onWorkerGoodbye(_ peer: PeerID, now: Double) -> [FarmDirective] {
        guard let held = workers[peer]?.leases else { return [] }
        var out: [FarmDirective] = []
        if !held.isEmpty {
            out.append(.workerDeclaredDead(peer, reason: "said goodbye, handed back \(held.map(\.description).joined(separator: ", "))"))
        }
        remove(peer, now: now) // hands its leases back
        return out + dispatch(now: now)
    }

    /// The transport found the peer's connection gone (a send failed), faster than liveness would. A lease
    /// the worker never acknowledged is handed back without counting as a try (e.g. a stale registration
    /// queued before the job started); one it was working on counts as a failed try (it crashed).
    public mutating func onPeerUnreachable(_ peer: PeerID, now: Double) -> [FarmDirective] {
        guard let worker = workers[peer] else { return [] }
        let reason = "worker \(worker.name) disconnected"
        var out: [FarmDirective] = [.workerDeclaredDead(peer, reason: reason)]
        for lease in worker.leases where workers[peer]?.leases.contains(lease) == true && !isFinished {
            if segments[lease.segment]!.active[lease]?.acknowledged == true {
                // A lost connection, like silence: the try counts toward the segment's cap, not toward the worker's
                // blocklist. Counted as a failure, 10,000 simulated workers that reconnected after an overloaded
                // coordinator's silence were blocklisted by the hundred (issue 16 item 9, BENCHMARKS.md).
                out += fail(peer, lease, reason: reason, now: now, dispatchAfter: false, cause: .lost)
            } else {
                handBack(peer, lease, now: now, countingRequeue: false)
            }
        }
        if workers[peer] != nil { remove(peer, now: now) }
        return out + (isFinished ? [] : dispatch(now: now))
    }

    /// Expires silent workers and stalled leases, fails a job left without workers too long, then hands out
    /// whatever became free (including speculative copies of stragglers). Retunes the heartbeat interval to the farm's
    /// size first: when it changes, every worker is welcomed again with the new one.
    ///
    /// `heardUntil`: the coordinator has read every message that reached it before this time (when it last found its
    /// inbox empty; default `now`). Silence and stalls are measured up to then, not to `now`: a coordinator that falls
    /// behind reading its inbox does not take its own backlog for silent workers. Measured to `now`, 10,000 simulated
    /// workers on 2 busy cores were declared "silent for 3.0 s" while their heartbeats sat unread, reconnected, and the
    /// extra registrations sank the coordinator further (107,011 reconnects, job failed; BENCHMARKS.md).
    public mutating func onTick(now: Double, heardUntil: Double? = nil) -> [FarmDirective] {
        guard !isFinished else { return [] }
        var out: [FarmDirective] = []
        if heartbeat.retune(configuration.heartbeat, workers: workerOrder.count, now: now) {
            out += workerOrder.map { .welcome($0, heartbeatInterval: heartbeat.interval) }
        }
        let heard = min(now, heardUntil ?? now)
        let expiry = workerExpirySeconds(now: now)
        for peer in workerOrder {
            guard let worker = workers[peer] else { continue }
            if heard - worker.lastSeen > expiry {
                let reason = "worker \(worker.name) silent for \(formatSeconds(now - worker.lastSeen)) (limit \(formatSeconds(expiry)))"
                out.append(.workerDeclaredDead(peer, reason: reason))
                // Its queued leases too: each counts toward its segment's tries, like the current one.
                for lease in worker.leases where workers[peer]?.leases.contains(lease) == true && !isFinished {
                    out += fail(peer, lease, reason: reason, now: now, dispatchAfter: false, cause: .lost)
                }
                if workers[peer] != nil { remove(peer, now: now) }
            } else {
                // Only leases it renders or returns have a deadline; one queued behind them is not late.
                for lease in worker.leases where !isFinished && workers[peer]?.leases.contains(lease) == true {
                    guard let active = segments[lease.segment]!.active[lease], !active.queued, heard > active.deadline else { continue }
                    let reason = "worker \(worker.name) stalled: no progress on \(lease) for \(formatSeconds(configuration.leaseTimeoutSeconds))"
                    out.append(.cancel(peer, lease, reason: reason))
                    out += fail(peer, lease, reason: reason, now: now, dispatchAfter: false, cause: .late)
                }
            }
            if isFinished { return out }
        }
        if let since = workerlessSince, let limit = configuration.noWorkerTimeoutSeconds, now - since > limit,
           jobs.values.contains(where: { !$0.finished }) {
            let reason = "no worker connected for \(formatSeconds(now - since)); check that workers can reach the coordinator (logs, keys, firewall)"
            workerlessSince = now // a standing farm gives the next job its own wait
            for job in jobs.keys.sorted() where !jobs[job]!.finished {
                var report = finish(job)
                report.abandonedReason = reason
                out.append(.jobFailed(report))
            }
            return out
        }
        return out + dispatch(now: now)
    }

    /// Graceful coordinator shutdown: no new assignments; leases rendering may still finish, those queued behind them
    /// and not started are called back (lease-ahead: a drain waits for one segment per worker, not two).
    @discardableResult
    public mutating func onDrain() -> [FarmDirective] {
        draining = true
        let queued = queuedOrder // callBack changes it
        return queued.map { callBack($0, reason: "the coordinator is draining: \($0) had not started") }
    }

    /// Segments the plan released while the job runs (their shots are known): pending at once, handed to idle workers.
    /// An id already known is ignored (a segment is planned once). Cost: O(added · log + pending) per call.
    /// A withdrawn job's segments are counted but never queued (it stops, and cannot complete without them; its next
    /// run plans them again).
    public mutating func onSegmentsAdded(_ specs: [SegmentSpec], job: FarmJobID = 0, now: Double) -> [FarmDirective] {
        guard let entry = jobs[job] else { preconditionFailure("FarmScheduler: segments added to job \(job), which is not on the farm") }
        precondition(!entry.planComplete, "FarmScheduler: segments added after the plan was complete")
        let added = specs.filter { segments[$0.id] == nil }.sorted(by: FarmScheduler.precedes)
        guard !added.isEmpty, !entry.finished else { return [] }
        for spec in added { segments[spec.id] = Segment(spec: spec, job: job) }
        order = merge(order, added.map(\.id))
        jobs[job]!.segmentCount += added.count
        guard !entry.withdrawn else { return [] }
        jobs[job]!.pending = merge(entry.pending, added.map(\.id))
        return dispatch(now: now)
    }

    /// No more segments will come: the job completes once every segment known is finished (at once if they are).
    public mutating func onPlanComplete(job: FarmJobID = 0, now: Double) -> [FarmDirective] {
        guard let entry = jobs[job], !entry.planComplete else { return [] }
        jobs[job]!.planComplete = true
        guard !entry.finished, entry.done == entry.segmentCount else { return [] }
        return [.jobCompleted(finish(job))]
    }

    /// Two lists in dispatch order merged into one.
    func merge(_ a: [SegmentID], _ b: [SegmentID]) -> [SegmentID] {
        var result: [SegmentID] = []
        result.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && FarmScheduler.precedes(segments[a[i]]!.spec, segments[b[j]]!.spec)) {
                result.append(a[i]); i += 1
            } else {
                result.append(b[j]); j += 1
            }
        }
        return result
    }

    // MARK: Internals

    func isCurrent(_ peer: PeerID, _ lease: LeaseRef) -> Bool {
        guard let worker = workers[peer], worker.leases.contains(lease), !isFinished,
              let job = segments[lease.segment]?.job, jobs[job]?.finished == false else { return false }
        return true
    }

    /// Forgets a worker; leases it still holds go back to their jobs without counting a try (callers fail those that count).
    mutating func remove(_ peer: PeerID, now: Double) {
        for lease in workers[peer]?.leases ?? [] { handBack(peer, lease, now: now, countingRequeue: true) }
        if workers[peer] != nil, let index = workerOrder.firstIndex(of: peer) { workerOrder.remove(at: index) }
        removeIdle(peer)
        removeRoom(peer)
        workers[peer] = nil
        dead.insert(peer)
        if workers.isEmpty { workerlessSince = now }
    }

    private mutating func discard(_ peer: PeerID, _ lease: LeaseRef) -> [FarmDirective] {
        jobs[segments[lease.segment]?.job ?? 0]?.discarded += 1
        let why = dead.contains(peer) ? "worker was already declared dead" : "lease is not current (cancelled or re-assigned)"
        return [.discardResult(peer, lease, reason: "result for \(lease) discarded: \(why)")]
    }

    private func metadataProblem(_ info: SegmentResultInfo, _ spec: SegmentSpec) -> String? {
        if info.frameCount != spec.expectedOutputFrames {
            return "result has \(info.frameCount) frames, expected \(spec.expectedOutputFrames)"
        }
        if let size = spec.expectedFrameSize, size.width != info.frameWidth || size.height != info.frameHeight {
            return "result frames are \(info.frameWidth)x\(info.frameHeight), expected \(size.width)x\(size.height)"
        }
        if info.output.byteCount == 0 { return "result file is empty" }
        return nil
    }

    private func payloadProblem(_ announced: PayloadDescription, _ received: PayloadDescription) -> String? {
        if announced.byteCount != received.byteCount {
            return "result has \(received.byteCount) bytes, announced \(announced.byteCount)"
        }
        if announced.checksum != received.checksum { return "result checksum mismatch: data corrupted in transit or on disk" }
        return nil
    }

    /// Why a lease ended without a result.
    enum FailureCause {
        /// The worker reported a failure, or sent a wrong result: counts toward its blocklist.
        case failed
        /// The worker kept heartbeating but made no progress before the lease deadline: slow or overloaded, not
        /// broken (500 simulated workers on 2 cores were blocklisted this way, issue 16); does not count toward it.
        case late
        /// The worker went silent (crash, network cut): the lease is lost with it; does not count toward it either.
        case lost
    }

    /// Ends one lease as a failed try: re-queues the segment (or fails the job at the segment's attempt cap, whatever
    /// the cause, so a segment no worker can finish ends the job instead of looping) and blocklists a worker that keeps
    /// *failing* (`cause == .failed`) while others can take over.
    mutating func fail(_ peer: PeerID, _ lease: LeaseRef, reason: String, now: Double, dispatchAfter: Bool = true,
                       cause: FailureCause = .failed) -> [FarmDirective] {
        guard let name = workers[peer]?.name else { return [] }
        dropLease(peer, lease, now: now)
        endLease(lease)
        var out: [FarmDirective] = []
        var segment = segments[lease.segment]!
        let job = segment.job
        segment.failures.append(reason)
        segment.failedOn.insert(name) // a retry still prefers another worker, whatever the cause
        if cause == .failed { failuresByName[name, default: 0] += 1 } else { lateOrLost += 1 }
        if segment.failures.count >= configuration.maxAttemptsPerSegment {
            segment.status = .failed
            jobs[job]!.failed += 1
        }
        segments[lease.segment] = segment
        if segment.status != .failed && segment.active.isEmpty {
            markPending(lease.segment)
            jobs[job]!.requeues += 1
        }
        if cause == .failed { failedSegmentsByName[name, default: []].insert(lease.segment) }
        let failedCount = failedSegmentsByName[name]?.count ?? 0
        // Blocklist only while someone else can do the work; otherwise the retry cap decides (no hang).
        let othersAvailable = workers.contains { $0.key != peer && !blocklist.contains($0.value.name) }
        if failedCount >= configuration.blocklistAfterFailures && !blocklist.contains(name) && othersAvailable {
            blocklist.insert(name)
            out.append(.rejectWorker(peer, reason: "worker \(name) failed \(failedCount) segments; blocklisted \(isStanding ? "on this farm (until the service restarts)" : "for this job")"))
            remove(peer, now: now)
        }
        if segment.status == .failed {
            // Only this job fails: its other leases are called back, other jobs' segments carry on.
            out += cancelLeases(of: job, reason: "its job failed: segment \(lease.segment) ran out of tries", now: now)
            out.append(.jobFailed(finish(job)))
            return out + (isStanding && dispatchAfter ? dispatch(now: now) : [])
        }
        return out + (dispatchAfter ? dispatch(now: now) : [])
    }
}

extension FarmScheduler {
    /// Puts a segment back in its job's pending list at its place in `order` (binary search). A withdrawn job's
    /// segment stays out of the queue: the job is stopping.
    mutating func markPending(_ id: SegmentID) {
        segments[id]!.status = .pending
        let job = segments[id]!.job
        guard let entry = jobs[job], !entry.withdrawn, !entry.finished else { return }
        let spec = segments[id]!.spec
        var low = 0, high = entry.pending.count
        while low < high {
            let mid = (low + high) / 2
            if FarmScheduler.precedes(segments[entry.pending[mid]]!.spec, spec) { low = mid + 1 } else { high = mid }
        }
        if low == entry.pending.count || entry.pending[low] != id { jobs[job]!.pending.insert(id, at: low) }
    }
}

func formatSeconds(_ seconds: Double) -> String {
    let tenths = Int((seconds * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) s"
}
