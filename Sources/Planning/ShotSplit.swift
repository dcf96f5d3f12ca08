/// How a shot's frames are shared out among its segments, from the shot's start forward (issue 16: work starts within
/// seconds in a long shot). A shot is analysed frame by frame and its end is known only when its cut is found, possibly
/// minutes later; cutting it into equal pieces (the rule before) needed that end before any piece was known. This rule
/// decides each piece from frames already known to be in the shot, so the streaming analysis can release a long shot's
/// first segments while it is still open — and the result does not depend on when the frames became known:
///
/// - while at least `P + ⌈P/2⌉` frames from the next piece's start are known to be in the shot, that piece owns `P`
///   frames, `P = maxSegmentFrames − overlap` (its input, `P` plus the overlap either side, is `maxSegmentFrames` long);
/// - once the shot is closed and fewer remain, the rest is one piece if its input fits in `maxSegmentFrames`, else it is
///   cut into `n = ⌈rest / P⌉` equal pieces (a shot shorter than `P + ⌈P/2⌉` is split exactly as before: equal pieces).
///
/// Whether a piece of `P` is taken at `start` depends only on whether the shot reaches `start + P + ⌈P/2⌉`, which a
/// whole-film planner (the shot's end given) and a streaming one (told so once that frame is known) answer alike: the
/// same film gives the same segments shot by shot, part by part, or whole (plan.json, resume keys and the film's bytes
/// depend on it). Why `⌈P/2⌉` and not more: the rest after the last piece of `P` is then at least `⌈P/2⌉`, and a rest
/// above `P` splits in two pieces over `P/2`, so every piece of a split shot owns between `⌊P/2⌋` and `P` frames (a
/// lone last piece up to `overlap − overlap/2` more, its input still within `maxSegmentFrames`), the bound the equal
/// split gave; a larger margin (2 × max was proposed) only makes the first release later, and with the local-worker cap
/// (max = a short film's frames shared out) would hold a two-worker one-shot film's first piece until its end.
/// ShotSplitTests checks these properties on 2,000 random shots.
public enum ShotSplit {
    /// The owned frames of the pieces decided from `start` (the next piece's first frame) in the shot starting at
    /// `shotStart`, when the frames up to `known` (exclusive) are known to be in it. `closed`: the shot ends at `known`,
    /// and its rest is split too. Consecutive, in order; empty when nothing more is decided. `settings` must be validated.
    public static func pieces(shotStart: Int, from start: Int, known: Int, closed: Bool, settings: SegmentPlannerSettings) -> [Range<Int>] {
        let piece = settings.maxSegmentFrames - settings.overlapFrames
        var s = start, pieces: [Range<Int>] = []
        while known - s >= framesToDecide(settings: settings) {
            pieces.append(s..<(s + piece))
            s += piece
        }
        guard closed, known > s else { return pieces }
        // The rest, split as a whole shot is: its input reaches `overlap / 2` back into the piece before it, if any.
        let rest = known - s, before = s > shotStart ? settings.overlapFrames / 2 : 0
        let n = rest + before <= settings.maxSegmentFrames ? 1 : (rest + piece - 1) / piece
        return pieces + (0..<n).map { j in (s + j * rest / n)..<(s + (j + 1) * rest / n) }
    }

    /// The frames from `start` that must be known to be in the shot before the piece starting there is decided.
    public static func framesToDecide(settings: SegmentPlannerSettings) -> Int {
        let piece = settings.maxSegmentFrames - settings.overlapFrames
        return piece + (piece + 1) / 2
    }
}
