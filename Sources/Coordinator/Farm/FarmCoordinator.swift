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
    /// `serve` runs the loop: `run` with a placement, from other threads, hands jobs to it (FarmCoordinator+Serve.swift),
    /// also before the loop has started; once it has ended, such a `run` is refused.
    var servingEnded = false
    var inbox = FarmInbox()
    /// Frames done and known per job on a standing farm, for `jobs` and the web page (any thread may read).
    var jobProgress: [FarmJobID: (done: Int64, total: Int64)] = [:]

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
    ///
    /// On a coordinator that `serve`s (another thread runs its loop), the job joins the farm as `placement` says and
    /// this call waits for it: segments of every job on the farm are interleaved by priority, fairly (`FarmScheduler`).
    /// `stopped` says whether the job's stop was asked before the farm took it (then it is drained at once).
    public func run(feed: SegmentFeed, inputs: @escaping SegmentInputProvider, results: @escaping SegmentResultSink,
                    placement: FarmJobPlacement? = nil, stopped: @escaping @Sendable () -> Bool = { false }) throws -> JobReport {
        guard let socket else { throw FarmError.notBound }
        if let placement {
            return try runOnStandingFarm(FarmTicket(placement: placement, feed: feed, inputs: inputs, results: results, stopped: stopped))
        }
        let first = feed.take()
        var state = FarmState(scheduler: FarmScheduler(segments: first.segments, configuration: configuration.effectiveScheduler, now: now,
                                                       planComplete: first.complete && first.failure == nil))
        state.jobs[0] = ActiveJob(feed: feed, feedOpen: !first.complete, inputs: inputs, results: results, ticket: nil)
        for spec in first.segments { state.jobs[0]!.specs[spec.id] = spec }
        var clocks = LoopClocks()
        defer { transfers.removeAll(); outbox.removeAll(); unreachable.removeAll(); monitor.recordJobFinished() }
        monitor.recordJobStarted(segments: first.segments)
        if let failure = first.failure { throw failure }
        if first.complete && first.segments.isEmpty { return state.scheduler.report() }
        while state.jobs[0]!.outcome == nil {
            try step(&state, &clocks, socket)
        }
        publishStatistics(state.scheduler)
        switch state.jobs[0]!.outcome! {
        case .success(let report): return report
        case .failure(let error): throw error
        }
    }

    /// One turn of the loop: new segments, drains, messages, transfers, timeouts, heartbeats. Shared by a one-job
    /// `run` and `serve`.
    func step(_ state: inout FarmState, _ clocks: inout LoopClocks, _ socket: Socket) throws {
        for id in state.jobs.keys.sorted() where state.jobs[id]!.feedOpen && state.jobs[id]!.outcome == nil {
            try takeFeed(id, &state)
        }
        if state.scheduler.isStanding {
            for (id, job) in state.jobs where job.outcome == nil {
                guard let started = job.drainStartedAt else { continue }
                if now - started > configuration.drainTimeoutSeconds || state.scheduler.leasesInFlight(of: id) == 0 {
                    state.jobs[id]!.outcome = .failure(FarmError.interrupted(state.scheduler.report(of: id)))
                }
            }
        } else {
            if clocks.drainStarted == nil, lock.withLock({ drainRequested }) {
                clocks.drainStarted = now
                try apply(state.scheduler.onDrain(), &state)
                logger.notice("draining: no new assignments; waiting up to \(configuration.drainTimeoutSeconds) s for segments in flight")
            }
            if let started = clocks.drainStarted, now - started > configuration.drainTimeoutSeconds
                || state.scheduler.liveWorkers.allSatisfy({ state.scheduler.currentLease(of: $0) == nil }) {
                state.jobs[0]!.outcome = .failure(FarmError.interrupted(state.scheduler.report()))
            }
        }
        if state.isOver { return }
        flushOutbox()
        do {
            if try Socket.pollReadable([socket], timeoutMs: 20)[0] {
                // A bounded batch: a coordinator that cannot keep up must still send its heartbeats, inputs and ticks.
                // Draining until empty, an overloaded one sent none, so every worker heard silence and reconnected.
                let batchStarted = now
                while !state.isOver {
                    guard let parts = try socket.receive() else { clocks.inboxDrainedAt = now; break }
                    try handle(parts, &state)
                    if now - batchStarted >= FarmCoordinator.receiveBatchSeconds { break }
                }
            } else {
                clocks.inboxDrainedAt = now
            }
        } catch TransportError.interrupted {
            return // a signal arrived; the loop re-checks drain and carries on
        }
        try pumpTransfers(&state)
        if now - clocks.lastTick >= 0.05 { // timeouts are seconds; ticking at 20 Hz keeps big farms cheap
            clocks.lastTick = now
            try apply(state.scheduler.onTick(now: now, heardUntil: clocks.inboxDrainedAt), &state)
            publishStatistics(state.scheduler)
        }
        while !state.isOver, !unreachable.isEmpty {
            let peer = unreachable.removeFirst()
            transfers.remove(peer)
            outbox[peer] = nil
            try apply(state.scheduler.onPeerUnreachable(peer, now: now), &state)
        }
        if now - clocks.lastHeartbeat >= state.scheduler.heartbeatInterval {
            clocks.lastHeartbeat = now
            let heartbeat = MessageCodec.encode(.heartbeat)
            for peer in state.scheduler.liveWorkers { send(heartbeat, to: peer) }
        }
    }

    /// The segments a job's feed released since the last turn, under their farm-wide ids.
    private func takeFeed(_ id: FarmJobID, _ state: inout FarmState) throws {
        let taken = state.jobs[id]!.feed.take()
        if !taken.segments.isEmpty {
            let specs: [SegmentSpec]
            do { specs = try taken.segments.map { try FarmState.onFarm($0, job: id) } } catch { return state.fail(id, error) }
            for (farmSpec, spec) in zip(specs, taken.segments) { state.jobs[id]!.specs[farmSpec.id] = spec }
            monitor.recordSegmentsAdded(specs)
            addProgress(id, total: specs.reduce(0) { $0 + Int64($1.expectedOutputFrames) })
            try apply(state.scheduler.onSegmentsAdded(specs, job: id, now: now), &state)
        }
        if let failure = taken.failure {
            // The analysis ended for a stop (it waits for the farm since the input bound, so a stop can find it there):
            // the segments in hand still finish and are journaled, as the drain promises, and the drain ends the job.
            if StopSignal.isStop(failure), !state.scheduler.isStanding {
                lock.withLock { drainRequested = true }
                state.jobs[id]!.feedOpen = false
                return
            }
            state.jobs[id]!.outcome = .failure(failure)
            return
        }
        if taken.complete {
            state.jobs[id]!.feedOpen = false
            try apply(state.scheduler.onPlanComplete(job: id, now: now), &state)
        }
    }

    func publishStatistics(_ scheduler: FarmScheduler) {
        let live = scheduler.liveWorkers
        let busy = scheduler.busyWorkerCount // not a walk over every worker at 20 Hz
        let done = scheduler.doneCount
        let interval = scheduler.heartbeatInterval
        lock.withLock { stats.liveWorkers = live.count; stats.busyWorkers = busy; stats.segmentsDone = done; stats.heartbeatInterval = interval }
        monitor.recordSchedulerState(scheduler.counts, failuresByWorker: scheduler.failuresByWorker)
    }

    struct LoopClocks {
        var lastHeartbeat = -Double.infinity
        var lastTick = -Double.infinity
        var drainStarted: Double?
        /// When the loop last found no message waiting: everything that arrived before was read (`onTick`'s `heardUntil`).
        var inboxDrainedAt = 0.0
    }

    /// The longest the loop reads messages before its other duties (heartbeats, inputs, ticks) get a turn.
    static let receiveBatchSeconds = 0.025

    /// A job the loop runs: where its segments come from, where their inputs are and their results go.
    struct ActiveJob {
        let feed: SegmentFeed
        var feedOpen: Bool
        /// The job's own specs (its segment ids), by farm-wide segment id.
        var specs: [SegmentID: SegmentSpec] = [:]
        let inputs: SegmentInputProvider
        let results: SegmentResultSink
        /// The thread waiting for it on a standing farm (nil: the loop runs on the job's own thread).
        let ticket: FarmTicket?
        var inputFiles: [SegmentID: (url: URL, payload: PayloadDescription)] = [:]
        var outcome: Result<JobReport, Error>?
        /// When a stop (pause, cancel, the service stopping) withdrew it from a standing farm.
        var drainStartedAt: Double?

        init(feed: SegmentFeed, feedOpen: Bool, inputs: @escaping SegmentInputProvider, results: @escaping SegmentResultSink, ticket: FarmTicket?) {
            self.feed = feed
            self.feedOpen = feedOpen
            self.inputs = inputs
            self.results = results
            self.ticket = ticket
        }
    }

    /// The scheduler and the jobs it schedules (one for `restore`, those on the farm for `serve`).
    struct FarmState {
        var scheduler: FarmScheduler
        var jobs: [FarmJobID: ActiveJob] = [:]

        /// A one-job loop is over once its job has an outcome; a standing one never (jobs come and go).
        var isOver: Bool { !scheduler.isStanding && jobs[0]?.outcome != nil }

        /// A job's specs carry its own ids (job 0, its segment index): on a standing farm they are made unique across
        /// jobs by the job (`SegmentID(job:segment:)`; job 0, `restore`'s, keeps them as they are). Workers see only this
        /// id. Throws `SegmentIDError` for a job id that no farm-wide id can carry.
        static func onFarm(_ spec: SegmentSpec, job: FarmJobID) throws -> SegmentSpec {
            var spec = spec
            spec.id = try SegmentID(job: job, segment: spec.id.segment)
            return spec
        }

        /// The job ends with `error` (its first outcome stands); the loop takes it off the farm.
        mutating func fail(_ job: FarmJobID, _ error: Error) {
            if jobs[job] != nil, jobs[job]!.outcome == nil { jobs[job]!.outcome = .failure(error) }
        }

        /// The job of a lease's segment and its spec, if the job is still on the farm.
        func owner(of segment: SegmentID) -> (job: FarmJobID, spec: SegmentSpec)? {
            guard let job = scheduler.job(of: segment), let spec = jobs[job]?.specs[segment] else { return nil }
            return (job, spec)
        }
    }
}
