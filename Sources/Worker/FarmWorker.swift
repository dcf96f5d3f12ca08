import Foundation
import Logging
import Shared
import Transport

/// The worker shell: owns the DEALER socket, the lease files and the processing thread, and feeds events to
/// `WorkerMachine`. One loop thread does all socket I/O (libzmq sockets are single-threaded); the processor
/// runs on its own thread so heartbeats keep flowing during long segments.
public final class FarmWorker: @unchecked Sendable {
    public enum ExitReason: Equatable, Sendable { case shutdown, refused(String), killed }

    private let configuration: FarmWorkerConfiguration
    private let processor: SegmentProcessor
    private let logger: Logger
    private var machine: WorkerMachine
    private let mailbox = Mailbox()
    private let clockStart = ContinuousClock.now

    // Loop-thread state.
    private var context: MessagingContext?
    private var socket: Socket?
    private var outbox: [[UInt8]] = []
    private var reconnectAt: Double?
    /// Open input files of the leases held whose input is still arriving (lease-ahead: the next one's while one renders).
    private var inputHandles: [LeaseRef: FileHandle] = [:]
    private var resultFile: (lease: LeaseRef, handle: FileHandle)?
    private var processing: (lease: LeaseRef, cancelled: CancelFlag)?
    private var exitReason: ExitReason?

    public init(configuration: FarmWorkerConfiguration, processor: SegmentProcessor, logger: Logger) {
        self.configuration = configuration
        self.processor = processor
        self.logger = logger
        self.machine = WorkerMachine(capabilities: configuration.capabilities, timing: configuration.timing)
    }

    /// Graceful stop (SIGINT/SIGTERM): the first finishes the current segment, the second hands it back.
    public func requestShutdown() { mailbox.post(.shutdown) }

    /// Stops at once without a goodbye, as a crash would (fault tests).
    public func kill() { mailbox.post(.kill) }

    /// Segments whose result this worker sent completely, and whether the coordinator ever welcomed it.
    public var snapshot: (segmentsCompleted: Int, welcomed: Bool) { mailbox.snapshot }

    private var now: Double {
        let elapsed = ContinuousClock.now - clockStart
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// Runs until shutdown, refusal or kill. Throws only for local set-up errors (bad keys, unwritable directory).
    public func run() throws -> ExitReason {
        try FileManager.default.createDirectory(at: configuration.workDirectory, withIntermediateDirectories: true)
        AllocatorTuning.keepTransferBuffersOnHeap()
        let context = try MessagingContext()
        self.context = context
        try openSocket()
        logger.info("worker \(configuration.capabilities.workerName) connecting to \(configuration.endpoint)")
        apply(machine.onStart(now: now))
        while exitReason == nil {
            do { try step() } catch TransportError.interrupted { continue } // a signal: mailbox has the request
        }
        processing?.cancelled.set()
        if exitReason != .killed {
            flushOutbox(deadline: now + 1)
            // Let libzmq deliver the goodbye (a hand-back, not a crash) before the socket goes.
            var linger = Socket.Options()
            linger.lingerMs = 1000
            try? socket?.apply(linger)
        }
        socket?.close()
        socket = nil
        self.context = nil
        return exitReason!
    }

    private func step() throws {
        let events = mailbox.drain()
        let lastProgress = events.lastIndex { if case .progress = $0 { return true } else { return false } }
        for (index, event) in events.enumerated() {
            switch event {
            case .kill:
                exitReason = .killed
                return
            case .shutdown:
                logger.notice("shutdown requested")
                apply(machine.onShutdownRequested(now: now))
            case .progress(let lease, let done, let total):
                guard index == lastProgress else { continue } // report only the latest of a burst
                apply(machine.onProgress(lease, framesDone: done, framesTotal: total, now: now))
            case .finished(let lease, let result):
                if processing?.lease == lease { processing = nil }
                switch result {
                case .success(let info): apply(machine.onProcessingFinished(lease, info, now: now))
                case .failure(let message):
                    logger.warning("\(lease) failed: \(message)")
                    apply(machine.onProcessingFailed(lease, message: message, now: now))
                }
            }
            if exitReason != nil { return }
        }
        if let at = reconnectAt {
            guard now >= at else { Thread.sleep(forTimeInterval: min(0.05, at - now)); return }
            reconnectAt = nil
            try openSocket()
            apply(machine.onReconnected(now: now))
        }
        guard let socket else { return }
        flushOutbox(deadline: nil)
        // The mailbox pipe wakes us for processor events; the timeout only paces heartbeats and liveness.
        let wake = mailbox.wakeDescriptor
        let wait = wake == nil ? 10 : max(5, min(250, Int(machine.heartbeatInterval * 250)))
        if try Socket.pollReadable([socket], fileDescriptors: wake.map { [$0] } ?? [], timeoutMs: wait)[0] {
            while exitReason == nil, reconnectAt == nil, let parts = try self.socket?.receive() {
                guard parts.count == 1 else {
                    logger.warning("dropped a \(parts.count)-part message from the coordinator: the protocol uses single-part messages")
                    continue
                }
                do {
                    apply(machine.onMessage(try MessageCodec.decode(parts[0]), now: now))
                } catch {
                    logger.warning("rejected a message from the coordinator: \(error)")
                    if let error = error as? ProtocolError { apply(machine.onUndecodable(error, now: now)) }
                }
            }
        }
        if exitReason == nil, reconnectAt == nil { apply(machine.onTick(now: now)) }
        mailbox.publish(segmentsCompleted: machine.segmentsCompleted, welcomed: machine.everWelcomed)
    }

    private func openSocket() throws {
        socket?.close()
        let socket = try Socket(context!, .dealer)
        var options = Socket.Options()
        // Bounded queues both ways: data is credit-limited anyway; these caps protect against a flood.
        options.sendHighWaterMark = 256
        options.receiveHighWaterMark = 256
        options.maxMessageBytes = Int64(FarmProtocol.maxMessageBytes)
        try socket.apply(options)
        if let curve = configuration.curve { try socket.makeCurveClient(curve.keys, serverPublicKey: curve.serverPublicKey) }
        try socket.connect(configuration.endpoint)
        self.socket = socket
        outbox.removeAll()
    }

    // MARK: Directives

    private func apply(_ directives: [WorkerDirective]) {
        for directive in directives {
            do { try perform(directive) } catch {
                if case .writeInput(let lease, _, _) = directive {
                    apply(machine.onLocalFailure(lease, message: "cannot store input: \(error)", now: now))
                } else if case .sendResultChunk(let lease, _, _) = directive {
                    apply(machine.onLocalFailure(lease, message: "cannot read output: \(error)", now: now))
                } else {
                    logger.error("worker action failed: \(error)")
                }
            }
        }
    }

    private func perform(_ directive: WorkerDirective) throws {
        switch directive {
        case .send(let message):
            send(MessageCodec.encode(message))
        case .reconnect(let delay):
            var hint = ""
            if !machine.everWelcomed {
                hint = configuration.curve == nil
                    ? " (is a coordinator listening at \(configuration.endpoint)? one with CURVE keys refuses workers without keys)"
                    : " (check the coordinator's public key and that this worker's .pub is in its allowed list)"
            }
            if delay == 0 { // only a coordinator's goodbye asks for an immediate reconnect
                logger.notice("the coordinator asked this worker to register again; reconnecting")
            } else {
                logger.warning("no word from the coordinator for \(configuration.timing.liveness) heartbeats; reconnecting in \(delay) s\(hint)")
            }
            socket?.close()
            socket = nil
            reconnectAt = now + delay
        case .beginInput(let assignment):
            let directory = leaseDirectory(assignment.lease)
            try? FileManager.default.removeItem(at: directory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appendingPathComponent("input.bin")
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
            }
            inputHandles[assignment.lease] = try FileHandle(forWritingTo: file)
            logger.info("assigned \(assignment.lease): \(assignment.inputFrameCount) frames, \(assignment.input.byteCount) bytes")
        case .writeInput(let lease, _, let bytes):
            try inputHandles[lease]?.write(contentsOf: bytes)
        case .startProcessing(let assignment):
            try inputHandles.removeValue(forKey: assignment.lease)?.close()
            startProcessing(assignment)
        case .cancelProcessing(let lease):
            if processing?.lease == lease { processing?.cancelled.set(); processing = nil }
        case .sendResultChunk(let lease, let offset, let length):
            if resultFile?.lease != lease {
                resultFile = (lease, try FileHandle(forReadingFrom: leaseDirectory(lease).appendingPathComponent("result.bin")))
            }
            try resultFile!.handle.seek(toOffset: offset)
            let bytes = try resultFile!.handle.read(upToCount: length) ?? Data()
            guard bytes.count == length else { throw CocoaError(.fileReadCorruptFile) }
            send(MessageCodec.encode(.chunk(lease, offset: offset, bytes: Array(bytes))))
        case .discardLease(let lease):
            try? inputHandles.removeValue(forKey: lease)?.close()
            if resultFile?.lease == lease { try? resultFile?.handle.close(); resultFile = nil }
            try? FileManager.default.removeItem(at: leaseDirectory(lease))
        case .exit(let reason):
            logger.notice("worker exiting: \(reason)")
            exitReason = reason.hasPrefix("coordinator refused") ? .refused(reason) : .shutdown
        }
    }

    private func leaseDirectory(_ lease: LeaseRef) -> URL {
        configuration.workDirectory.appendingPathComponent("segment-\(lease.segment)-attempt-\(lease.attempt)")
    }

    private func send(_ bytes: [UInt8]) {
        guard socket != nil else { return }
        if !outbox.isEmpty { outbox.append(bytes); return }
        do {
            if try socket!.send(parts: [bytes]) == false { outbox.append(bytes) }
        } catch {
            logger.warning("send to coordinator failed: \(error)")
        }
    }

    private func flushOutbox(deadline: Double?) {
        while let socket, !outbox.isEmpty {
            do {
                if try socket.send(parts: [outbox[0]]) { outbox.removeFirst(); continue }
            } catch {
                logger.warning("send to coordinator failed: \(error)")
                outbox.removeFirst()
                continue
            }
            guard let deadline, now < deadline else { return }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    // MARK: Processing thread

    private func startProcessing(_ assignment: SegmentAssignment) {
        let lease = assignment.lease
        let directory = leaseDirectory(lease)
        let job = SegmentJob(lease: lease, inputFile: directory.appendingPathComponent("input.bin"),
                             inputFrameCount: assignment.inputFrameCount, work: assignment.work,
                             workDirectory: directory)
        let cancelled = CancelFlag()
        processing = (lease, cancelled)
        let processor = self.processor, mailbox = self.mailbox, total = processor.expectedOutputFrames(job)
        let thread = Thread {
            let result: Mailbox.Outcome
            do {
                let output = try processor.process(job, progress: { done in
                    mailbox.post(.progress(lease, done, max(done, total)))
                }, isCancelled: { cancelled.isSet })
                result = .success(try FarmWorker.describe(output, resultFile: directory.appendingPathComponent("result.bin")))
            } catch {
                result = .failure("\(error)")
            }
            if !cancelled.isSet { mailbox.post(.finished(lease, result)) }
        }
        thread.name = "lumiere-segment-\(lease.segment)"
        thread.start()
    }

    /// Moves the output to the lease's result file and measures its size and checksum (streaming).
    static func describe(_ output: SegmentOutput, resultFile: URL) throws -> SegmentResultInfo {
        if output.file.standardizedFileURL != resultFile.standardizedFileURL {
            try? FileManager.default.removeItem(at: resultFile)
            try FileManager.default.moveItem(at: output.file, to: resultFile)
        }
        let handle = try FileHandle(forReadingFrom: resultFile)
        defer { try? handle.close() }
        var crc = XXHash64()
        var size: UInt64 = 0
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            block.withUnsafeBytes { crc.update(buffer: $0) }
            size += UInt64(block.count)
        }
        return SegmentResultInfo(frameCount: output.frameCount, frameWidth: output.frameWidth,
                                 frameHeight: output.frameHeight, output: PayloadDescription(byteCount: size, checksum: crc.checksum))
    }
}
