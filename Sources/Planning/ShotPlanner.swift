import Shared

/// One shot planned on its own (issue 16 item 1): its segments in input frames, the same segments in output frames
/// (retimed with `--fps`, else the same), and each one's interior (the output frames no seam touches).
public struct PlannedShot: Sendable, Equatable {
    public var index: Int
    /// The shot's input frames.
    public var frames: Range<Int>
    /// Its output frames (empty when a retimed shot is too short to show).
    public var outputFrames: Range<Int>
    public var segments: [Segment]
    /// `segments` in output frames, same indices.
    public var output: [Segment]
    /// Per segment, its interior in film (output) frames.
    public var interiors: [Range<Int>]
}

/// Plans a film shot by shot as its cuts become known, so that the first segments can be rendered while the rest of
/// the film is still being analysed. Segments never cross a cut and a shot's retimed frames depend only on its own
/// ends (and, for the last shot, on the film's length), so the shots planned one by one are exactly the whole-film
/// plan (`SegmentPlanner.plan`, `SegmentPlan.retimed`, `StitchPlan.interiors`): ShotPlannerTests checks this.
public struct ShotPlanner: Sendable {
    public let settings: SegmentPlannerSettings
    public let retiming: Retiming?
    /// The next shot's first input frame, and how many shots and segments were planned.
    public private(set) var nextFrame = 0
    public private(set) var shotCount = 0
    public private(set) var segmentCount = 0

    public init(settings: SegmentPlannerSettings, retiming: Retiming?) throws {
        self.settings = try settings.validated()
        self.retiming = retiming
    }

    /// The shot from `nextFrame` up to `end`; `isLast`: it ends the film (whose length is then `end`).
    public mutating func plan(shotEndingAt end: Int, isLast: Bool) throws -> PlannedShot {
        guard end > nextFrame else { throw PlanningError.invalidPlan("shot \(shotCount) would end at \(end), not after its start \(nextFrame)") }
        let frames = nextFrame..<end
        let segments = SegmentPlanner.segments(of: frames, shot: shotCount, firstIndex: segmentCount, settings: settings)
        var outputFrames = frames
        var output = segments
        if let retiming {
            // Only the last shot's end depends on the film's length; any frame count beyond `end` serves the others.
            outputFrames = SegmentPlan.retimedShot(frames, frameCount: isLast ? end : end + 1, retiming: retiming)
            output = try segments.map { try SegmentPlan.retimed($0, shot: frames, outputShot: outputFrames, retiming: retiming,
                                                             overlapFrames: settings.overlapFrames) }
        }
        let interiors = StitchPlan(segments: output, start: outputFrames.lowerBound).interiors(of: output)
        let shot = PlannedShot(index: shotCount, frames: frames, outputFrames: outputFrames, segments: segments, output: output, interiors: interiors)
        nextFrame = end
        shotCount += 1
        segmentCount += segments.count
        return shot
    }
}
