import Shared

/// Runs a temporal stage over the frames of one shot: frame i gets the window [i − radius, i + radius] cut at the
/// shot's ends. Only the frames in `range` are restored (the rest are context, as in a segment), so a segment with
/// context ≥ radius either side inside its shot gives the frames a whole-shot run gives.
public enum TemporalRun {
    public static func apply(_ stage: TemporalFilter, shot frames: [RGBImage], restoring range: Range<Int>? = nil) throws -> [RGBImage] {
        let range = range ?? 0..<frames.count
        return try range.map { i in
            let lo = max(0, i - stage.radius), hi = min(frames.count, i + stage.radius + 1)
            return try stage.apply(window: Array(frames[lo..<hi]), centre: i - lo)
        }
    }
}
