import Foundation
import Shared

/// Thread-safe hand-over from signal handlers, the processing thread and tests to the worker's loop thread.
final class Mailbox: @unchecked Sendable {
    enum Outcome { case success(SegmentResultInfo), failure(String) }
    enum Event { case shutdown, kill, progress(LeaseRef, UInt32, UInt32), finished(LeaseRef, Outcome) }

    private let lock = NSLock()
    private var events: [Event] = []
    private var published = (segmentsCompleted: 0, welcomed: false)

    func post(_ event: Event) { lock.withLock { events.append(event) } }

    func drain() -> [Event] {
        lock.withLock {
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
