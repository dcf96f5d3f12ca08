import Foundation
import Logging
import Shared
import Transport

/// The coordinator shell: owns the ROUTER socket, the ZAP handler and the transfer files, and feeds events to
/// `FarmScheduler`. All socket I/O happens on the thread that calls `run` (libzmq sockets are single-threaded).
public final class FarmCoordinator: @unchecked Sendable {
    private let configuration: FarmCoordinatorConfiguration
    private let logger: Logger
    private let lock = NSLock()
    private var stats = FarmStatistics()
    private var drainRequested = false
    private let clockStart = ContinuousClock.now

    private var context: MessagingContext?
    private var socket: Socket?
    private var authenticator: ZAPAuthenticator?
    private var transfers = TransferTable()
    private var outbox: [PeerID: [[UInt8]]] = [:]
    private var rejectionsByPeer: [PeerID: Int] = [:]
    /// Peers a send found disconnected (EHOSTUNREACH), reported to the scheduler after the current batch.
    private var unreachable: [PeerID] = []

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

    private var now: Double {
        let elapsed = ContinuousClock.now - clockStart
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    // MARK: Job loop

    /// Runs one job to completion on the calling thread. Returns the report when every segment was
    /// accepted; throws `FarmError.jobFailed` with the report when a segment ran out of tries.
    public func run(segments: [SegmentSpec], inputs: @escaping SegmentInputProvider,
                    results: @escaping SegmentResultSink) throws -> JobReport {
        guard let socket else { throw FarmError.notBound }
        var job = JobState(scheduler: FarmScheduler(segments: segments, configuration: configuration.effectiveScheduler, now: now),
                           specs: Dictionary(uniqueKeysWithValues: segments.map { ($0.id, $0) }), inputs: inputs, results: results)
        var lastHeartbeat = -Double.infinity
        var lastTick = -Double.infinity
        var drainStarted: Double?
        defer { transfers.removeAll(); outbox.removeAll(); unreachable.removeAll() }
        while job.outcome == nil {
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

    private func publishStatistics(_ scheduler: FarmScheduler) {
        let live = scheduler.liveWorkers
        let busy = live.filter { scheduler.currentLease(of: $0) != nil }.count
        let done = scheduler.doneCount
        lock.withLock { stats.liveWorkers = live.count; stats.busyWorkers = busy; stats.segmentsDone = done }
    }

    struct JobState {
        var scheduler: FarmScheduler
        let specs: [SegmentID: SegmentSpec]
        let inputs: SegmentInputProvider
        let results: SegmentResultSink
        var inputFiles: [SegmentID: (url: URL, payload: PayloadDescription)] = [:]
        var outcome: Result<JobReport, Error>?
    }

    private func reject(_ peer: PeerID?, _ reason: String) {
        lock.withLock {
            stats.rejectedMessages += 1
            stats.lastRejection = reason
        }
        // A flooding peer must not flood the log: the first few per peer, then every thousandth.
        let key = peer ?? PeerID([])
        if rejectionsByPeer.count > 10_000 { rejectionsByPeer.removeAll() }
        rejectionsByPeer[key, default: 0] += 1
        let count = rejectionsByPeer[key]!
        guard count <= 10 || count % 1000 == 0 else { return }
        logger.warning("rejected a message from peer \(peer.map { "\($0)" } ?? "?") (\(count) so far): \(reason)")
    }

    private func handle(_ parts: [[UInt8]], _ job: inout JobState) throws {
        guard parts.count == 2 else {
            return reject(parts.first.map(PeerID.init), "\(parts.count - 1)-part message; the protocol uses single-part messages")
        }
        let peer = PeerID(parts[0])
        let message: FarmMessage
        do { message = try MessageCodec.decode(parts[1]) } catch {
            reject(peer, "\(error)")
            // Tell a peer of another version why it gets no work: its own decoder will log our version.
            if case ProtocolError.unsupportedVersion = error, (rejectionsByPeer[peer] ?? 0) <= 10 {
                send(MessageCodec.encode(.reject(reason: "\(error)")), to: peer)
            }
            return
        }
        let now = self.now
        if case .register(let capabilities) = message {
            lock.withLock { stats.registrations += 1 }
            logger.info("worker \(capabilities.workerName) on \(capabilities.host) registered: \(capabilities.threads) threads, peer \(peer)")
            transfers.remove(peer)
            return try apply(job.scheduler.onWorkerRegistered(peer, capabilities, now: now), &job)
        }
        try apply(job.scheduler.onHeartbeat(peer, now: now), &job)
        guard job.scheduler.isRegistered(peer) else {
            // E.g. a worker declared dead after a stall, finishing anyway: counted and logged as discarded.
            if case .result(let lease, let info) = message { try apply(job.scheduler.onResultAnnounced(peer, lease, info, now: now), &job) }
            return
        }
        switch message {
        case .heartbeat, .register:
            break
        case .credit(let lease, let chunks):
            transfers.grant(peer, lease, chunks)
            job.scheduler.onLeaseActivity(peer, lease, now: now)
        case .progress(let lease, _, _):
            job.scheduler.onLeaseActivity(peer, lease, now: now)
        case .result(let lease, let info):
            transfers.announced[peer] = (lease, info)
            try apply(job.scheduler.onResultAnnounced(peer, lease, info, now: now), &job)
        case .chunk(let lease, let offset, let bytes):
            try receiveChunk(peer, lease, offset, bytes, &job)
        case .failure(let lease, let text):
            logger.warning("worker reports \(lease) failed: \(text)")
            transfers.remove(peer, lease: lease)
            try apply(job.scheduler.onWorkerFailure(peer, lease, message: text, now: now), &job)
        case .goodbye(let reason):
            logger.info("worker \(peer) said goodbye: \(reason)")
            transfers.remove(peer)
            try apply(job.scheduler.onWorkerGoodbye(peer, now: now), &job)
        case .welcome, .reject, .assign, .cancel:
            reject(peer, "coordinator-to-worker message \(message.kind) sent by a worker")
        }
    }

    private func receiveChunk(_ peer: PeerID, _ lease: LeaseRef, _ offset: UInt64, _ bytes: [UInt8], _ job: inout JobState) throws {
        guard transfers.incoming[peer]?.receiver.lease == lease else { return } // stale chunk of a cancelled transfer
        do {
            try transfers.incoming[peer]!.receiver.accept(offset: offset, bytes: bytes)
        } catch {
            transfers.remove(peer, lease: lease)
            send(MessageCodec.encode(.cancel(lease, reason: "result transfer failed: \(error)")), to: peer)
            return try apply(job.scheduler.onWorkerFailure(peer, lease, message: "result transfer: \(error)", now: now), &job)
        }
        do {
            try transfers.incoming[peer]!.handle.write(contentsOf: bytes)
        } catch {
            // Our own disk (full, read-only): retrying elsewhere cannot help, so the job stops here.
            throw FarmError.resultSinkFailed(segment: lease.segment,
                                             underlying: "writing \(transfers.incoming[peer]!.file.path): \(error)")
        }
        lock.withLock { stats.bytesReceived += UInt64(bytes.count) }
        job.scheduler.onLeaseActivity(peer, lease, now: now)
        let incoming = transfers.incoming[peer]!
        guard incoming.receiver.isComplete else {
            return send(MessageCodec.encode(.credit(lease, chunks: 1)), to: peer)
        }
        try? incoming.handle.close()
        let received = PayloadDescription(byteCount: incoming.receiver.receivedBytes, checksum: incoming.receiver.actualChecksum)
        try apply(job.scheduler.onResultReceived(peer, lease, incoming.info, received: received, now: now), &job)
        transfers.incoming[peer] = nil
        try? FileManager.default.removeItem(at: incoming.file)
    }

    // MARK: Directives

    private func apply(_ directives: [FarmDirective], _ job: inout JobState) throws {
        for directive in directives {
            switch directive {
            case .welcome(let peer):
                send(MessageCodec.encode(.welcome(heartbeatIntervalMs: UInt32(configuration.heartbeatInterval * 1000))), to: peer)
            case .askToRegister(let peer):
                send(MessageCodec.encode(.goodbye(reason: "unknown worker: register again")), to: peer)
            case .rejectWorker(let peer, let reason):
                logger.warning("refusing worker \(peer): \(reason)")
                transfers.remove(peer)
                send(MessageCodec.encode(.reject(reason: reason)), to: peer)
            case .assign(let peer, let lease, let spec):
                try assign(peer, lease, spec, &job)
            case .cancel(let peer, let lease, let reason):
                logger.warning("cancelling \(lease) on \(peer): \(reason)")
                transfers.remove(peer, lease: lease)
                send(MessageCodec.encode(.cancel(lease, reason: reason)), to: peer)
            case .receiveResult(let peer, let lease):
                try beginReceiving(peer, lease)
            case .acceptResult(_, let lease, let info):
                let spec = job.specs[lease.segment]!
                let file = transfers.incoming.values.first { $0.receiver.lease == lease }?.file ?? resultFile(lease)
                do { try job.results(spec, info, file) } catch {
                    job.outcome = .failure(FarmError.resultSinkFailed(segment: lease.segment, underlying: "\(error)"))
                }
                lock.withLock { stats.segmentsAccepted += 1 }
            case .discardResult(let peer, let lease, let reason):
                logger.notice("\(reason)")
                transfers.remove(peer, lease: lease)
                send(MessageCodec.encode(.cancel(lease, reason: reason)), to: peer)
            case .workerDeclaredDead(let peer, let reason):
                logger.warning("worker \(peer) gone: \(reason)")
                transfers.remove(peer)
                outbox[peer] = nil
            case .jobCompleted(let report):
                logger.notice("job complete: \(report)")
                if job.outcome == nil { job.outcome = .success(report) }
            case .jobFailed(let report):
                logger.error("job failed: \(report)")
                job.outcome = .failure(FarmError.jobFailed(report))
            }
        }
    }

    private func assign(_ peer: PeerID, _ lease: LeaseRef, _ spec: SegmentSpec, _ job: inout JobState) throws {
        if job.inputFiles[spec.id] == nil {
            do {
                let url = try job.inputs(spec)
                job.inputFiles[spec.id] = (url, try TransferTable.describe(url))
            } catch {
                throw FarmError.inputUnavailable(segment: spec.id, underlying: "\(error)")
            }
        }
        let input = job.inputFiles[spec.id]!
        let assignment = SegmentAssignment(lease: lease, inputFrameCount: spec.inputFrameCount, settings: spec.settings, input: input.payload)
        transfers.remove(peer)
        transfers.outgoing[peer] = OutgoingTransfer(sender: ChunkSender(lease: lease, totalBytes: input.payload.byteCount),
                                                    handle: try FileHandle(forReadingFrom: input.url))
        logger.info("assigning \(lease) (\(spec.inputFrameCount) frames) to \(peer)")
        send(MessageCodec.encode(.assign(assignment)), to: peer)
    }

    private func resultFile(_ lease: LeaseRef) -> URL {
        configuration.workDirectory.appendingPathComponent("result-\(lease.segment)-\(lease.attempt).part")
    }

    private func beginReceiving(_ peer: PeerID, _ lease: LeaseRef) throws {
        // The announced info was checked by the scheduler; keep it to verify the bytes against.
        guard let info = transfers.announced[peer], info.lease == lease else { return }
        let file = resultFile(lease)
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw FarmError.resultSinkFailed(segment: lease.segment, underlying: "cannot create \(file.path)")
        }
        transfers.incoming[peer] = IncomingTransfer(receiver: ChunkReceiver(lease: lease, expected: info.info.output),
                                                    info: info.info, file: file, handle: try FileHandle(forWritingTo: file))
        send(MessageCodec.encode(.credit(lease, chunks: ChunkReceiver.initialWindow)), to: peer)
    }

    /// Sends input chunks while the workers' credit allows.
    private func pumpTransfers(_ job: inout JobState) throws {
        for peer in Array(transfers.outgoing.keys) where outbox[peer]?.isEmpty ?? true {
            while let next = transfers.outgoing[peer]?.sender.takeNextChunk() {
                let transfer = transfers.outgoing[peer]!
                try transfer.handle.seek(toOffset: next.offset)
                let bytes = try transfer.handle.read(upToCount: next.length) ?? Data()
                guard bytes.count == next.length else {
                    throw FarmError.inputUnavailable(segment: transfer.sender.lease.segment,
                                                     underlying: "input file shrank while being sent")
                }
                send(MessageCodec.encode(.chunk(transfer.sender.lease, offset: next.offset, bytes: Array(bytes))), to: peer)
                lock.withLock { stats.bytesSent += UInt64(bytes.count) }
            }
            if transfers.outgoing[peer]?.sender.isFinished == true { transfers.finishOutgoing(peer) }
        }
    }

    // MARK: Sending

    private func send(_ bytes: [UInt8], to peer: PeerID) {
        guard let socket else { return }
        if let queued = outbox[peer], !queued.isEmpty { outbox[peer]!.append(bytes); return }
        do {
            if try !socket.send(parts: [peer.bytes, bytes]) { outbox[peer, default: []].append(bytes) }
        } catch {
            // EHOSTUNREACH (ROUTER_MANDATORY): the peer's connection is gone.
            logger.debug("send to \(peer) failed: \(error)")
            if !unreachable.contains(peer) { unreachable.append(peer) }
        }
    }

    private func flushOutbox() {
        guard let socket else { return }
        for peer in Array(outbox.keys) {
            while let first = outbox[peer]?.first {
                do {
                    guard try socket.send(parts: [peer.bytes, first]) else { break }
                } catch {
                    outbox[peer] = nil
                    if !unreachable.contains(peer) { unreachable.append(peer) }
                    break
                }
                outbox[peer]!.removeFirst()
            }
            if outbox[peer]?.isEmpty == true { outbox[peer] = nil }
        }
    }
}
