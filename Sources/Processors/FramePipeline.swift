import Foundation

/// How a segment's frames move through decode → restore → encode (`SegmentRenderer.render`).
public enum FrameStreaming: String, Sendable, Equatable, CaseIterable {
    /// One frame at a time on the calling thread: decode it, restore it, encode it, then the next.
    case sequential
    /// Decoding runs ahead on a thread of its own and encoding behind on another (`FramePipeline`), two frames queued
    /// each way: while the calling thread restores frame i (a GPU computing it), frame i + 1 is decoded and frame i − 1
    /// encoded, so the device does not wait for the CPU's media work between frames.
    case pipelined

    /// `LUMIERE_FRAME_STREAMING=sequential|pipelined` forces one for every segment (the before/after of a benchmark, a
    /// test that compares the two through the executables); anything else is ignored.
    public static let forced: FrameStreaming? = ProcessInfo.processInfo.environment["LUMIERE_FRAME_STREAMING"].flatMap(FrameStreaming.init)

    /// Pipelined when a model runs on a GPU: the device then sits idle for the whole of each frame's decode and encode
    /// otherwise. On the CPU engine the model already takes every core, and decode and encode would only take cores
    /// back from it; sequential there until a measurement says otherwise (BENCHMARKS.md, "Frame pipeline").
    public static func `default`(gpu: Bool) -> FrameStreaming { forced ?? (gpu ? .pipelined : .sequential) }
}

/// The streaming layer around a segment's restore: `next()` hands out what `read` produces and `write` hands items to
/// `write`, in order. `.sequential` calls them in place; `.pipelined` runs `read` on a decoder thread and `write` on an
/// encoder thread with bounded queues of `depth` between them and the caller, who restores in between (the GPU's work
/// stays on the calling thread: a `GPUNet` is used by one thread at a time).
///
/// Order and results do not change: one producer, one consumer per queue, each stage's calls in the same order as
/// sequentially. Errors keep their types and their order: a `read` failure reaches `next()` after the items read before
/// it; a `write` failure is thrown by the next `write` or `finish`. Whatever ends the restore early (its own error, a
/// stop) must end in `stop(after:)`, which ends both threads (a thread ends after the call it is in) and joins them, so
/// nothing touches the decoder or the writer after `render` returns.
///
/// Memory: up to `depth` items in each queue plus one being read and one being written (a 4K float RGB frame is 100 MB).
public final class FramePipeline<Input, Output>: @unchecked Sendable {
    public let streaming: FrameStreaming
    private let read: () throws -> Input?
    private let writeItem: (Output) throws -> Void
    private let decoded: Handoff<Input>?
    private let encoding: Handoff<Output>?
    private var decoder: StageThread?
    private var encoder: StageThread?
    /// The encoder's own failure (not a stop), set on the encoder thread before it cancels its queue.
    private let lock = NSLock()
    private var encoderFailure: Error?
    private let clock: StageClock

    /// Seconds spent in `read` and in `write` so far (on their threads when pipelined): the stage that bounds a
    /// pipelined segment is the slowest of read, restore and write; a sequential one takes their sum.
    public var readSeconds: Double { clock.seconds.read }
    public var writeSeconds: Double { clock.seconds.write }

    public init(_ streaming: FrameStreaming, depth: Int = 2, read: @escaping () throws -> Input?,
                write: @escaping (Output) throws -> Void) {
        self.streaming = streaming
        let clock = StageClock()
        let timedRead: () throws -> Input? = { try clock.time(\.read) { try read() } }
        self.clock = clock
        self.read = timedRead
        self.writeItem = { item in try clock.time(\.write) { try write(item) } }
        guard streaming == .pipelined else {
            self.decoded = nil
            self.encoding = nil
            return
        }
        let ahead = Handoff<Input>(capacity: depth), behind = Handoff<Output>(capacity: depth)
        self.decoded = ahead
        self.encoding = behind
        decoder = StageThread(name: "lumiere.decode") {
            do {
                while let item = try timedRead() { try ahead.put(item) }
                ahead.finish()
            } catch {
                ahead.finish(failure: error)
            }
        }
        encoder = StageThread(name: "lumiere.encode") { [self] in
            do {
                while let item = try behind.take() { try self.writeItem(item) }
            } catch is PipelineStopped {
            } catch {
                lock.withLock { encoderFailure = error }
                behind.cancel(error)
            }
        }
    }

    /// The next item `read` made, nil after the last; `read`'s error, after the items before it.
    public func next() throws -> Input? {
        guard let decoded else { return try read() }
        return try decoded.take()
    }

    /// Hands `item` to `write` (waits while `depth` items are queued); throws the error `write` failed with before.
    public func write(_ item: Output) throws {
        guard let encoding else { return try writeItem(item) }
        try encoding.put(item)
    }

    /// Waits until every item handed to `write` is written; throws `write`'s error. The decoder thread is ended too.
    public func finish() throws {
        guard let encoding else { return }
        decoded?.cancel(PipelineStopped())
        decoder?.join()
        encoding.finish()
        encoder?.join()
        if let failure = lock.withLock({ encoderFailure }) { throw failure }
    }

    /// Ends both threads after `error` ended the restore (queued items are dropped) and returns the error to throw:
    /// the encoder's own failure if it had one (it was writing an earlier frame, where a sequential run would have
    /// stopped), else `error`.
    public func stop(after error: Error) -> Error {
        guard streaming == .pipelined else { return error }
        decoded?.cancel(PipelineStopped())
        encoding?.cancel(PipelineStopped())
        decoder?.join()
        encoder?.join()
        return lock.withLock { encoderFailure } ?? error
    }
}

/// Time spent in each of a pipeline's outer stages. Thread-safe.
final class StageClock: @unchecked Sendable {
    struct Seconds { var read = 0.0, write = 0.0 }
    private let lock = NSLock()
    private var total = Seconds()
    var seconds: Seconds { lock.withLock { total } }

    func time<T>(_ stage: WritableKeyPath<Seconds, Double>, _ body: () throws -> T) rethrows -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            let spent = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            lock.withLock { total[keyPath: stage] += spent }
        }
        return try body()
    }
}

/// The error of a `cancel` that ends a stage without a failure of its own (the restore stopped or failed).
struct PipelineStopped: Error {}

/// A bounded first-in first-out queue between one producing and one consuming thread. The producer ends it with
/// `finish` (the consumer gets the queued items, then nil or the failure); either side ends it at once with `cancel`
/// (queued items dropped, both sides then throw the cancel's error).
final class Handoff<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var items: [Element] = []
    private var ended = false
    private var failure: Error?
    private var cancelled: Error?

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Waits while the queue is full; throws the cancel's error once cancelled.
    func put(_ item: Element) throws {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && cancelled == nil { condition.wait() }
        if let cancelled { throw cancelled }
        items.append(item)
        condition.broadcast()
    }

    /// The oldest item; nil once finished and empty, or the producer's failure; the cancel's error once cancelled.
    func take() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !ended && cancelled == nil { condition.wait() }
        if let cancelled { throw cancelled }
        if !items.isEmpty {
            condition.broadcast()
            return items.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// The producer is done (`failure`: it failed, after the queued items).
    func finish(failure: Error? = nil) {
        condition.lock()
        defer { condition.unlock() }
        if !ended { ended = true; self.failure = failure }
        condition.broadcast()
    }

    /// Ends the queue now; the first cancel's error is the one both sides get.
    func cancel(_ error: Error) {
        condition.lock()
        defer { condition.unlock() }
        if cancelled == nil { cancelled = error }
        items.removeAll()
        condition.broadcast()
    }
}

/// A thread running `body` once, started at once; `join` waits for it to end (any number of times).
final class StageThread: @unchecked Sendable {
    /// Let go once run: it holds the stage's pipeline (and through it the decoder or the writer).
    private var body: (() -> Void)?
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var ended = false

    init(name: String, _ body: @escaping () -> Void) {
        self.body = body
        let thread = Thread { [self] in
            self.body?()
            self.body = nil
            done.signal()
        }
        thread.name = name
        // FFmpeg's decoders and encoders and the film stages run here: the main thread's stack size, not a secondary
        // thread's 512 kB default.
        thread.stackSize = 8 << 20
        thread.start()
    }

    func join() {
        lock.lock()
        defer { lock.unlock() }
        if ended { return }
        done.wait()
        ended = true
    }
}
