import Foundation
import Planning
import Shared

/// The shell around `InputBacklog`: the film's analysis thread waits here before writing a segment's input while the
/// farm is `limit` segments behind; the journal's queue lets it go on as segments finish. The wait holds no lock the
/// farm or the journal needs (the farm's loop, its heartbeats and the recorder never wait on this gate), and it
/// checks `abandon` (a stop, a cancelled analysis) a few times a second, so a job that ends elsewhere never leaves
/// the analysis waiting for segments that will not finish.
final class InputGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var backlog = InputBacklog()
    private var limitNow: @Sendable () -> Int
    /// A fixed bound (`FarmOptions.inputsAhead`): replaces the one from the number of workers.
    private let fixed: Int?
    /// Seconds spent waiting for the farm, in all.
    private var waited: TimeInterval = 0

    /// `fixed`: the bound whatever the workers (nil: `InputBacklog.limit(workers:)` of `workers`, set by the executor).
    init(fixed: Int?) {
        self.fixed = fixed
        let bound = fixed.map { max(1, $0) }
        limitNow = { bound ?? InputBacklog.limit(workers: 1) }
    }

    /// The executor's workers (read at each check: remote workers come and go). Called outside the gate's lock.
    func follow(workers: @escaping @Sendable () -> Int) {
        guard fixed == nil else { return }
        condition.lock(); defer { condition.unlock() }
        limitNow = { InputBacklog.limit(workers: workers()) }
    }

    /// Waits until `segment`'s input may be written, then counts it as outstanding. `abandon` throws to stop waiting.
    func admit(_ segment: SegmentIndex, abandon: () throws -> Void) throws {
        var since: Date?
        defer { if let since { condition.lock(); waited += Date().timeIntervalSince(since); condition.unlock() } }
        while true {
            condition.lock()
            let limit = limitNow
            condition.unlock()
            let bound = limit() // may take the farm's statistics lock: never under the gate's
            condition.lock()
            if backlog.mayWrite(limit: bound) {
                backlog.written(segment)
                condition.unlock()
                return
            }
            if since == nil { since = Date() }
            _ = condition.wait(until: Date().addingTimeInterval(0.2))
            condition.unlock()
            try abandon()
        }
    }

    /// `segment` is finished (journaled, its input deleted), or its result failed to record: either way it no longer
    /// holds the analysis back (a failure ends the job with its own error).
    func finished(_ segment: SegmentIndex) {
        condition.lock(); defer { condition.unlock() }
        backlog.finished(segment)
        condition.broadcast()
    }

    /// The most inputs outstanding at once, and the seconds the analysis waited for the farm.
    var report: (peak: Int, waited: TimeInterval) { condition.lock(); defer { condition.unlock() }; return (backlog.peak, waited) }
}
