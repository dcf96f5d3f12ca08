import Shared

/// A shot's segments planned together (issue 16 item 1): the whole shot once its cut is known, or, for a long shot, a part
/// of it decided while it is still open (`ShotPlanner.plan(openShotKnownUpTo:reserve:)`) and then the rest when it closes.
/// Its segments in input frames, the same segments in output frames (retimed with `--fps`, else the same), and each one's
/// interior (the output frames no seam touches).
public struct PlannedShot: Sendable, Equatable {
    public var index: Int
    /// The shot's input frames: all of them once it is closed; for a part planned while it is open, from its start to
    /// the frames known to be in it then (no segment of the part reaches that end).
    public var frames: Range<Int>
    /// The output frames its segments own: the shot's when it is planned whole (empty when a retimed shot is too short
    /// to show).
    public var outputFrames: Range<Int>
    public var segments: [Segment]
    /// `segments` in output frames, same indices.
    public var output: [Segment]
    /// Per segment, its interior in film (output) frames.
    public var interiors: [Range<Int>]
    /// True when the shot's last segment is in it (its cut was known when it was planned).
    public var closesShot: Bool
}

/// Plans a film shot by shot as its cuts become known, so that the first segments can be rendered while the rest of
/// the film is still being analysed; a long shot's first segments even before its cut is found. Segments never cross a
/// cut, a shot's pieces are decided from its start forward on frames known to be in it (`ShotSplit`), and a shot's
/// retimed frames depend only on its own ends (and, for the last shot, on the film's length), so the shots and parts
/// planned one by one are exactly the whole-film plan (`SegmentPlanner.plan`, `SegmentPlan.retimed`,
/// `StitchPlan.interiors`): ShotPlannerTests checks this.
public struct ShotPlanner: Sendable {
    public let settings: SegmentPlannerSettings
    public let retiming: Retiming?
    /// The open shot's first input frame, and how many shots and segments were planned (a shot planned in parts counts
    /// once it closes).
    public private(set) var nextFrame = 0
    public private(set) var shotCount = 0
    public private(set) var segmentCount = 0
    /// The first frame of the open shot that no planned segment owns yet (`nextFrame` until a part of it is planned).
    public private(set) var openFrom = 0

    public init(settings: SegmentPlannerSettings, retiming: Retiming?) throws {
        self.settings = try settings.validated()
        self.retiming = retiming
    }

    /// Whether an open shot's parts may be planned (and released) before its end: only when no seam joins two segments
    /// of a shot in output frames, so that each part is stitched on its own and its interiors do not wait for the next
    /// part — no overlap, or, retimed, an overlap under 2 (`SegmentPlan.retimed`: each segment makes exactly its own
    /// outputs). With seams the shot's segments go out when it closes, as they did (the plan is the same either way).
    public var plansOpenShots: Bool { ShotPlanner.plansOpenShots(overlapFrames: settings.overlapFrames, retimed: retiming != nil) }

    public static func plansOpenShots(overlapFrames: Int, retimed: Bool) -> Bool { overlapFrames == 0 || (retimed && overlapFrames < 2) }

    /// The settings of a film at `rate` (retimed by `retiming`): with the ramp (`ShotSplit`) where an open shot's parts go
    /// out, so that its first segment is decided after a few dozen frames whatever the segment length; none with seams,
    /// where it would release nothing earlier and add seams.
    public static func settings(maxSegmentFrames: Int, overlapFrames: Int, rate: Rational, retiming: Retiming?) -> SegmentPlannerSettings {
        let ramp = plansOpenShots(overlapFrames: overlapFrames, retimed: retiming != nil)
            ? max(ShotSplit.rampFrames(rate: rate, retiming: retiming), 2 * overlapFrames) : 0
        return SegmentPlannerSettings(maxSegmentFrames: maxSegmentFrames, overlapFrames: overlapFrames, rampFrames: ramp)
    }

    /// The open shot's pieces decided now that its frames up to `known` (exclusive) are known to be in it, as a part;
    /// nil when none is (or `plansOpenShots` is false). `reserve`: frames past a piece's input that must be known too
    /// (the restoration context its input file holds); the pieces are the same whatever it is, it only delays them.
    public mutating func plan(openShotKnownUpTo known: Int, reserve: Int = 0) throws -> PlannedShot? {
        guard plansOpenShots else { return nil }
        let decided = ShotSplit.pieces(shotStart: nextFrame, from: openFrom, known: known - max(0, reserve), closed: false, settings: settings)
        guard !decided.isEmpty else { return nil }
        // Any end past the pieces' inputs stands for the shot's unknown one: no piece starts or ends the shot there.
        let stand = nextFrame..<(known + 1)
        let segments = SegmentPlanner.segments(owning: decided, in: stand, shot: shotCount, firstIndex: segmentCount, settings: settings)
        var output = segments
        if let retiming {
            let outShot = SegmentPlan.retimedShot(stand, frameCount: stand.upperBound + 1, retiming: retiming)
            output = try segments.map { try SegmentPlan.retimed($0, shot: stand, outputShot: outShot, retiming: retiming, overlapFrames: settings.overlapFrames) }
        }
        let outputFrames = output.first!.owned.lowerBound..<output.last!.owned.upperBound
        let interiors = StitchPlan(segments: output, start: outputFrames.lowerBound).interiors(of: output)
        openFrom = decided.last!.upperBound
        segmentCount += segments.count
        return PlannedShot(index: shotCount, frames: nextFrame..<known, outputFrames: outputFrames, segments: segments, output: output,
                           interiors: interiors, closesShot: false)
    }

    /// The shot from `nextFrame` up to `end` (what no part of it planned yet); `isLast`: it ends the film (whose length
    /// is then `end`).
    public mutating func plan(shotEndingAt end: Int, isLast: Bool) throws -> PlannedShot {
        guard end > openFrom else { throw PlanningError.invalidPlan("shot \(shotCount) would end at \(end), not after frame \(openFrom)") }
        let frames = nextFrame..<end
        let owned = ShotSplit.pieces(shotStart: nextFrame, from: openFrom, known: end, closed: true, settings: settings)
        let segments = SegmentPlanner.segments(owning: owned, in: frames, shot: shotCount, firstIndex: segmentCount, settings: settings)
        var outputFrames = frames
        var output = segments
        if let retiming {
            // Only the last shot's end depends on the film's length; any frame count beyond `end` serves the others.
            outputFrames = SegmentPlan.retimedShot(frames, frameCount: isLast ? end : end + 1, retiming: retiming)
            output = try segments.map { try SegmentPlan.retimed($0, shot: frames, outputShot: outputFrames, retiming: retiming,
                                                             overlapFrames: settings.overlapFrames) }
        }
        // After parts of the shot, this one starts where they stopped (segments tile the shot's output frames).
        if openFrom > nextFrame, let first = output.first { outputFrames = first.owned.lowerBound..<outputFrames.upperBound }
        let interiors = StitchPlan(segments: output, start: outputFrames.lowerBound).interiors(of: output)
        let shot = PlannedShot(index: shotCount, frames: frames, outputFrames: outputFrames, segments: segments, output: output,
                               interiors: interiors, closesShot: true)
        nextFrame = end
        openFrom = end
        shotCount += 1
        segmentCount += segments.count
        return shot
    }
}
