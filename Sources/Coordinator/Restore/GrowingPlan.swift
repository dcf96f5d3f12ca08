import Foundation
import Planning

/// The film's plan as its shots become known (issue 16 item 1): the analysis adds each shot when its cut is confirmed
/// (a long shot in parts, the first ones while it is still open: `ShotPlanner.plan(openShotKnownUpTo:reserve:)`), the
/// film's writer (`FilmAssembly`) waits for the next shot or part it needs, and the film's length is known only once the
/// plan is complete. A whole plan known at once is added and completed in one go.
final class GrowingPlan: @unchecked Sendable {
    private let condition = NSCondition()
    private var shots: [PlannedShot] = []
    private var complete = false
    private var cancelled = false

    init() {}

    /// A plan known whole (a matching shot list with the film already checked, or the classic pass).
    convenience init(whole: [PlannedShot]) {
        self.init()
        for shot in whole { add(shot) }
        finish()
    }

    /// A shot, or a part of one: the next part of the last shot added while that one is not closed, else the next shot.
    func add(_ shot: PlannedShot) {
        condition.lock(); defer { condition.unlock() }
        let next = shots.last.map { $0.closesShot ? $0.index + 1 : $0.index } ?? 0
        precondition(!complete && shot.index == next, "GrowingPlan: shots and their parts are added once, in order, before completion")
        shots.append(shot)
        condition.broadcast()
    }

    func finish() {
        condition.lock(); defer { condition.unlock() }
        complete = true
        condition.broadcast()
    }

    /// The writer stops waiting (the job failed or was stopped).
    func cancel() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
    }

    /// Shot or part `k` (in the order added), waiting for it; nil once the plan is complete without it.
    func shot(_ k: Int) throws -> PlannedShot? {
        condition.lock(); defer { condition.unlock() }
        while k >= shots.count && !complete && !cancelled { condition.wait() }
        if k < shots.count { return shots[k] }
        if cancelled { throw ResultBoard.Cancelled() }
        return nil
    }

    /// The film's output frames, once the plan is complete (nil before).
    var outputFrameCount: Int? {
        condition.lock(); defer { condition.unlock() }
        guard complete else { return nil }
        return shots.last?.outputFrames.upperBound ?? 0
    }

    var isComplete: Bool { condition.lock(); defer { condition.unlock() }; return complete }

    /// Every shot and part added so far.
    var planned: [PlannedShot] { condition.lock(); defer { condition.unlock() }; return shots }

    /// The input frames of each shot closed so far (a shot planned in parts: its closing part's).
    var shotFrames: [Range<Int>] { planned.filter(\.closesShot).map(\.frames) }
}
