import Foundation
import Logging
import Shared
import Transport

/// The coordinator shell: owns the ROUTER socket, the ZAP handler and the transfer files, and feeds events to
/// `FarmScheduler`. All socket I/O happens on the thread that calls `run` (libzmq sockets are single-threaded).
public final class FarmCoordinator: @unchecked Sendable {
    let configuration: FarmCoordinatorConfiguration
    let logger: Logger
    let lock = NSLock()
    var stats = FarmStatistics()
    var drainRequested = false
    /// Per-worker activity for the live view, `status`, metrics and the throughput report (any thread may read).
    public let monitor = FarmMonitor()
    private let clockStart = ContinuousClock.now

    var context: MessagingContext?
    var socket: Socket?
    var authenticator: ZAPAuthenticator?
    var transfers = TransferTable()
    var outbox: [PeerID: [[UInt8]]] = [:]
    var rejectionsByPeer: [PeerID: Int] = [:]
    /// Peers a send found disconnected (EHOSTUNREACH), reported to the scheduler after the current batch.
    var unreachable: [PeerID] = []
    /// Workers kept between jobs by a long-lived coordinator (`serve`); each `run` starts with the idle ones.
    var roster = WorkerRoster()

    public init(configuration: FarmCoordinatorConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    deinit { close() }

    public var statistics: FarmStatistics {
        lock.withLock {
            var s = stats
            s.authenticationDenials = authenticator?.deniedCount ?? 0
            return s
        }
    }

    /// Stop assigning new segments; `run` returns once in-flight leases end (graceful coordinator shutdown).
    public func requestDrain() { lock.withLock { drainRequested = true } }

    /// Ready for another job after a drained one (`serve` runs many jobs on one coordinator).
    public func clearDrain() { lock.withLock { drainRequested = false } }

    /// Validates the endpoint policy, starts the ZAP handler when keys are configured, binds, and returns the
    /// endpoint actually bound (the port is filled in for `tcp://127.0.0.1:*`).
    @discardableResult
    public func bind() throws -> String {
        try EndpointPolicy.validateBind(configuration.bindEndpoint, keysConfigured: configuration.curve != nil,
                                        insecure: configuration.insecure)
        try FileManager.default.createDirectory(at: configuration.workDirectory, withIntermediateDirectories: true)
        AllocatorTuning.keepTransferBuffersOnHeap()
        ProcessLimits.raiseOpenFileLimit()
        let context = try MessagingContext()
        let socket = try Socket(context, .router)
        var options = Socket.Options()
        // Per-peer queues: a credit window (16 chunks) plus control messages fits well inside 256.
        options.sendHighWaterMark = 256
        options.receiveHighWaterMark = 256
        options.maxMessageBytes = Int64(FarmProtocol.maxMessageBytes) // libzmq drops a peer that sends more
        options.routerMandatory = true // an unreachable peer is an error, not a silent drop
        try socket.apply(options)
        if let curve = configuration.curve {
            let logger = self.logger
            let authenticator = try ZAPAuthenticator(context: context, allowedPublicKeys: curve.allowedWorkerKeys) {
                logger.warning("\($0)")
            }
            try authenticator.start()
            self.authenticator = authenticator
            try socket.makeCurveServer(curve.keys)
        }
        let endpoint = try socket.bind(configuration.bindEndpoint)
        self.context = context
        self.socket = socket
        logger.info("coordinator listening on \(endpoint)\(configuration.curve == nil ? " (no CURVE: local only)" : " (CURVE)")")
        return endpoint
    }

    public func close() {
        socket?.close()
        socket = nil
        authenticator?.stop()
        authenticator = nil
        context = nil
    }

    var now: Double {
        let elapsed = ContinuousClock.now - clockStart
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    // MARK: Job loop

    /// Runs one job to completion on the calling thread. Returns the report when every segment was
    /// accepted; throws `FarmError.jobFailed` with the report when a segment ran out of tries.
    public func run(segments: [SegmentSpec], inputs: @escaping SegmentInputProvider,
                    results: @escaping SegmentResultSink) throws -> JobReport {
        try run(feed: SegmentFeed(complete: segments), inputs: inputs, results: results)
    }

    /// Runs one job whose segments arrive while it runs (`feed`): each is handed out as soon as it is added; the job
    /// completes once the feed is finished and every segment is accepted, and fails with the feed's failure.
    public func run(feed: SegmentFeed, inputs: @escaping SegmentInputProvider,
                    results: @escaping SegmentResultSink) throws -> JobReport {
        guard let socket else { throw FarmError.notBound }
        let first = feed.take()
        var job = JobState(scheduler: FarmScheduler(segments: first.segments, configuration: configuration.effectiveScheduler, now: now,
                                                    planComplete: first.complete && first.failure == nil),
                           specs: Dictionary(uniqueKeysWithValues: first.segments.map { ($0.id, $0) }), inputs: inputs, results: results)
        var lastHeartbeat = -Double.infinity
        var lastTick = -Double.infinity
        var drainStarted: Double?
        defer {
            keepIdleWorkers(job.scheduler)
            transfers.removeAll(); outbox.removeAll(); unreachable.removeAll(); monitor.recordJobFinished()
        }
        monitor.recordJobStarted(segments: first.segments)
        try seed(&job)
        if let failure = first.failure { throw failure }
        if first.complete && first.segments.isEmpty { return job.scheduler.report() }
        var feedOpen = !first.complete
        while job.outcome == nil {
            if feedOpen {
                let taken = feed.take()
                if !taken.segments.isEmpty {
                    for spec in taken.segments { job.specs[spec.id] = spec }
                    monitor.recordSegmentsAdded(taken.segments)
                    try apply(job.scheduler.onSegmentsAdded(taken.segments, now: now), &job)
                }
                if let failure = taken.failure {
                    job.outcome = .failure(failure)
                    break
                }
                if taken.complete {
                    feedOpen = false
                    try apply(job.scheduler.onPlanComplete(now: now), &job)
                    if job.outcome != nil { break }
                }
            }
            if drainStarted == nil, lock.withLock({ drainRequested }) {
                drainStarted = now
                job.scheduler.onDrain()
                logger.notice("draining: no new assignments; waiting up to \(configuration.drainTimeoutSeconds) s for segments in flight")
            }
            if let started = drainStarted, now - started > configuration.drainTimeoutSeconds
                || job.scheduler.liveWorkers.allSatisfy({ job.scheduler.currentLease(of: $0) == nil }) {
                job.outcome = .failure(FarmError.interrupted(job.scheduler.report()))
                break
            }
            flushOutbox()
            do {
                if try Socket.pollReadable([socket], timeoutMs: 20)[0] {
                    while job.outcome == nil, let parts = try socket.receive() { try handle(parts, &job) }
                }
            } catch TransportError.interrupted {
                continue // a signal arrived; the loop re-checks drain and carries on
            }
            try pumpTransfers(&job)
            if now - lastTick >= 0.05 { // timeouts are seconds; ticking at 20 Hz keeps big farms cheap
                lastTick = now
                try apply(job.scheduler.onTick(now: now), &job)
                publishStatistics(job.scheduler)
            }
            while job.outcome == nil, !unreachable.isEmpty {
                let peer = unreachable.removeFirst()
                transfers.remove(peer)
                outbox[peer] = nil
                try apply(job.scheduler.onPeerUnreachable(peer, now: now), &job)
            }
            if now - lastHeartbeat >= configuration.heartbeatInterval {
                lastHeartbeat = now
                let heartbeat = MessageCodec.encode(.heartbeat)
                for peer in job.scheduler.liveWorkers { send(heartbeat, to: peer) }
            }
        }
        publishStatistics(job.scheduler)
        switch job.outcome! {
        case .success(let report): return report
        case .failure(let error): throw error
        }
    }

    func publishStatistics(_ scheduler: FarmScheduler) {
        let live = scheduler.liveWorkers
        let busy = scheduler.busyWorkerCount // not a walk over every worker at 20 Hz
        let done = scheduler.doneCount
        lock.withLock { stats.liveWorkers = live.count; stats.busyWorkers = busy; stats.segmentsDone = done }
        monitor.recordSchedulerState(scheduler.counts, failuresByWorker: scheduler.failuresByWorker)
    }

    struct JobState {
        var scheduler: FarmScheduler
        var specs: [SegmentID: SegmentSpec]
        let inputs: SegmentInputProvider
        let results: SegmentResultSink
        var inputFiles: [SegmentID: (url: URL, payload: PayloadDescription)] = [:]
        var outcome: Result<JobReport, Error>?
    }

}
