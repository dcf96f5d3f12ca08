import Shared

/// How a shot's frames are shared out among its segments, from the shot's start forward (issue 16: work starts within
/// seconds in a long shot). A shot is analysed frame by frame and its end is known only when its cut is found, possibly
/// minutes later; cutting it into equal pieces (the rule before) needed that end before any piece was known. This rule
/// decides each piece from frames already known to be in the shot, so the streaming analysis can release a long shot's
/// first segments while it is still open — and the result does not depend on when the frames became known:
///
/// - a piece at `s` owns `size(s)` frames: `P = maxSegmentFrames − overlap` (its input, `P` plus the overlap either
///   side, is `maxSegmentFrames` long), except in the film's **ramp** (below);
/// - while at least `size(s) + ⌈size(s)/2⌉` frames from the next piece's start `s` are known to be in the shot, that
///   piece is decided;
/// - once the shot is closed and fewer remain, the rest is one piece if its input fits in `maxSegmentFrames`, else it is
///   cut into `n = ⌈rest / P⌉` equal pieces (a shot shorter than its first piece's margin is split exactly as before:
///   equal pieces).
///
/// The ramp (`rampFrames` = R > 0, set by the pipeline only where an open shot's parts go out: no overlap, or retimed
/// with an overlap of 1): the film's first piece, in its first shot, owns R frames (1 s of film) when `P ≥ 2R`, and the
/// pieces of `P` follow from frame R. So the film's first piece is decided after `R + ⌈R/2⌉` frames of analysis (36
/// with R = 24) instead of `P + ⌈P/2⌉` (360 with 10-second segments at 24 fps; 182 of a 240-frame 1080p film cut for
/// two local workers, which took 8.3 s to its first assignment, BENCHMARKS.md). One short piece, not pieces doubling up
/// to `P` (tried first): the local-worker cap cuts a short film into one equal piece per worker so that they finish
/// together, and the pieces of a doubling ramp were shared out unevenly — box.mp4 (456 frames, two workers, lanczos ×2)
/// took 116–118 s with R, 2R, 4R… against 86–109 s without a ramp; with one short piece the worker that renders it
/// renders the film's last piece too (R shorter than the others there), and the film's plan has one segment more.
/// Only at frame 0, the film's start (the job's, with `--start`), not at a shot's or a resumed run's start: the ramp is
/// then a function of the film, so a resumed run plans what the first run planned, and a long shot deep in the film is
/// released while the workers are busy with the shots before it anyway. With seams (overlap ≥ 2) a shot goes out only
/// when it closes, so a ramp would release nothing earlier and would add a seam (frames rendered twice, lossless frames
/// back at output size, the head node's blend and encode): none there.
///
/// Whether a piece is taken at `s` depends only on `s` (its size) and on whether the shot reaches `s + size + ⌈size/2⌉`,
/// which a whole-film planner (the shot's end given) and a streaming one (told so once that frame is known) answer
/// alike: the same film gives the same segments shot by shot, part by part, or whole (plan.json, resume keys and the
/// film's bytes depend on it). Why `⌈size/2⌉` and not more: the rest after the last decided piece is then at least half
/// of it, and a rest above `P` splits in two pieces over `P/2`, so every piece of a split shot owns between `⌊P/2⌋` and
/// `P` frames (a lone last piece up to `overlap − overlap/2` more, its input still within `maxSegmentFrames`), the
/// bound the equal split gave — with the ramp, its piece of R, and a rest after it of at least `⌈R/2⌉` (12 frames with
/// R = 24: half a second, on films whose first shot ends before frame `R + 1.5 P`); `R ≥ 2 × overlap` is validated, so
/// that rest still holds the overlap (no frame in three segments) and the ramp piece's margin covers the frames its
/// input reaches forward (a fuzzed ramp of 1 with an overlap of 8 did not). A
/// larger margin (2 × max was proposed) only makes the first release later, and with the local-worker cap (max = a
/// short film's frames shared out) would hold a two-worker one-shot film's first piece until its end.
/// ShotSplitTests checks these properties on 2,000 random shots, with and without a ramp.
public enum ShotSplit {
    /// The owned frames of the pieces decided from `start` (the next piece's first frame) in the shot starting at
    /// `shotStart`, when the frames up to `known` (exclusive) are known to be in it. `closed`: the shot ends at `known`,
    /// and its rest is split too. Consecutive, in order; empty when nothing more is decided. `settings` must be validated.
    public static func pieces(shotStart: Int, from start: Int, known: Int, closed: Bool, settings: SegmentPlannerSettings) -> [Range<Int>] {
        var s = start, pieces: [Range<Int>] = []
        while known - s >= framesToDecide(shotStart: shotStart, at: s, settings: settings) {
            let size = pieceFrames(shotStart: shotStart, at: s, settings: settings)
            pieces.append(s..<(s + size))
            s += size
        }
        guard closed, known > s else { return pieces }
        // The rest, split as a whole shot is: its input reaches `overlap / 2` back into the piece before it, if any.
        let piece = settings.maxSegmentFrames - settings.overlapFrames
        let rest = known - s, before = s > shotStart ? settings.overlapFrames / 2 : 0
        let n = rest + before <= settings.maxSegmentFrames ? 1 : (rest + piece - 1) / piece
        return pieces + (0..<n).map { j in (s + j * rest / n)..<(s + (j + 1) * rest / n) }
    }

    /// The frames the piece starting at `start` owns when it is decided before its shot closes: `P`, or R for the
    /// film's first piece (frame 0) when there is a ramp and `P ≥ 2R`.
    public static func pieceFrames(shotStart: Int, at start: Int, settings: SegmentPlannerSettings) -> Int {
        let piece = settings.maxSegmentFrames - settings.overlapFrames
        let ramp = settings.rampFrames
        return start == 0 && shotStart == 0 && ramp > 0 && piece >= 2 * ramp ? ramp : piece
    }

    /// The frames from `start` that must be known to be in the shot before the piece starting there is decided.
    public static func framesToDecide(shotStart: Int, at start: Int, settings: SegmentPlannerSettings) -> Int {
        let size = pieceFrames(shotStart: shotStart, at: start, settings: settings)
        return size + (size + 1) / 2
    }

    /// The ramp's piece for a film at `rate` (retimed by `retiming`, if any): 1 s of film, the shortest segment the
    /// local-worker cap cuts a short film into (`FarmRestorePipeline.shortestSplitSeconds`: below it a segment's fixed
    /// costs grow against its frames), and at least 2 input frames per output frame when retiming down, so that every
    /// piece, the rest of at least `⌈R/2⌉` included, makes an output frame (`SegmentPlan.retimed` refuses one that makes
    /// none).
    public static func rampFrames(rate: Rational, retiming: Retiming?) -> Int {
        let second = SegmentPlanner.frames(seconds: 1, rate: rate)
        guard let retiming else { return second }
        return max(second, 2 * Int(Retiming.ceil(retiming.step)))
    }
}
