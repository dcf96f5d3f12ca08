import Shared

/// Cuts a film into segments: one per shot, or, for a shot longer than the maximum, equal pieces whose
/// inputs reach `overlap / 2` frames into each neighbour (the seam is in the middle of the overlap).
/// Pure and deterministic: the same shots and settings always give the same plan.
public enum SegmentPlanner {
    public static func plan(shots: [Range<Int>], frameCount: Int, settings: SegmentPlannerSettings) throws -> SegmentPlan {
        let settings = try settings.validated()
        let maxFrames = settings.maxSegmentFrames, overlap = settings.overlapFrames
        let before = overlap / 2, after = overlap - overlap / 2
        var segments: [Segment] = []
        for (shotIndex, shot) in shots.enumerated() {
            let length = shot.count
            // n pieces so that each input (owned + overlap) fits in maxFrames.
            let pieces = length <= maxFrames ? 1 : (length + (maxFrames - overlap) - 1) / (maxFrames - overlap)
            for j in 0..<pieces {
                let start = shot.lowerBound + j * length / pieces
                let end = shot.lowerBound + (j + 1) * length / pieces
                let inputStart = j == 0 ? start : start - before
                let inputEnd = j == pieces - 1 ? end : end + after
                segments.append(Segment(index: segments.count, shot: shotIndex, input: inputStart..<inputEnd, owned: start..<end))
            }
        }
        return try SegmentPlan(frameCount: frameCount, settings: settings, shots: shots, segments: segments).validated()
    }

    /// Frames in `seconds` of film at `rate` (exact: floor of seconds × rate, at least 1).
    public static func frames(seconds: Double, rate: Rational) -> Int {
        let millis = Rational(Int64((seconds * 1000).rounded()), 1000)
        return max(1, Int((millis * rate).floor))
    }
}
