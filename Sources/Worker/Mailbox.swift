import Foundation
import Shared

/// Thread-safe hand-over from signal handlers, the processing thread and tests to the worker's loop thread.
/// A self-pipe wakes the loop's poll at once, so the loop can sleep long between heartbeats.
final class Mailbox: @unchecked Sendable {
    enum Outcome { case success(SegmentResultInfo), failure(String) }
    enum Event { case shutdown, kill, progress(LeaseRef, UInt32, UInt32), finished(LeaseRef, Outcome) }

    private let lock = NSLock()
    private var events: [Event] = []
    private var published = (segmentsCompleted: 0, welcomed: false)
    private var pipeEnds: [Int32] = [-1, -1]

    init() {
        guard pipe(&pipeEnds) == 0 else { pipeEnds = [-1, -1]; return }
        for end in pipeEnds {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL, 0) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC) // worker processes must not leak it into children
        }
    }

    deinit { pipeEnds.filter { $0 >= 0 }.forEach { close($0) } }

    /// Readable when events are waiting (nil if the pipe could not be made; the loop then polls on a timer).
    var wakeDescriptor: Int32? { pipeEnds[0] >= 0 ? pipeEnds[0] : nil }

    func post(_ event: Event) {
        lock.withLock { events.append(event) }
        var byte: UInt8 = 1
        if pipeEnds[1] >= 0 { _ = write(pipeEnds[1], &byte, 1) } // a full pipe already means "wake up"
    }

    func drain() -> [Event] {
        var sink = [UInt8](repeating: 0, count: 256)
        if pipeEnds[0] >= 0 { while read(pipeEnds[0], &sink, sink.count) > 0 {} }
        return lock.withLock {
            defer { events.removeAll() }
            return events
        }
    }

    func publish(segmentsCompleted: Int, welcomed: Bool) { lock.withLock { published = (segmentsCompleted, welcomed) } }
    var snapshot: (segmentsCompleted: Int, welcomed: Bool) { lock.withLock { published } }
}

/// Set once by the loop thread, read by the processor: cancellation of one lease.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
