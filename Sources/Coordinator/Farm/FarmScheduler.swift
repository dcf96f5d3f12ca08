import Shared

/// The farm's scheduling logic as a pure state machine: events in, directives out, time passed in.
/// No sockets, no clock, no files — the coordinator shell does all I/O, and tests drive this directly.
public struct FarmScheduler {
    private enum Status: Equatable { case pending, leased(PeerID, LeaseRef, deadline: Double), done, failed }

    private struct Segment {
        var spec: SegmentSpec
        var status: Status = .pending
        var attemptsStarted: UInt32 = 0
        var failures: [String] = []
        var failedOn: Set<String> = []
    }

    private struct Worker {
        var name: String
        var order: Int
        var lastSeen: Double
        var lease: LeaseRef?
    }

    public let configuration: SchedulerConfiguration
    private var segments: [SegmentID: Segment] = [:]
    /// Longest first (ties by id, for determinism).
    private let order: [SegmentID]
    private var workers: [PeerID: Worker] = [:]
    private var dead: Set<PeerID> = []
    /// Distinct segments each worker name failed: a bad segment failing everywhere must not blocklist everyone.
    private var failedSegmentsByName: [String: Set<SegmentID>] = [:]
    private var blocklist: Set<String> = []
    private var completedByName: [String: Int] = [:]
    private var registrations = 0
    private var discarded = 0
    private var requeues = 0
    private var draining = false
    public private(set) var isFinished = false

    public init(segments specs: [SegmentSpec], configuration: SchedulerConfiguration = SchedulerConfiguration()) {
        self.configuration = configuration
        for spec in specs { segments[spec.id] = Segment(spec: spec) }
        order = specs.sorted { ($0.cost, $1.id) > ($1.cost, $0.id) }.map(\.id)
    }

    // MARK: Queries

    public var liveWorkers: [PeerID] { workers.sorted { $0.value.order < $1.value.order }.map(\.key) }
    public func isRegistered(_ peer: PeerID) -> Bool { workers[peer] != nil }
    public func currentLease(of peer: PeerID) -> LeaseRef? { workers[peer]?.lease }
    public var pendingCount: Int { segments.values.filter { $0.status == .pending }.count }
    public var doneCount: Int { segments.values.filter { $0.status == .done }.count }

    // MARK: Events

    public mutating func onWorkerRegistered(_ peer: PeerID, _ capabilities: WorkerCapabilities, now: Double) -> [FarmDirective] {
        let name = capabilities.workerName
        guard !blocklist.contains(name) else {
            return [.rejectWorker(peer, reason: "worker \(name) is blocklisted for this job after repeated failures")]
        }
        var out: [FarmDirective] = []
        dead.remove(peer)
        if workers[peer]?.lease != nil { out += release(peer, failure: "worker re-registered and lost its segment", now: now) }
        registrations += 1
        workers[peer] = Worker(name: name, order: registrations, lastSeen: now)
        return out + [.welcome(peer)] + dispatch(now: now)
    }

    /// Any well-formed message from a peer proves it alive (Paranoid Pirate: every message is a heartbeat).
    public mutating func onHeartbeat(_ peer: PeerID, now: Double) -> [FarmDirective] {
        guard workers[peer] != nil else { return dead.contains(peer) ? [] : [.askToRegister(peer)] }
        workers[peer]!.lastSeen = now
        return []
    }

    /// Transfer or progress on a lease: the worker is making progress, so its lease deadline moves.
    public mutating func onLeaseActivity(_ peer: PeerID, _ lease: LeaseRef, now: Double) {
        guard isCurrent(peer, lease) else { return }
        segments[lease.segment]!.status = .leased(peer, lease, deadline: now + configuration.leaseTimeoutSeconds)
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
        segments[lease.segment]!.status = .done
        workers[peer]!.lease = nil
        completedByName[workers[peer]!.name, default: 0] += 1
        var out: [FarmDirective] = [.acceptResult(peer, lease, info)]
        if segments.values.allSatisfy({ $0.status == .done }) {
            isFinished = true
            out.append(.jobCompleted(report()))
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
        guard workers[peer] != nil else { return [] }
        var out: [FarmDirective] = []
        if let lease = workers[peer]!.lease {
            segments[lease.segment]!.status = .pending
            requeues += 1
            out.append(.workerDeclaredDead(peer, reason: "said goodbye, handed back \(lease)"))
        }
        workers[peer] = nil
        dead.insert(peer)
        return out + dispatch(now: now)
    }

    /// Expires silent workers and stalled leases, then hands out whatever became free.
    public mutating func onTick(now: Double) -> [FarmDirective] {
        guard !isFinished else { return [] }
        var out: [FarmDirective] = []
        for (peer, worker) in workers.sorted(by: { $0.value.order < $1.value.order }) {
            if now - worker.lastSeen > configuration.workerExpirySeconds {
                let reason = "worker \(worker.name) silent for \(formatSeconds(now - worker.lastSeen)) (limit \(formatSeconds(configuration.workerExpirySeconds)))"
                out.append(.workerDeclaredDead(peer, reason: reason))
                out += release(peer, failure: reason, now: now)
                workers[peer] = nil
                dead.insert(peer)
            } else if let lease = worker.lease, case .leased(_, _, let deadline) = segments[lease.segment]!.status, now > deadline {
                let reason = "worker \(worker.name) stalled: no progress on \(lease) for \(formatSeconds(configuration.leaseTimeoutSeconds))"
                out.append(.cancel(peer, lease, reason: reason))
                out += fail(peer, lease, reason: reason, now: now)
            }
        }
        return out + dispatch(now: now)
    }

    /// Graceful coordinator shutdown: no new assignments; in-flight leases may still finish.
    public mutating func onDrain() { draining = true }

    // MARK: Internals

    private func isCurrent(_ peer: PeerID, _ lease: LeaseRef) -> Bool {
        guard let worker = workers[peer], worker.lease == lease, !isFinished else { return false }
        return true
    }

    private mutating func discard(_ peer: PeerID, _ lease: LeaseRef) -> [FarmDirective] {
        discarded += 1
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

    /// Takes a lease back from a worker that is gone, counting it as a failed try.
    private mutating func release(_ peer: PeerID, failure reason: String, now: Double) -> [FarmDirective] {
        guard let lease = workers[peer]?.lease else { return [] }
        return fail(peer, lease, reason: reason, now: now, dispatchAfter: false)
    }

    private mutating func fail(_ peer: PeerID, _ lease: LeaseRef, reason: String, now: Double,
                               dispatchAfter: Bool = true) -> [FarmDirective] {
        guard let name = workers[peer]?.name else { return [] }
        workers[peer]!.lease = nil
        var out: [FarmDirective] = []
        var segment = segments[lease.segment]!
        segment.failures.append(reason)
        segment.failedOn.insert(name)
        segment.status = segment.failures.count >= configuration.maxAttemptsPerSegment ? .failed : .pending
        segments[lease.segment] = segment
        failedSegmentsByName[name, default: []].insert(lease.segment)
        let failedCount = failedSegmentsByName[name]!.count
        // Blocklist only while someone else can do the work; otherwise the retry cap decides (no hang).
        let othersAvailable = workers.contains { $0.key != peer && !blocklist.contains($0.value.name) }
        if failedCount >= configuration.blocklistAfterFailures && !blocklist.contains(name) && othersAvailable {
            blocklist.insert(name)
            out.append(.rejectWorker(peer, reason: "worker \(name) failed \(failedCount) segments; blocklisted for this job"))
            workers[peer] = nil
            dead.insert(peer)
        }
        if segment.status == .failed {
            isFinished = true
            return out + [.jobFailed(report())]
        }
        requeues += 1
        return out + (dispatchAfter ? dispatch(now: now) : [])
    }

    /// Gives each idle worker the longest pending segment. A first pass avoids handing a segment back to a
    /// worker that already failed it; a second pass lets such a worker retry when no one else is free.
    private mutating func dispatch(now: Double) -> [FarmDirective] {
        guard !draining, !isFinished else { return [] }
        var out: [FarmDirective] = []
        for avoidingRepeats in [true, false] {
            for peer in liveWorkers where workers[peer]!.lease == nil {
                let name = workers[peer]!.name
                guard let id = order.first(where: {
                    segments[$0]!.status == .pending && !(avoidingRepeats && segments[$0]!.failedOn.contains(name))
                }) else { continue }
                segments[id]!.attemptsStarted += 1
                let lease = LeaseRef(segment: id, attempt: segments[id]!.attemptsStarted)
                segments[id]!.status = .leased(peer, lease, deadline: now + configuration.leaseTimeoutSeconds)
                workers[peer]!.lease = lease
                out.append(.assign(peer, lease, segments[id]!.spec))
            }
        }
        return out
    }

    public func report() -> JobReport {
        let failed = order.first { segments[$0]!.status == .failed }.map {
            JobReport.SegmentFailure(segment: $0, attempts: segments[$0]!.failures)
        }
        return JobReport(segmentCount: segments.count, completedSegments: doneCount, failed: failed,
                         completedByWorker: completedByName, blocklistedWorkers: blocklist.sorted(),
                         discardedResults: discarded, requeues: requeues)
    }
}

private func formatSeconds(_ seconds: Double) -> String {
    let tenths = Int((seconds * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) s"
}
