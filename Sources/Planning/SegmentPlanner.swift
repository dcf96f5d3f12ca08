import Shared

/// Cuts a film into segments: one per shot, or, for a shot longer than the maximum, pieces (`ShotSplit`) whose inputs
/// reach `overlap / 2` frames into each neighbour (the seam is in the middle of the overlap).
/// Pure and deterministic: the same shots and settings always give the same plan.
public enum SegmentPlanner {
    public static func plan(shots: [Range<Int>], frameCount: Int, settings: SegmentPlannerSettings) throws -> SegmentPlan {
        let settings = try settings.validated()
        var segments: [Segment] = []
        for (shotIndex, shot) in shots.enumerated() {
            segments += SegmentPlanner.segments(of: shot, shot: shotIndex, firstIndex: segments.count, settings: settings)
        }
        return try SegmentPlan(frameCount: frameCount, settings: settings, shots: shots, segments: segments).validated()
    }

    /// One shot's segments, numbered from `firstIndex`: they depend on nothing outside the shot (no segment crosses a
    /// cut), so a shot can be planned as soon as its cut is known (`ShotPlanner`). `settings` must be validated.
    public static func segments(of shot: Range<Int>, shot shotIndex: Int, firstIndex: Int, settings: SegmentPlannerSettings) -> [Segment] {
        let owned = ShotSplit.pieces(shotStart: shot.lowerBound, from: shot.lowerBound, known: shot.upperBound, closed: true, settings: settings)
        return segments(owning: owned, in: shot, shot: shotIndex, firstIndex: firstIndex, settings: settings)
    }

    /// Segments owning `owned` (consecutive pieces of the shot `shot`, `ShotSplit`), numbered from `firstIndex`: each input
    /// reaches `overlap / 2` frames back and the rest of the overlap forward, except at the shot's ends. A shot still open
    /// is given with any end past its pieces' inputs.
    public static func segments(owning owned: [Range<Int>], in shot: Range<Int>, shot shotIndex: Int, firstIndex: Int,
                                settings: SegmentPlannerSettings) -> [Segment] {
        let overlap = settings.overlapFrames
        let before = overlap / 2, after = overlap - overlap / 2
        return owned.enumerated().map { j, piece in
            let inputStart = piece.lowerBound == shot.lowerBound ? piece.lowerBound : piece.lowerBound - before
            let inputEnd = piece.upperBound == shot.upperBound ? piece.upperBound : piece.upperBound + after
            return Segment(index: SegmentIndex(firstIndex + j), shot: shotIndex, input: inputStart..<inputEnd, owned: piece)
        }
    }

    /// Frames in `seconds` of film at `rate` (exact: floor of seconds × rate, at least 1).
    public static func frames(seconds: Double, rate: Rational) -> Int {
        let millis = Rational(Int64((seconds * 1000).rounded()), 1000)
        return max(1, Int((millis * rate).floor))
    }
}
