import Shared

public struct WorkerTiming: Sendable {
    /// Heartbeat interval until the coordinator's welcome says otherwise (Paranoid Pirate: ~1 s).
    public var heartbeatInterval = 1.0
    /// Missed intervals before the coordinator is presumed gone and the worker reconnects.
    public var liveness = 3
    public var reconnectInitialDelay = 1.0
    public var reconnectMaxDelay = 32.0
    public init() {}
}

/// What the worker shell must do. The machine decides; the shell touches sockets, files and threads.
public enum WorkerDirective: Equatable, Sendable {
    case send(FarmMessage)
    /// Close the socket, wait this long, open a fresh one and call `onReconnected`.
    case reconnect(afterSeconds: Double)
    /// Create an empty input file for this lease.
    case beginInput(SegmentAssignment)
    case writeInput(LeaseRef, offset: UInt64, bytes: [UInt8])
    case startProcessing(SegmentAssignment)
    case cancelProcessing(LeaseRef)
    case sendResultChunk(LeaseRef, offset: UInt64, length: Int)
    /// Delete this lease's files.
    case discardLease(LeaseRef)
    case exit(reason: String)
}

/// The worker's side of the protocol as a pure state machine (one segment at a time; the processor uses the
/// worker's threads inside a segment). Time is passed in; tests drive it without sockets.
public struct WorkerMachine {
    public enum Phase: Equatable {
        case connecting, idle, receiving(LeaseRef), processing(LeaseRef), sending(LeaseRef), stopped
    }

    public let capabilities: WorkerCapabilities
    public let timing: WorkerTiming
    public private(set) var phase: Phase = .connecting
    /// The interval in force: the coordinator's from its welcome, else the configured one.
    public private(set) var heartbeatInterval: Double
    private var lastHeard = 0.0
    private var lastSent = 0.0
    private var backoff: Double
    private var receiver: ChunkReceiver?
    private var assignment: SegmentAssignment?
    private var sender: ChunkSender?
    private var shutdownRequests = 0
    public private(set) var segmentsCompleted = 0
    public private(set) var everWelcomed = false

    public init(capabilities: WorkerCapabilities, timing: WorkerTiming = WorkerTiming()) {
        self.capabilities = capabilities
        self.timing = timing
        heartbeatInterval = timing.heartbeatInterval
        backoff = timing.reconnectInitialDelay
    }

    private var currentLease: LeaseRef? { assignment?.lease }

    // MARK: Events

    public mutating func onStart(now: Double) -> [WorkerDirective] { onReconnected(now: now) }

    /// A fresh socket is connected: register (again).
    public mutating func onReconnected(now: Double) -> [WorkerDirective] {
        phase = .connecting
        lastHeard = now
        return send(.register(capabilities), now)
    }

    /// A message from the coordinator that does not decode. Another protocol version will never work: stop with the
    /// reason (exit status 2, like a refusal). Anything else is dropped (the shell logs it) and the worker carries on.
    public mutating func onUndecodable(_ error: ProtocolError, now: Double) -> [WorkerDirective] {
        guard phase != .stopped, case .unsupportedVersion(let theirs, let ours) = error else { return [] }
        let out = abandonLease()
        phase = .stopped
        return out + [.exit(reason: "coordinator refused this worker: the coordinator speaks farm protocol \(theirs), this worker \(ours); run the same Lumière version on coordinator and workers")]
    }

    public mutating func onMessage(_ message: FarmMessage, now: Double) -> [WorkerDirective] {
        guard phase != .stopped else { return [] }
        lastHeard = now
        switch message {
        case .welcome(let intervalMs):
            heartbeatInterval = max(0.05, Double(intervalMs) / 1000)
            backoff = timing.reconnectInitialDelay
            everWelcomed = true
            if phase == .connecting { phase = .idle }
            return []
        case .reject(let reason):
            let out = abandonLease()
            phase = .stopped
            return out + [.exit(reason: "coordinator refused this worker: \(reason)")]
        case .goodbye:
            // The coordinator restarted or forgot us: start over with a fresh connection.
            return abandonLease() + [.reconnect(afterSeconds: 0)] 
        case .assign(let a):
            return onAssign(a, now)
        case .chunk(let lease, let offset, let bytes):
            return onInputChunk(lease, offset, bytes, now)
        case .credit(let lease, let chunks):
            guard lease == currentLease, sender != nil else { return [] }
            sender!.grant(chunks)
            return pumpResult(now)
        case .cancel(let lease, _):
            guard lease == currentLease else { return [] }
            return abandonLease() + finishIfShuttingDown(now)
        case .heartbeat:
            return []
        case .register, .progress, .result, .failure:
            return [] // worker-to-coordinator messages: a confused peer, ignore
        }
    }

    public mutating func onProgress(_ lease: LeaseRef, framesDone: UInt32, framesTotal: UInt32, now: Double) -> [WorkerDirective] {
        guard phase == .processing(lease) else { return [] }
        return send(.progress(lease, framesDone: min(framesDone, framesTotal), framesTotal: framesTotal), now)
    }

    /// The processor finished; `output` carries the size and checksum the shell measured on the file.
    public mutating func onProcessingFinished(_ lease: LeaseRef, _ info: SegmentResultInfo, now: Double) -> [WorkerDirective] {
        guard phase == .processing(lease) else { return [.discardLease(lease)] }
        phase = .sending(lease)
        sender = ChunkSender(lease: lease, totalBytes: info.output.byteCount)
        return send(.result(lease, info), now)
    }

    public mutating func onProcessingFailed(_ lease: LeaseRef, message: String, now: Double) -> [WorkerDirective] {
        guard phase == .processing(lease) else { return [.discardLease(lease)] }
        return send(.failure(lease, message: message), now) + abandonLease() + finishIfShuttingDown(now)
    }

    /// A local I/O failure on the current lease (disk full writing input, unreadable output...).
    public mutating func onLocalFailure(_ lease: LeaseRef, message: String, now: Double) -> [WorkerDirective] {
        guard lease == currentLease else { return [] }
        return send(.failure(lease, message: message), now) + abandonLease() + finishIfShuttingDown(now)
    }

    /// First request: finish the current segment, then say goodbye. Second: hand it back now.
    public mutating func onShutdownRequested(now: Double) -> [WorkerDirective] {
        shutdownRequests += 1
        if currentLease == nil || shutdownRequests > 1 {
            let out = abandonLease()
            phase = .stopped
            return out + send(.goodbye(reason: "worker shutting down"), now) + [.exit(reason: "shutdown requested")]
        }
        return []
    }

    public mutating func onTick(now: Double) -> [WorkerDirective] {
        guard phase != .stopped else { return [] }
        if now - lastHeard > heartbeatInterval * Double(timing.liveness) {
            let delay = backoff
            backoff = min(backoff * 2, timing.reconnectMaxDelay)
            let out = abandonLease()
            phase = .connecting
            return out + [.reconnect(afterSeconds: delay)]
        }
        if now - lastSent >= heartbeatInterval { return send(.heartbeat, now) }
        return []
    }

    // MARK: Internals

    private mutating func send(_ message: FarmMessage, _ now: Double) -> [WorkerDirective] {
        lastSent = now
        return [.send(message)]
    }

    private mutating func onAssign(_ a: SegmentAssignment, _ now: Double) -> [WorkerDirective] {
        guard phase == .idle, shutdownRequests == 0 else {
            return send(.failure(a.lease, message: "worker busy or shutting down; assignment refused"), now)
        }
        guard a.input.byteCount > 0 else { return send(.failure(a.lease, message: "assignment has an empty input file"), now) }
        assignment = a
        receiver = ChunkReceiver(lease: a.lease, expected: a.input)
        phase = .receiving(a.lease)
        return [.beginInput(a)] + send(.credit(a.lease, chunks: ChunkReceiver.initialWindow), now)
    }

    private mutating func onInputChunk(_ lease: LeaseRef, _ offset: UInt64, _ bytes: [UInt8], _ now: Double) -> [WorkerDirective] {
        guard phase == .receiving(lease), receiver != nil else { return [] }
        do {
            try receiver!.accept(offset: offset, bytes: bytes)
        } catch {
            return send(.failure(lease, message: "input transfer: \(error)"), now) + abandonLease()
        }
        var out: [WorkerDirective] = [.writeInput(lease, offset: offset, bytes: bytes)]
        guard receiver!.isComplete else { return out + send(.credit(lease, chunks: 1), now) }
        do {
            try receiver!.verify()
        } catch {
            return out + send(.failure(lease, message: "input transfer: \(error)"), now) + abandonLease()
        }
        receiver = nil
        phase = .processing(lease)
        out.append(.startProcessing(assignment!))
        return out
    }

    private mutating func pumpResult(_ now: Double) -> [WorkerDirective] {
        var out: [WorkerDirective] = []
        while let next = sender?.takeNextChunk() {
            out.append(.sendResultChunk(sender!.lease, offset: next.offset, length: next.length))
        }
        if !out.isEmpty { lastSent = now }
        if let s = sender, s.isFinished {
            segmentsCompleted += 1
            out += abandonLease() + finishIfShuttingDown(now)
        }
        return out
    }

    private mutating func abandonLease() -> [WorkerDirective] {
        guard let lease = currentLease else { return [] }
        var out: [WorkerDirective] = []
        if phase == .processing(lease) { out.append(.cancelProcessing(lease)) }
        assignment = nil
        receiver = nil
        sender = nil
        if phase != .stopped && phase != .connecting { phase = .idle }
        return out + [.discardLease(lease)]
    }

    private mutating func finishIfShuttingDown(_ now: Double) -> [WorkerDirective] {
        guard shutdownRequests > 0, phase != .stopped else { return [] }
        phase = .stopped
        return send(.goodbye(reason: "worker shutting down"), now) + [.exit(reason: "shutdown requested")]
    }
}
