import Shared

/// Context frames for temporal stages (film restoration): a segment's input file holds its own input frames and up to
/// `radius` more either side, never beyond its shot. Stages whose windows reach `radius` frames (a chain's summed radii)
/// then restore the segment's frames exactly as one run over the whole shot does, so a segment boundary leaves no trace.
/// Kept apart from `SegmentPlanner` on purpose: the plan (owned frames, overlaps, seams, keys) is the same with or
/// without restoration, and only what each input file holds, and so what a worker reads, grows.
public enum TemporalContext {
    /// The frames the segment's input file holds.
    public static func inputFrames(of input: Range<Int>, shot: Range<Int>, radius: Int) -> Range<Int> {
        max(shot.lowerBound, input.lowerBound - max(0, radius))..<min(shot.upperBound, input.upperBound + max(0, radius))
    }

    /// The context the worker drops: frames before and after the segment's own input in that file. nil when there are none.
    public static func context(of input: Range<Int>, shot: Range<Int>, radius: Int) -> SegmentContext? {
        let frames = inputFrames(of: input, shot: shot, radius: radius)
        let before = input.lowerBound - frames.lowerBound, after = frames.upperBound - input.upperBound
        return before == 0 && after == 0 ? nil : SegmentContext(before: UInt32(before), after: UInt32(after))
    }
}
