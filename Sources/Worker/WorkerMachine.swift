import Shared

public struct WorkerTiming: Sendable {
    /// Heartbeat interval until the coordinator's welcome says otherwise (Paranoid Pirate: ~1 s).
    public var heartbeatInterval = 1.0
    /// Missed intervals before the coordinator is presumed gone and the worker reconnects.
    public var liveness = 3
    /// Intervals a registration waits for its `welcome` before the worker registers again on a fresh connection (10 s
    /// at 1 s). A coordinator welcoming thousands of workers at once answers late, and a worker that gave up after 3 s
    /// only added a registration to its queue: 10,000 simulated workers registering within 2.5 s re-registered 12,532
    /// times before their first welcome (BENCHMARKS.md, "Lease-ahead").
    public var registrationLiveness = 10
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

/// The worker's side of the protocol as a pure state machine. It renders one segment at a time (the processor uses
/// the worker's threads inside a segment) and holds up to `capabilities.segmentsAhead` more (lease-ahead): their
/// inputs arrive while it renders, the next starts the moment the current one ends, and results go back one at a
/// time, in order, while the next renders. Time is passed in; tests drive it without sockets.
public struct WorkerMachine {
    public enum Phase: Equatable {
        case connecting, idle, receiving(LeaseRef), processing(LeaseRef), sending(LeaseRef), stopped
    }

    /// One segment the worker holds, from its assignment to its result's last chunk.
    struct Held {
        enum Stage {
            case receiving(ChunkReceiver)
            /// Input complete and verified; waits for the segment ahead of it to finish rendering.
            case ready
            case processing
            /// Rendered; its result waits for the one ahead of it to finish uploading.
            case finished(SegmentResultInfo)
            case sending(ChunkSender)
        }
        let assignment: SegmentAssignment
        var stage: Stage
        var lease: LeaseRef { assignment.lease }
        var hasStarted: Bool {
            switch stage {
            case .receiving, .ready: return false
            case .processing, .finished, .sending: return true
            }
        }
    }

    enum Link: Equatable { case connecting, connected, stopped }

    public let capabilities: WorkerCapabilities
    public let timing: WorkerTiming
    /// What the worker does now: `processing` while it renders anything, else `sending` while a result goes out, else
    /// `receiving` while an input comes in (with one segment held, exactly that segment's stage).
    public var phase: Phase {
        switch link {
        case .stopped: return .stopped
        case .connecting: return .connecting
        case .connected:
            if let h = held.first(where: { if case .processing = $0.stage { return true } else { return false } }) { return .processing(h.lease) }
            if let h = held.first(where: { if case .sending = $0.stage { return true } else { return false } }) { return .sending(h.lease) }
            if let h = held.first { return .receiving(h.lease) }
            return .idle
        }
    }
    /// The interval in force: the coordinator's from its welcome, else the configured one.
    public private(set) var heartbeatInterval: Double
    private var link: Link = .connecting
    private var lastHeard = 0.0
    private var lastSent = 0.0
    private var backoff: Double
    /// Segments held, in assignment order (at most `1 + segmentsAhead`).
    private var held: [Held] = []
    private var shutdownRequests = 0
    public private(set) var segmentsCompleted = 0
    public private(set) var everWelcomed = false

    public init(capabilities: WorkerCapabilities, timing: WorkerTiming = WorkerTiming()) {
        self.capabilities = capabilities
        self.timing = timing
        heartbeatInterval = timing.heartbeatInterval
        backoff = timing.reconnectInitialDelay
    }

    /// The leases held, in assignment order: the one rendering or returning its result first.
    public var heldLeases: [LeaseRef] { held.map(\.lease) }
    private var capacity: Int { 1 + Int(min(capabilities.segmentsAhead, FarmProtocol.maxSegmentsAhead)) }
    private func index(_ lease: LeaseRef) -> Int? { held.firstIndex { $0.lease == lease } }

    // MARK: Events

    public mutating func onStart(now: Double) -> [WorkerDirective] { onReconnected(now: now) }

    /// A fresh socket is connected: register (again).
    public mutating func onReconnected(now: Double) -> [WorkerDirective] {
        link = .connecting
        lastHeard = now
        return send(.register(capabilities), now)
    }

    /// A message from the coordinator that does not decode. Another protocol version will never work: stop with the
    /// reason (exit status 2, like a refusal). Anything else is dropped (the shell logs it) and the worker carries on.
    public mutating func onUndecodable(_ error: ProtocolError, now: Double) -> [WorkerDirective] {
        guard link != .stopped, case .unsupportedVersion(let theirs, let ours) = error else { return [] }
        let out = abandonAll()
        link = .stopped
        return out + [.exit(reason: "coordinator refused this worker: the coordinator speaks farm protocol \(theirs), this worker \(ours); run the same Lumière version on coordinator and workers")]
    }

    public mutating func onMessage(_ message: FarmMessage, now: Double) -> [WorkerDirective] {
        guard link != .stopped else { return [] }
        lastHeard = now
        switch message {
        case .welcome(let intervalMs):
            heartbeatInterval = max(0.05, Double(intervalMs) / 1000)
            backoff = timing.reconnectInitialDelay
            everWelcomed = true
            if link == .connecting { link = .connected }
            return []
        case .reject(let reason):
            let out = abandonAll()
            link = .stopped
            return out + [.exit(reason: "coordinator refused this worker: \(reason)")]
        case .goodbye:
            // The coordinator restarted or forgot us: start over with a fresh connection.
            return abandonAll() + [.reconnect(afterSeconds: 0)]
        case .assign(let a):
            return onAssign(a, now)
        case .chunk(let lease, let offset, let bytes):
            return onInputChunk(lease, offset, bytes, now)
        case .credit(let lease, let chunks):
            guard let i = index(lease), case .sending(var sender) = held[i].stage else { return [] }
            sender.grant(chunks)
            held[i].stage = .sending(sender)
            return pumpResult(now)
        case .cancel(let lease, _):
            guard index(lease) != nil else { return [] }
            return drop(lease) + startNext() + announceNext(now) + finishIfShuttingDown(now)
        case .heartbeat:
            return []
        case .register, .progress, .result, .failure:
            return [] // worker-to-coordinator messages: a confused peer, ignore
        }
    }

    public mutating func onProgress(_ lease: LeaseRef, framesDone: UInt32, framesTotal: UInt32, now: Double) -> [WorkerDirective] {
        guard let i = index(lease), case .processing = held[i].stage else { return [] }
        return send(.progress(lease, framesDone: min(framesDone, framesTotal), framesTotal: framesTotal), now)
    }

    /// The processor finished; `output` carries the size and checksum the shell measured on the file. The next segment
    /// held starts at once (its input is here), before this result goes out.
    public mutating func onProcessingFinished(_ lease: LeaseRef, _ info: SegmentResultInfo, now: Double) -> [WorkerDirective] {
        guard let i = index(lease), case .processing = held[i].stage else { return [.discardLease(lease)] }
        held[i].stage = .finished(info)
        return startNext() + announceNext(now)
    }

    public mutating func onProcessingFailed(_ lease: LeaseRef, message: String, now: Double) -> [WorkerDirective] {
        guard let i = index(lease), case .processing = held[i].stage else { return [.discardLease(lease)] }
        return send(.failure(lease, message: message), now) + drop(lease) + startNext() + announceNext(now) + finishIfShuttingDown(now)
    }

    /// A local I/O failure on a held lease (disk full writing input, unreadable output...).
    public mutating func onLocalFailure(_ lease: LeaseRef, message: String, now: Double) -> [WorkerDirective] {
        guard index(lease) != nil else { return [] }
        return send(.failure(lease, message: message), now) + drop(lease) + startNext() + announceNext(now) + finishIfShuttingDown(now)
    }

    /// First request: finish the current segment (the first held, and any other already rendering or rendered), then
    /// say goodbye; segments queued behind it and not started are dropped (the coordinator takes them back with the
    /// goodbye, without counting a try). Second: hand everything back now.
    public mutating func onShutdownRequested(now: Double) -> [WorkerDirective] {
        shutdownRequests += 1
        var out: [WorkerDirective] = []
        if shutdownRequests == 1 {
            for h in held.dropFirst() where !h.hasStarted { out += drop(h.lease) }
        }
        if held.isEmpty || shutdownRequests > 1 {
            out += abandonAll()
            link = .stopped
            return out + send(.goodbye(reason: "worker shutting down"), now) + [.exit(reason: "shutdown requested")]
        }
        return out
    }

    public mutating func onTick(now: Double) -> [WorkerDirective] {
        guard link != .stopped else { return [] }
        let patience = heartbeatInterval * Double(link == .connecting ? max(timing.liveness, timing.registrationLiveness) : timing.liveness)
        if now - lastHeard > patience {
            let delay = backoff
            backoff = min(backoff * 2, timing.reconnectMaxDelay)
            let out = abandonAll()
            link = .connecting
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
        guard link == .connected, shutdownRequests == 0, held.count < capacity, index(a.lease) == nil else {
            return send(.failure(a.lease, message: "worker busy (holds \(held.count) of \(capacity) segments) or shutting down; assignment refused"), now)
        }
        guard a.input.byteCount > 0 else { return send(.failure(a.lease, message: "assignment has an empty input file"), now) }
        held.append(Held(assignment: a, stage: .receiving(ChunkReceiver(lease: a.lease, expected: a.input))))
        return [.beginInput(a)] + send(.credit(a.lease, chunks: ChunkReceiver.initialWindow), now)
    }

    private mutating func onInputChunk(_ lease: LeaseRef, _ offset: UInt64, _ bytes: [UInt8], _ now: Double) -> [WorkerDirective] {
        guard let i = index(lease), case .receiving(var receiver) = held[i].stage else { return [] }
        do {
            try receiver.accept(offset: offset, bytes: bytes)
        } catch {
            return send(.failure(lease, message: "input transfer: \(error)"), now) + drop(lease) + startNext() + finishIfShuttingDown(now)
        }
        held[i].stage = .receiving(receiver)
        var out: [WorkerDirective] = [.writeInput(lease, offset: offset, bytes: bytes)]
        guard receiver.isComplete else { return out + send(.credit(lease, chunks: 1), now) }
        do {
            try receiver.verify()
        } catch {
            return out + send(.failure(lease, message: "input transfer: \(error)"), now) + drop(lease) + startNext() + finishIfShuttingDown(now)
        }
        held[i].stage = .ready
        out += startNext()
        return out
    }

    /// Starts the first segment not yet started when nothing renders and its input is complete (segments start in
    /// the order they were assigned).
    private mutating func startNext() -> [WorkerDirective] {
        guard link == .connected, !held.contains(where: { if case .processing = $0.stage { return true } else { return false } }),
              let i = held.firstIndex(where: { !$0.hasStarted }), case .ready = held[i].stage else { return [] }
        held[i].stage = .processing
        return [.startProcessing(held[i].assignment)]
    }

    /// Announces the first rendered result when no other result is uploading (one transfer each way at a time).
    private mutating func announceNext(_ now: Double) -> [WorkerDirective] {
        guard !held.contains(where: { if case .sending = $0.stage { return true } else { return false } }),
              let i = held.firstIndex(where: { if case .finished = $0.stage { return true } else { return false } }),
              case .finished(let info) = held[i].stage else { return [] }
        held[i].stage = .sending(ChunkSender(lease: held[i].lease, totalBytes: info.output.byteCount))
        return send(.result(held[i].lease, info), now)
    }

    private mutating func pumpResult(_ now: Double) -> [WorkerDirective] {
        guard let i = held.firstIndex(where: { if case .sending = $0.stage { return true } else { return false } }),
              case .sending(var sender) = held[i].stage else { return [] }
        var out: [WorkerDirective] = []
        while let next = sender.takeNextChunk() {
            out.append(.sendResultChunk(sender.lease, offset: next.offset, length: next.length))
        }
        held[i].stage = .sending(sender)
        if !out.isEmpty { lastSent = now }
        if sender.isFinished {
            segmentsCompleted += 1
            out += drop(sender.lease) + announceNext(now) + finishIfShuttingDown(now)
        }
        return out
    }

    /// Forgets one held lease: stops its rendering and deletes its files.
    private mutating func drop(_ lease: LeaseRef) -> [WorkerDirective] {
        guard let i = index(lease) else { return [] }
        let h = held.remove(at: i)
        if case .processing = h.stage { return [.cancelProcessing(lease), .discardLease(lease)] }
        return [.discardLease(lease)]
    }

    private mutating func abandonAll() -> [WorkerDirective] {
        var out: [WorkerDirective] = []
        for h in held { out += drop(h.lease) }
        return out
    }

    private mutating func finishIfShuttingDown(_ now: Double) -> [WorkerDirective] {
        guard shutdownRequests > 0, link != .stopped, held.isEmpty else { return [] }
        link = .stopped
        return send(.goodbye(reason: "worker shutting down"), now) + [.exit(reason: "shutdown requested")]
    }
}
