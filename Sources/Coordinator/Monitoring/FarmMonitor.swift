import Foundation
import Shared

/// Records what the farm does, per worker, as the coordinator's loop sees it; any thread may take a
/// `snapshot`. The coordinator calls the `record…` methods on its loop thread; they only take a lock and
/// update counters, so monitoring never slows the job down.
public final class FarmMonitor: @unchecked Sendable {
    struct Worker {
        var snapshot: WorkerSnapshot
        var history = ThroughputHistory()
        var lease: LeaseRef?
        /// The lease queued behind the current one (lease-ahead), its frames, and whether its input went out already:
        /// it becomes the current one when that ends.
        var next: (lease: LeaseRef, frames: Int, inputSent: Bool)?
        /// When the current phase (input transfer, processing, result transfer) began.
        var phaseStartedAt: Double = 0
        var lastProgress: Int64 = 0
    }

    private let lock = NSLock()
    private let clock: @Sendable () -> Double
    private var startedAt: Double?
    private var finished = false
    /// When the job ended: elapsed time and rates freeze there (the coordinator may still be assembling).
    private var finishedAt: Double?
    private var framesTotal: Int64 = 0
    private var framesDone: Int64 = 0
    private var framesByOutput: [SegmentID: Int64] = [:]
    private var jobHistory = ThroughputHistory()
    private var workers: [String: Worker] = [:]
    private var workerOrder: [String] = []
    private var nameOfPeer: [PeerID: String] = [:]
    private var counts = SchedulerCounts()
    /// When the per-worker histories were last walked (job-relative seconds).
    private var lastWorkerSample = -Double.infinity
    static let workerSampleInterval = ThroughputHistory().interval

    /// `clock` gives seconds on a monotonic scale (tests pass their own).
    public init(clock: @escaping @Sendable () -> Double = { FarmMonitor.monotonicSeconds() }) {
        self.clock = clock
    }

    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    // MARK: Events (coordinator loop thread)

    public func recordJobStarted(segments: [SegmentSpec]) {
        let now = clock()
        lock.withLock {
            startedAt = now
            finished = false
            finishedAt = nil
            framesByOutput = Dictionary(segments.map { ($0.id, Int64($0.expectedOutputFrames)) }, uniquingKeysWith: { a, _ in a })
            framesTotal = framesByOutput.values.reduce(0, +)
            framesDone = 0
            jobHistory = ThroughputHistory()
            jobHistory.record(time: 0, frames: 0)
            lastWorkerSample = -Double.infinity
            counts = SchedulerCounts(total: segments.count, pending: segments.count)
        }
    }

    /// Segments released while the job runs (their shots were just found): the totals grow.
    public func recordSegmentsAdded(_ segments: [SegmentSpec]) {
        lock.withLock {
            for spec in segments where framesByOutput[spec.id] == nil {
                framesByOutput[spec.id] = Int64(spec.expectedOutputFrames)
                framesTotal += Int64(spec.expectedOutputFrames)
            }
        }
    }

    /// A job left a farm it shared (`serve`) with `frames` of its output never done (stopped, failed): they no longer
    /// count toward what the farm has left to do (done frames stay: the throughput history only grows).
    public func recordFramesWithdrawn(_ frames: Int64) {
        guard frames > 0 else { return }
        lock.withLock { framesTotal = max(framesDone, framesTotal - frames) }
    }

    public func recordJobFinished() {
        let now = clock()
        lock.withLock {
            sampleLocked(now, force: true)
            finished = true
            finishedAt = now
        }
    }

    public func recordWorkerRegistered(peer: PeerID, name: String, host: String, threads: Int, device: String = "cpu") {
        lock.withLock {
            nameOfPeer[peer] = name
            if workers[name] == nil {
                workers[name] = Worker(snapshot: WorkerSnapshot(name: name, host: host, threads: threads, device: device, state: .idle))
                if let t = elapsedLocked(clock()) { workers[name]!.history.record(time: t, frames: 0) }
                workerOrder.append(name)
            }
            workers[name]!.snapshot.host = host
            workers[name]!.snapshot.threads = threads
            workers[name]!.snapshot.device = device
            workers[name]!.next = nil
            clearLeaseLocked(name, state: .idle)
        }
    }

    public func recordAssigned(peer: PeerID, lease: LeaseRef, frames: Int) {
        update(peer) { w, now in
            // Queued behind the current one (lease-ahead). A third lease means the current one ended unseen (a result
            // refused on arrival): the queued one is current now.
            if w.lease != nil, w.lease != lease {
                if let next = w.next { FarmMonitor.begin(&w, next.lease, frames: next.frames, now: now) }
                w.next = (lease, frames, false)
                return
            }
            FarmMonitor.begin(&w, lease, frames: frames, now: now)
        }
    }

    private static func begin(_ w: inout Worker, _ lease: LeaseRef, frames: Int, now: Double) {
        w.lease = lease
        w.snapshot.state = .receiving
        w.snapshot.segment = lease.segment.wireValue
        w.snapshot.segmentFramesDone = 0
        w.snapshot.segmentFramesTotal = Int64(frames)
        w.phaseStartedAt = now
        w.lastProgress = 0
    }

    /// The whole input went out: the worker is processing from now on (inputs go out in assignment order: the current
    /// lease's first, then the one queued behind it).
    public func recordInputSent(peer: PeerID) {
        update(peer) { w, now in
            guard w.snapshot.state == .receiving else {
                if w.next != nil { w.next!.inputSent = true }
                return
            }
            w.snapshot.transferSeconds += now - w.phaseStartedAt
            w.phaseStartedAt = now
            w.snapshot.state = .processing
        }
    }

    public func recordProgress(peer: PeerID, lease: LeaseRef, framesDone: Int, framesTotal: Int) {
        update(peer) { w, now in
            guard w.lease == lease else { return }
            if w.snapshot.state == .receiving { // progress before the last chunk was pumped: the input is there
                w.snapshot.transferSeconds += now - w.phaseStartedAt
                w.phaseStartedAt = now
                w.snapshot.state = .processing
            }
            let done = Int64(framesDone)
            if done > w.lastProgress { w.snapshot.framesProcessed += done - w.lastProgress; w.lastProgress = done }
            w.snapshot.segmentFramesDone = done
            w.snapshot.segmentFramesTotal = Int64(framesTotal)
        }
    }

    public func recordResultAnnounced(peer: PeerID, lease: LeaseRef) {
        update(peer) { w, now in
            guard w.lease == lease, w.snapshot.state != .sending else { return }
            if w.snapshot.state == .processing { w.snapshot.processingSeconds += now - w.phaseStartedAt }
            w.phaseStartedAt = now
            w.snapshot.state = .sending
        }
    }

    public func recordBytes(peer: PeerID, sent: Int = 0, received: Int = 0) {
        update(peer) { w, _ in
            w.snapshot.bytesSent += UInt64(sent)
            w.snapshot.bytesReceived += UInt64(received)
        }
    }

    public func recordResultAccepted(peer: PeerID, lease: LeaseRef, frames: Int) {
        let now = clock()
        lock.withLock {
            framesDone += Int64(frames)
            guard let name = nameOfPeer[peer], workers[name] != nil else { return }
            // In place: a local copy of the worker kept its history array shared, so the next sample copied it
            // (up to 4,096 samples) on every accepted result (memmove in the swarm benchmark's profile).
            updateLocked(name) { w in
                guard w.lease == lease else { return }
                if w.snapshot.state == .sending { w.snapshot.transferSeconds += now - w.phaseStartedAt }
                if Int64(frames) > w.lastProgress { w.snapshot.framesProcessed += Int64(frames) - w.lastProgress }
                w.snapshot.segmentsCompleted += 1
            }
            clearLeaseLocked(name, state: .idle)
            sampleLocked(now)
        }
    }

    /// The worker's lease ended without a result (cancelled, failed); a message about an older lease changes nothing.
    public func recordLeaseEnded(peer: PeerID, lease: LeaseRef) {
        lock.withLock {
            guard let name = nameOfPeer[peer] else { return }
            if workers[name]?.next?.lease == lease { workers[name]!.next = nil; return }
            guard workers[name]?.lease == lease else { return }
            clearLeaseLocked(name, state: .idle)
        }
    }

    public func recordWorkerGone(peer: PeerID, blocklisted: Bool = false) {
        lock.withLock {
            guard let name = nameOfPeer[peer] else { return }
            workers[name]?.next = nil
            clearLeaseLocked(name, state: blocklisted ? .blocklisted : .gone)
            nameOfPeer[peer] = nil
        }
    }

    /// Scheduler counters and per-name failure counts, taken at each scheduler tick; also samples throughput.
    public func recordSchedulerState(_ state: SchedulerCounts, failuresByWorker: [String: Int]) {
        let now = clock()
        lock.withLock {
            counts = state
            for (name, failures) in failuresByWorker { workers[name]?.snapshot.failures = failures }
            sampleLocked(now)
        }
    }

    // MARK: Reading (any thread)

    public func snapshot() -> FarmSnapshot {
        let now = clock()
        return lock.withLock { snapshotLocked(finishedAt ?? now) }
    }

    /// Per-worker and whole-job cumulative frame curves for the end-of-job plot.
    public func histories() -> (job: ThroughputHistory, workers: [(name: String, history: ThroughputHistory)]) {
        lock.withLock { (jobHistory, workerOrder.map { ($0, workers[$0]!.history) }) }
    }

    // MARK: Internals (lock held)

    private func elapsedLocked(_ now: Double) -> Double? { startedAt.map { now - $0 } }

    private func update(_ peer: PeerID, _ body: (inout Worker, Double) -> Void) {
        let now = clock()
        lock.withLock {
            guard let name = nameOfPeer[peer], workers[name] != nil else { return }
            body(&workers[name]!, now)
        }
    }

    /// The worker's current lease ended; one queued behind it (lease-ahead) becomes current, processing if its input
    /// went out already.
    private func clearLeaseLocked(_ name: String, state: WorkerSnapshot.State) {
        guard workers[name] != nil else { return }
        workers[name]!.lease = nil
        workers[name]!.lastProgress = 0
        workers[name]!.snapshot.state = state
        workers[name]!.snapshot.segment = nil
        workers[name]!.snapshot.segmentFramesDone = 0
        workers[name]!.snapshot.segmentFramesTotal = 0
        guard state == .idle, let next = workers[name]!.next else { return }
        workers[name]!.next = nil
        FarmMonitor.begin(&workers[name]!, next.lease, frames: next.frames, now: clock())
        if next.inputSent { workers[name]!.snapshot.state = .processing }
    }

    private func updateLocked(_ name: String, _ body: (inout Worker) -> Void) { body(&workers[name]!) }

    /// Called for every accepted result and every scheduler tick (20 Hz). Walking all workers each time cost
    /// O(workers) per segment: with 1,000 simulated workers it was the coordinator's largest user-space cost
    /// (issue 16 item 9, BENCHMARKS.md). The per-worker histories keep a sample per 0.25 s at most anyway, so
    /// they are walked at most that often; the job's own history, one series, on every call as before.
    private func sampleLocked(_ now: Double, force: Bool = false) {
        guard let t = elapsedLocked(now) else { return }
        jobHistory.record(time: t, frames: framesDone)
        guard force || t - lastWorkerSample >= FarmMonitor.workerSampleInterval else { return }
        lastWorkerSample = t
        for name in workerOrder { workers[name]!.history.record(time: t, frames: workers[name]!.snapshot.framesProcessed) }
    }

    private func snapshotLocked(_ now: Double) -> FarmSnapshot {
        let elapsed = elapsedLocked(now) ?? 0
        var list: [WorkerSnapshot] = []
        var inFlight: Int64 = 0
        var sent: UInt64 = 0, received: UInt64 = 0
        for name in workerOrder {
            let w = workers[name]!
            var s = w.snapshot
            s.fpsLastMinute = w.history.rate(now: elapsed, framesNow: s.framesProcessed)
            inFlight += s.segmentFramesDone
            sent += s.bytesSent
            received += s.bytesReceived
            list.append(s)
        }
        let fps = jobHistory.rate(now: elapsed, framesNow: framesDone)
        let average = elapsed > 0 ? Double(framesDone) / elapsed : 0
        let remaining = max(0, framesTotal - framesDone)
        let eta: Double? = finished || remaining == 0 ? 0 : (fps > 0 ? Double(remaining) / fps : nil)
        let segments = SegmentCounts(total: counts.total, pending: counts.pending, running: counts.running, ahead: counts.ahead, done: counts.done, failed: counts.failed)
        return FarmSnapshot(elapsedSeconds: elapsed, finished: finished, framesTotal: framesTotal, framesDone: framesDone,
                            framesInFlight: inFlight, outputFPS: fps, averageFPS: average, etaSeconds: eta, segments: segments,
                            retries: counts.requeues, speculativeCopies: counts.speculativeCopies, bytesSent: sent,
                            bytesReceived: received, workers: list)
    }
}
