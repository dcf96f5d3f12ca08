import Foundation
import Shared

/// Segments handed to a running job as they become known (issue 16 item 1): the film's analysis adds each shot's
/// segments when the shot closes and says when the plan is complete, or why it failed. Any thread may add; the farm's
/// loop (`FarmCoordinator.run(feed:)`) takes them without waiting, an in-process renderer waits for them (`next`).
public final class SegmentFeed: @unchecked Sendable {
    private let condition = NSCondition()
    private var queued: [SegmentSpec] = []
    private var complete = false
    private var failure: Error?

    public init() {}

    /// A feed that already holds the whole plan.
    public convenience init(complete segments: [SegmentSpec]) {
        self.init()
        add(segments)
        finish()
    }

    public func add(_ segments: [SegmentSpec]) {
        guard !segments.isEmpty else { return }
        condition.lock(); defer { condition.unlock() }
        precondition(!complete, "SegmentFeed: segments added after the plan was complete")
        queued += segments
        condition.broadcast()
    }

    /// No more segments will come.
    public func finish() {
        condition.lock(); defer { condition.unlock() }
        complete = true
        condition.broadcast()
    }

    /// The plan cannot be completed (the analysis failed or was stopped): the job ends with `error`.
    public func fail(_ error: Error) {
        condition.lock(); defer { condition.unlock() }
        if failure == nil { failure = error }
        complete = true
        condition.broadcast()
    }

    /// What has arrived since the last call, without waiting; `complete` once nothing more will come.
    public func take() -> (segments: [SegmentSpec], complete: Bool, failure: Error?) {
        condition.lock(); defer { condition.unlock() }
        let taken = queued
        queued = []
        return (taken, complete, failure)
    }

    /// Whether the plan is complete (without failure) and how many segments wait, without taking them.
    public func peekComplete() -> (complete: Bool, count: Int) {
        condition.lock(); defer { condition.unlock() }
        return (complete && failure == nil, queued.count)
    }

    /// The next segment, waiting for it; nil once the plan is complete and everything was taken. Throws the failure.
    public func next() throws -> SegmentSpec? {
        condition.lock(); defer { condition.unlock() }
        while queued.isEmpty && !complete { condition.wait() }
        if let failure { throw failure }
        return queued.isEmpty ? nil : queued.removeFirst()
    }
}
