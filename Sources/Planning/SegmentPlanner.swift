import Shared

/// Cuts a film into segments: one per shot, or, for a shot longer than the maximum, equal pieces whose
/// inputs reach `overlap / 2` frames into each neighbour (the seam is in the middle of the overlap).
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
        let maxFrames = settings.maxSegmentFrames, overlap = settings.overlapFrames
        let before = overlap / 2, after = overlap - overlap / 2
        let length = shot.count
        // n pieces so that each input (owned + overlap) fits in maxFrames.
        let pieces = length <= maxFrames ? 1 : (length + (maxFrames - overlap) - 1) / (maxFrames - overlap)
        return (0..<pieces).map { j in
            let start = shot.lowerBound + j * length / pieces
            let end = shot.lowerBound + (j + 1) * length / pieces
            let inputStart = j == 0 ? start : start - before
            let inputEnd = j == pieces - 1 ? end : end + after
            return Segment(index: SegmentIndex(firstIndex + j), shot: shotIndex, input: inputStart..<inputEnd, owned: start..<end)
        }
    }

    /// Frames in `seconds` of film at `rate` (exact: floor of seconds × rate, at least 1).
    public static func frames(seconds: Double, rate: Rational) -> Int {
        let millis = Rational(Int64((seconds * 1000).rounded()), 1000)
        return max(1, Int((millis * rate).floor))
    }
}
