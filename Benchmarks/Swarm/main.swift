import Foundation
import Shared
import Transport
import Worker

/// `lumiere-swarm --connect ENDPOINT --workers N --seconds S`: N simulated workers in one process on one thread
/// (issue 16 item 9). Each is a real DEALER socket driven by the real `WorkerMachine`, so the coordinator sees
/// exactly what `lumiere-worker --simulate-seconds S` sends: register, credit, progress per frame, result, chunks,
/// heartbeats; render time is a timer, and the result is the same XOR transform of the input that
/// `SimulatedSegmentProcessor` writes. One process per worker (FarmCapacityBenchmark) measured the machine beyond
/// 200 workers on 2 cores; this measures the coordinator.
///
/// Prints `swarm-ready N` once every socket is open, and `swarm-stats {json}` when stdin closes (the benchmark
/// closes it after the job), then exits. Its own lateness (timers fired late because the thread was busy) is in
/// the stats: a worker declared lost because the swarm was late is a swarm failure, not a coordinator result.
/// `LUMIERE_SWARM_TRACE=I` prints worker I's messages with times to stderr (where did a gap between segments go?).

struct SwarmOptions {
    var endpoint = ""
    var workers = 0
    var secondsPerSegment = 1.0
    var namePrefix = "swarm"
    /// Sockets opened per second: a real farm does not connect 10,000 workers in the same millisecond, and a
    /// burst overflows the coordinator's listen backlog (ZMQ_BACKLOG 100), costing SYN retries of seconds.
    var connectsPerSecond = 2_000.0
    /// Render time varies by ±this fraction (deterministic per worker and lease): real segments differ in length,
    /// and identical timers would finish every worker in the same millisecond, a burst no farm sees.
    var jitter = 0.0
    /// Inputs are held in memory while a segment "renders" (its result is their XOR transform).
    var maxInputBytes = 16 << 20
    /// Segments each worker holds beyond the one it renders (`WorkerCapabilities.segmentsAhead`; lumiere-worker's 1).
    var segmentsAhead: UInt8 = 1

    enum ParseError: Error, CustomStringConvertible {
        case missing(String), invalid(String, String), unknown(String)
        var description: String {
            switch self {
            case .missing(let option): return "missing \(option)"
            case .invalid(let option, let value): return "invalid value '\(value)' for \(option)"
            case .unknown(let option): return "unknown option \(option); use --connect E --workers N [--seconds S] [--name-prefix P] [--connect-rate R] [--jitter F] [--segments-ahead K]"
            }
        }
    }

    static func parse(_ arguments: [String]) throws -> SwarmOptions {
        var options = SwarmOptions()
        var iterator = arguments.makeIterator()
        func value(_ option: String) throws -> String {
            guard let v = iterator.next() else { throw ParseError.missing("value of \(option)") }
            return v
        }
        func positive(_ option: String) throws -> Double {
            let text = try value(option)
            guard let v = Double(text), v > 0, v.isFinite else { throw ParseError.invalid(option, text) }
            return v
        }
        while let option = iterator.next() {
            switch option {
            case "--connect": options.endpoint = try value(option)
            case "--workers":
                let text = try value(option)
                guard let n = Int(text), n > 0, n <= 1_000_000 else { throw ParseError.invalid(option, text) }
                options.workers = n
            case "--seconds": options.secondsPerSegment = try positive(option)
            case "--name-prefix": options.namePrefix = try value(option)
            case "--connect-rate": options.connectsPerSecond = try positive(option)
            case "--jitter":
                let text = try value(option)
                guard let v = Double(text), v >= 0, v < 1 else { throw ParseError.invalid(option, text) }
                options.jitter = v
            case "--segments-ahead":
                let text = try value(option)
                guard let v = UInt8(text), v <= FarmProtocol.maxSegmentsAhead else { throw ParseError.invalid(option, text) }
                options.segmentsAhead = v
            default: throw ParseError.unknown(option)
            }
        }
        if options.endpoint.isEmpty { throw ParseError.missing("--connect") }
        if options.workers == 0 { throw ParseError.missing("--workers") }
        return options
    }
}

/// Millisecond histogram up to a minute (lateness, idle gaps): percentiles without keeping every sample.
struct Histogram {
    private var counts = [Int](repeating: 0, count: 60_001)
    private(set) var count = 0
    private(set) var sum = 0.0
    private(set) var max = 0.0

    mutating func add(_ seconds: Double) {
        let s = Swift.max(0, seconds)
        counts[Swift.min(counts.count - 1, Int(s * 1000))] += 1
        count += 1
        sum += s
        max = Swift.max(max, s)
    }

    func percentile(_ p: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = Int((Double(count) * p).rounded(.up))
        var seen = 0
        for (ms, c) in counts.enumerated() {
            seen += c
            if seen >= rank { return Double(ms) / 1000 }
        }
        return max
    }

    var json: [String: Double] {
        ["count": Double(count), "mean": count == 0 ? 0 : sum / Double(count), "p50": percentile(0.5),
         "p99": percentile(0.99), "max": max]
    }
}

/// A binary min-heap of timers (frame steps, ticks, reconnects): the one clock of all workers.
struct TimerHeap {
    enum Kind: UInt8 { case tick, frame, reconnect }
    struct Entry { var due: Double; var worker: Int32; var kind: Kind; var generation: UInt32 }
    private var items: [Entry] = []

    var isEmpty: Bool { items.isEmpty }
    var nextDue: Double? { items.first?.due }

    mutating func push(_ entry: Entry) {
        items.append(entry)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].due < items[parent].due else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry {
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count, items[left].due < items[smallest].due { smallest = left }
                if right < items.count, items[right].due < items[smallest].due { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}

struct SimulatedWorker {
    var machine: WorkerMachine
    var socket: Socket?
    var outbox: [[UInt8]] = []
    /// Per lease held (lease-ahead: the next one's input arrives while one renders, a result returns while the next renders).
    var inputs: [LeaseRef: [UInt8]] = [:]
    var inputRefused: Set<LeaseRef> = []
    var results: [LeaseRef: [UInt8]] = [:]
    /// The segment being "rendered": frames done of total, and a generation that invalidates its timer on cancel.
    var rendering: (assignment: SegmentAssignment, frame: UInt32, frames: UInt32, startedAt: Double)?
    var generation: UInt32 = 0
    var idleSince: Double?
    var stopped = false
    /// For the busy share: from the first welcome to the job's end (the last result this swarm sent).
    var welcomedAt: Double?
    var completedSeen = 0
}

final class Swarm {
    let options: SwarmOptions
    let context: MessagingContext
    let readiness: ReadinessSet
    private let clockStart = ContinuousClock.now
    var workers: [SimulatedWorker] = []
    var timers = TimerHeap()
    var outboxWorkers = Set<Int>()
    var stopping = false
    static let stdinToken = UInt64.max
    static let traced = Int(ProcessInfo.processInfo.environment["LUMIERE_SWARM_TRACE"] ?? "") ?? -1

    // Measurements.
    var lateness = Histogram()
    var idleGaps = Histogram()
    var renderedSeconds = 0.0
    var lastResultAt = 0.0
    var segmentsRendered = 0
    var reconnects = 0
    var reconnectsBeforeWelcome = 0
    var exits: [String] = []
    var undecodable = 0
    var sendErrors = 0
    var messagesIn = 0
    var messagesOut = 0
    var loopIterations = 0

    init(options: SwarmOptions) throws {
        self.options = options
        // Per socket: its mailbox eventfd and its connection; plus libzmq's own and some slack.
        context = try MessagingContext(maxSockets: Int32(options.workers + 64))
        readiness = try ReadinessSet(capacityHint: options.workers)
    }

    var now: Double {
        let elapsed = ContinuousClock.now - clockStart
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    func run() throws {
        try readiness.add(fileDescriptor: 0, token: Swarm.stdinToken)
        let capabilities = { (i: Int) in
            WorkerCapabilities(workerName: "\(self.options.namePrefix)-\(i)", host: "swarm", threads: 1, models: [], freeMemoryBytes: 1 << 30,
                               segmentsAhead: self.options.segmentsAhead)
        }
        workers.reserveCapacity(options.workers)
        let start = now
        for i in 0..<options.workers {
            // Paced connects; the loop keeps serving the sockets already open meanwhile.
            while now < start + Double(i) / options.connectsPerSecond { try step(maxWaitMs: 5) }
            workers.append(SimulatedWorker(machine: WorkerMachine(capabilities: capabilities(i))))
            try openSocket(i)
            apply(i, workers[i].machine.onStart(now: now))
            service(i)
            // Ticks staggered over the period, as independent workers' would be.
            timers.push(.init(due: now + tickPeriod(i) * Double(i % 97) / 97, worker: Int32(i), kind: .tick, generation: 0))
        }
        print("swarm-ready \(options.workers)")
        fflush(stdout)
        while !stopping { try step(maxWaitMs: 50) }
    }

    /// FarmWorker wakes at least every heartbeat/4 (at most 250 ms) to tick; so do these.
    private func tickPeriod(_ i: Int) -> Double { max(0.005, min(0.25, workers[i].machine.heartbeatInterval / 4)) }

    private func step(maxWaitMs: Int32) throws {
        loopIterations += 1
        var wait = maxWaitMs
        if let due = timers.nextDue { wait = min(wait, Int32(max(0, ((due - now) * 1000).rounded(.up)))) }
        for token in try readiness.wait(timeoutMs: wait) {
            if token == Swarm.stdinToken {
                var byte: UInt8 = 0
                if read(0, &byte, 1) <= 0 { stopping = true } // EOF: the benchmark is done
            } else {
                service(Int(token))
            }
        }
        var t = now
        while let due = timers.nextDue, due <= t {
            let entry = timers.pop()
            fire(entry, at: t)
            t = now
        }
        for i in outboxWorkers { flush(i); service(i) }
    }

    // MARK: Events

    private func fire(_ entry: TimerHeap.Entry, at t: Double) {
        let i = Int(entry.worker)
        switch entry.kind {
        case .tick:
            lateness.add(t - entry.due)
            guard !workers[i].stopped else { return }
            if workers[i].socket != nil { apply(i, workers[i].machine.onTick(now: t)) }
            timers.push(.init(due: max(entry.due + tickPeriod(i), t), worker: entry.worker, kind: .tick, generation: 0))
        case .frame:
            guard entry.generation == workers[i].generation, var rendering = workers[i].rendering else { return }
            lateness.add(t - entry.due)
            rendering.frame += 1
            workers[i].rendering = rendering
            let lease = rendering.assignment.lease
            apply(i, workers[i].machine.onProgress(lease, framesDone: rendering.frame, framesTotal: rendering.frames, now: t))
            if rendering.frame < rendering.frames {
                timers.push(.init(due: entry.due + renderSeconds(i, lease) / Double(rendering.frames), worker: entry.worker,
                                  kind: .frame, generation: entry.generation))
            } else {
                workers[i].rendering = nil
                renderedSeconds += t - rendering.startedAt
                segmentsRendered += 1
                workers[i].idleSince = t
                let result = workers[i].results[lease] ?? []
                // 64x36 frames, as SimulatedSegmentProcessor reports; size and checksum measured on the bytes.
                let info = SegmentResultInfo(frameCount: rendering.frames, frameWidth: 64, frameHeight: 36,
                                             output: PayloadDescription(byteCount: UInt64(result.count), checksum: XXHash64.checksum(result)))
                apply(i, workers[i].machine.onProcessingFinished(lease, info, now: t))
            }
        case .reconnect:
            lateness.add(t - entry.due)
            do {
                try openSocket(i)
                apply(i, workers[i].machine.onReconnected(now: t))
            } catch {
                FileHandle.standardError.write(Data("swarm worker \(i): reconnect failed: \(error)\n".utf8))
                timers.push(.init(due: t + 1, worker: entry.worker, kind: .reconnect, generation: 0))
            }
        }
        service(i)
    }

    /// Receives everything the socket holds. Run after every operation on the socket, as ZMQ_FD asks.
    private func service(_ i: Int) {
        var rounds = 0
        while let socket = workers[i].socket, (try? socket.hasMessage()) == true, rounds < 1000 {
            rounds += 1
            while workers[i].socket === socket, let parts = try? socket.receive() {
                messagesIn += 1
                guard parts.count == 1 else { undecodable += 1; continue }
                let t = now
                do {
                    let message = try MessageCodec.decode(parts[0])
                    if i == Swarm.traced { FileHandle.standardError.write(Data(String(format: "%.3f in %@\n", t, "\(message.kind)").utf8)) }
                    apply(i, workers[i].machine.onMessage(message, now: t))
                } catch let error as ProtocolError {
                    undecodable += 1
                    apply(i, workers[i].machine.onUndecodable(error, now: t))
                } catch {
                    undecodable += 1
                }
            }
        }
    }

    // MARK: Directives (as FarmWorker.perform, with memory instead of files and a timer instead of a thread)

    private func apply(_ i: Int, _ directives: [WorkerDirective]) {
        for directive in directives { perform(i, directive) }
        if workers[i].welcomedAt == nil, workers[i].machine.everWelcomed { workers[i].welcomedAt = now }
        if workers[i].machine.segmentsCompleted != workers[i].completedSeen {
            workers[i].completedSeen = workers[i].machine.segmentsCompleted
            lastResultAt = now
        }
    }

    /// Seconds this lease "renders": the nominal time ± jitter, from a hash of worker and lease (reproducible).
    private func renderSeconds(_ i: Int, _ lease: LeaseRef) -> Double {
        var z = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 ^ lease.segment.wireValue &* 0xBF58_476D_1CE4_E5B9 ^ UInt64(lease.attempt)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = Double(z >> 11) / Double(1 << 53) * 2 - 1
        return options.secondsPerSegment * (1 + options.jitter * u)
    }

    private func perform(_ i: Int, _ directive: WorkerDirective) {
        switch directive {
        case .send(let message):
            if i == Swarm.traced { FileHandle.standardError.write(Data(String(format: "%.3f out %@\n", now, "\(message.kind)").utf8)) }
            send(i, MessageCodec.encode(message))
        case .reconnect(let delay):
            reconnects += 1
            // Before its first welcome a worker waits 3 × its configured 1 s: a coordinator still working through
            // thousands of registrations answers later; after it, only the coordinator's silence explains one.
            if workers[i].welcomedAt == nil { reconnectsBeforeWelcome += 1 }
            closeSocket(i)
            timers.push(.init(due: now + delay, worker: Int32(i), kind: .reconnect, generation: 0))
        case .beginInput(let assignment):
            let lease = assignment.lease
            if assignment.input.byteCount > UInt64(options.maxInputBytes) {
                workers[i].inputRefused.insert(lease)
                apply(i, workers[i].machine.onLocalFailure(lease, message: "input of \(assignment.input.byteCount) bytes exceeds the swarm's \(options.maxInputBytes)", now: now))
            } else {
                workers[i].inputs[lease] = []
                workers[i].inputs[lease]!.reserveCapacity(Int(assignment.input.byteCount))
            }
        case .writeInput(let lease, _, let bytes):
            if !workers[i].inputRefused.contains(lease) { workers[i].inputs[lease, default: []] += bytes }
        case .startProcessing(let assignment):
            let lease = assignment.lease
            workers[i].results[lease] = SimulatedSegmentProcessor.transform(workers[i].inputs.removeValue(forKey: lease) ?? [])
            workers[i].generation &+= 1
            let t = now
            if let idle = workers[i].idleSince { idleGaps.add(t - idle) }
            workers[i].idleSince = nil
            let frames = max(1, assignment.inputFrameCount)
            workers[i].rendering = (assignment, 0, frames, t)
            timers.push(.init(due: t + renderSeconds(i, assignment.lease) / Double(frames), worker: Int32(i), kind: .frame,
                              generation: workers[i].generation))
        case .cancelProcessing(let lease):
            if workers[i].rendering?.assignment.lease == lease {
                workers[i].rendering = nil
                workers[i].generation &+= 1
                workers[i].idleSince = now
            }
        case .sendResultChunk(let lease, let offset, let length):
            let result = workers[i].results[lease] ?? []
            guard offset <= UInt64(result.count), length <= result.count - Int(offset) else {
                return apply(i, workers[i].machine.onLocalFailure(lease, message: "result chunk beyond the result", now: now))
            }
            send(i, MessageCodec.encode(.chunk(lease, offset: offset, bytes: Array(result[Int(offset)..<Int(offset) + length]))))
        case .discardLease(let lease):
            workers[i].inputs[lease] = nil
            workers[i].inputRefused.remove(lease)
            workers[i].results[lease] = nil
        case .exit(let reason):
            workers[i].stopped = true
            if exits.count < 10 { FileHandle.standardError.write(Data("swarm worker \(i) exits: \(reason)\n".utf8)) }
            exits.append(reason)
            closeSocket(i)
        }
    }

    // MARK: Sockets

    private func openSocket(_ i: Int) throws {
        closeSocket(i)
        let socket = try Socket(context, .dealer)
        var options = Socket.Options()
        options.sendHighWaterMark = 256 // as FarmWorker
        options.receiveHighWaterMark = 256
        options.maxMessageBytes = Int64(FarmProtocol.maxMessageBytes)
        try socket.apply(options)
        try socket.connect(self.options.endpoint)
        try readiness.add(socket, token: UInt64(i))
        workers[i].socket = socket
        workers[i].outbox.removeAll()
    }

    private func closeSocket(_ i: Int) {
        guard let socket = workers[i].socket else { return }
        try? readiness.remove(socket)
        socket.close()
        workers[i].socket = nil
        workers[i].outbox.removeAll()
        outboxWorkers.remove(i)
    }

    private func send(_ i: Int, _ bytes: [UInt8]) {
        guard let socket = workers[i].socket else { return }
        if !workers[i].outbox.isEmpty { workers[i].outbox.append(bytes); return }
        do {
            if try socket.send(parts: [bytes]) { messagesOut += 1 } else {
                workers[i].outbox.append(bytes)
                outboxWorkers.insert(i)
            }
        } catch {
            sendErrors += 1
        }
    }

    private func flush(_ i: Int) {
        while let socket = workers[i].socket, let first = workers[i].outbox.first {
            do {
                guard try socket.send(parts: [first]) else { return }
                messagesOut += 1
            } catch {
                sendErrors += 1
            }
            workers[i].outbox.removeFirst()
        }
        outboxWorkers.remove(i)
    }

    // MARK: Report

    func statistics(wall: Double) -> String {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let object: [String: Any] = [
            "workers": options.workers,
            "welcomed": workers.filter { $0.machine.everWelcomed }.count,
            "segmentsCompleted": workers.reduce(0) { $0 + $1.machine.segmentsCompleted },
            "segmentsRendered": segmentsRendered,
            "renderedSeconds": renderedSeconds,
            // Worker-seconds from each worker's welcome to this swarm's last result: busy share = rendered / window.
            "windowSeconds": workers.reduce(0.0) { $0 + ($1.welcomedAt.map { max(0, lastResultAt - $0) } ?? 0) },
            "reconnects": reconnects,
            "reconnectsBeforeWelcome": reconnectsBeforeWelcome,
            "exits": exits.count,
            "undecodable": undecodable,
            "sendErrors": sendErrors,
            "messagesIn": messagesIn,
            "messagesOut": messagesOut,
            "loopIterations": loopIterations,
            "lateness": lateness.json,
            "idleGaps": idleGaps.json,
            "cpuSeconds": cpu,
            "wallSeconds": wall,
            "maxRSSMiB": usage.ru_maxrss / 1024,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

do {
    let options = try SwarmOptions.parse(Array(CommandLine.arguments.dropFirst()))
    ProcessLimits.raiseOpenFileLimit()
    AllocatorTuning.keepTransferBuffersOnHeap()
    signal(SIGPIPE, SIG_IGN)
    let swarm = try Swarm(options: options)
    let started = swarm.now
    try swarm.run()
    print("swarm-stats \(swarm.statistics(wall: swarm.now - started))")
    fflush(stdout)
    exit(0)
} catch {
    FileHandle.standardError.write(Data("lumiere-swarm: \(error)\n".utf8))
    exit(2)
}
