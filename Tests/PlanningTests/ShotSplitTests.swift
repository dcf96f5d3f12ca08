import Planning
import Shared
import XCTest

/// Issue 16: a long shot's pieces are decided from its start forward (`ShotSplit`), so the streaming analysis can release
/// its first segments before its cut is found. Random shots, with the frames known growing by random steps as a decode
/// makes them known: the pieces decided part by part are the pieces of the whole shot, within the bounds, covering it.
final class ShotSplitTests: XCTestCase {
    func testStreamedPiecesAreTheWholeShotsAndStayWithinBounds() throws {
        var g = SegmentPlannerTests.SeededGenerator(state: 1616)
        var longShots = 0, earlyPieces = 0, ramped = 0
        for trial in 0..<2000 {
            let overlap = [0, 0, 1, 8, Int.random(in: 0...12, using: &g)][trial % 5]
            let maxFrames = Int.random(in: max(1, 3 * overlap)...300, using: &g)
            // The ramp: none, 1 s at 24 fps, or any; it applies in the film's first shot (starting at frame 0).
            let ramp = [0, max(24, 2 * overlap), Int.random(in: max(1, 2 * overlap)...80, using: &g)][trial % 3]
            let settings = try SegmentPlannerSettings(maxSegmentFrames: maxFrames, overlapFrames: overlap, rampFrames: ramp).validated()
            let start = trial % 4 < 2 ? 0 : Int.random(in: 1...500, using: &g)
            let length = Int.random(in: 1...(trial % 7 == 0 ? 40 : 2000), using: &g)
            let shot = start..<(start + length)
            let context = "trial \(trial): shot \(shot), max \(maxFrames), overlap \(overlap), ramp \(ramp)"
            let whole = ShotSplit.pieces(shotStart: start, from: start, known: shot.upperBound, closed: true, settings: settings)

            // Streamed: the known frames grow by random steps (a decode with the detector's lag), then the shot closes.
            var streamed: [Range<Int>] = [], known = start, from = start
            while known < shot.upperBound {
                known = min(shot.upperBound, known + Int.random(in: 1...40, using: &g))
                let decided = ShotSplit.pieces(shotStart: start, from: from, known: known, closed: false, settings: settings)
                for piece in decided {
                    XCTAssertLessThanOrEqual(piece.upperBound + overlap - overlap / 2, known, "a piece's input reaches past the known frames; \(context)")
                }
                if !decided.isEmpty && known < shot.upperBound { earlyPieces += decided.count }
                streamed += decided
                from = streamed.last?.upperBound ?? start
            }
            streamed += ShotSplit.pieces(shotStart: start, from: from, known: shot.upperBound, closed: true, settings: settings)
            XCTAssertEqual(streamed, whole, "streamed and whole differ; \(context)")

            // Coverage: consecutive, no empty piece, from the shot's start to its end.
            XCTAssertEqual(whole.first?.lowerBound, start, context)
            XCTAssertEqual(whole.last?.upperBound, shot.upperBound, context)
            for (a, b) in zip(whole, whole.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound, context) }
            XCTAssertFalse(whole.contains { $0.isEmpty }, context)
            // Bounds: every input within maxSegmentFrames; a split shot's pieces own at least ⌊P/2⌋ frames (the ramp's R,
            // a rest after it ⌈R/2⌉) and at most P (the last one P plus the overlap it needs on no
            // side after it).
            let segments = SegmentPlanner.segments(owning: whole, in: shot, shot: 0, firstIndex: 0, settings: settings)
            XCTAssertFalse(segments.contains { $0.input.count > maxFrames }, "an input longer than \(maxFrames); \(context)")
            let piece = maxFrames - overlap
            let inRamp = start == 0 && ramp > 0 && piece >= 2 * ramp
            if whole.count > 1 {
                longShots += 1
                let least = inRamp ? min(piece / 2, (ramp + 1) / 2) : piece / 2
                XCTAssertFalse(whole.contains { $0.count < least }, "\(whole.map(\.count)); \(context)")
                XCTAssertFalse(whole.dropLast().contains { $0.count > piece }, "\(whole.map(\.count)); \(context)")
            } else {
                XCTAssertLessThan(length, ShotSplit.framesToDecide(shotStart: start, at: start, settings: settings), context)
            }
            if inRamp && length >= ramp + (ramp + 1) / 2 {
                // The ramp: the film's first piece owns R frames; the rest of the shot is cut as a shot of its own
                // starting at R (where no input reaches back past a piece: overlaps under 2).
                ramped += 1
                XCTAssertEqual(whole.first, 0..<ramp, "\(whole); \(context)")
                if overlap < 2 {
                    XCTAssertEqual(Array(whole.dropFirst()), ShotSplit.pieces(shotStart: ramp, from: ramp, known: shot.upperBound, closed: true, settings: settings), context)
                }
            } else if start > 0 {
                var plain = settings
                plain.rampFrames = 0
                XCTAssertEqual(whole, ShotSplit.pieces(shotStart: start, from: start, known: shot.upperBound, closed: true, settings: plain),
                               "no ramp but in the film's first shot; \(context)")
            }
            // A shot too short for a first piece is cut into equal pieces, as before this rule.
            if length < ShotSplit.framesToDecide(shotStart: start, at: start, settings: settings) {
                let n = length <= maxFrames ? 1 : (length + piece - 1) / piece
                XCTAssertEqual(whole, (0..<n).map { j in (start + j * length / n)..<(start + (j + 1) * length / n) }, context)
            }
        }
        XCTAssertGreaterThan(longShots, 800)
        XCTAssertGreaterThan(earlyPieces, 500, "pieces were decided before their shot closed")
        XCTAssertGreaterThan(ramped, 300, "first shots of the film with a ramp")
    }

    /// The first piece is decided once 1.5 pieces of the shot are known; a one-shot film cut for w local workers
    /// (`maxSegmentFrames` = its frames shared out) still gives each worker one equal piece, the first after 3/(2w) of it.
    func testTheFirstPieceOfALongShotIsKnownAfterOneAndAHalfPieces() throws {
        let settings = SegmentPlannerSettings(maxSegmentFrames: 250)
        let noOverlap = SegmentPlannerSettings(maxSegmentFrames: 250, overlapFrames: 0)
        XCTAssertEqual(ShotSplit.framesToDecide(shotStart: 0, at: 0, settings: noOverlap), 375)
        XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: 374, closed: false, settings: noOverlap), [])
        XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: 375, closed: false, settings: noOverlap), [0..<250])
        XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: 1000, closed: true, settings: noOverlap), [0..<250, 250..<500, 500..<750, 750..<1000])
        // With the 8-frame overlap: pieces own 242, inputs reach 4 frames either side.
        XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: 1000, closed: true, settings: settings), [0..<242, 242..<484, 484..<726, 726..<863, 863..<1000])
        for workers in 2...8 {
            let film = 240 * workers + 7
            let share = (film + workers - 1) / workers
            let s = SegmentPlannerSettings(maxSegmentFrames: share, overlapFrames: 0)
            let pieces = ShotSplit.pieces(shotStart: 0, from: 0, known: film, closed: true, settings: s)
            XCTAssertEqual(pieces.count, workers, "\(pieces)")
            XCTAssertLessThanOrEqual(pieces.map(\.count).max()! - pieces.map(\.count).min()!, workers, "\(pieces)")
            XCTAssertEqual(ShotSplit.framesToDecide(shotStart: 0, at: 0, settings: s), share + (share + 1) / 2)
            XCTAssertLessThan(ShotSplit.framesToDecide(shotStart: 0, at: 0, settings: s), film)
        }
    }

    /// The ramp (issue 16 items 1 and 8): the film's first piece is decided after R + ⌈R/2⌉ frames (1.5 s of film) whatever
    /// the segment length, where without it a long first shot waited for P + ⌈P/2⌉ (15 s of film with 10-second
    /// segments); pieces of P follow it.
    func testTheFilmsFirstPieceIsDecidedWithinOneAndAHalfSecondsOfFilmWhateverTheSegmentLength() throws {
        for rate in [Rational(24), Rational(24000, 1001), Rational(25), Rational(30), Rational(60)] {
            let second = SegmentPlanner.frames(seconds: 1, rate: rate)
            for seconds in [2.0, 5, 10, 30, 60, 600] {
                let settings = ShotPlanner.settings(maxSegmentFrames: SegmentPlanner.frames(seconds: seconds, rate: rate), overlapFrames: 0,
                                                    rate: rate, retiming: nil)
                XCTAssertEqual(settings.rampFrames, second)
                let decide = ShotSplit.framesToDecide(shotStart: 0, at: 0, settings: settings)
                XCTAssertEqual(decide, second + (second + 1) / 2, "\(rate) fps, \(seconds) s segments")
                XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: decide - 1, closed: false, settings: settings), [])
                XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: decide, closed: false, settings: settings), [0..<second])
                // A long shot elsewhere in the film has no ramp: its first piece waits for P + ⌈P/2⌉.
                let piece = settings.maxSegmentFrames
                XCTAssertEqual(ShotSplit.framesToDecide(shotStart: 1000, at: 1000, settings: settings), piece + (piece + 1) / 2)
            }
        }
        // 10-second segments at 24 fps: 24, then pieces of 240 from frame 24, and the rest in two.
        let settings = ShotPlanner.settings(maxSegmentFrames: 240, overlapFrames: 0, rate: Rational(24), retiming: nil)
        XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: 1000, closed: true, settings: settings),
                       [0..<24, 24..<264, 264..<504, 504..<744, 744..<872, 872..<1000])
        XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: 1000, closed: true, settings: SegmentPlannerSettings(maxSegmentFrames: 240, overlapFrames: 0)),
                       [0..<240, 240..<480, 480..<720, 720..<860, 860..<1000])
        // head-node-bench.sh's film: 240 frames of 1080p, two local workers (max 121): the first of 3 pieces after 36
        // frames, where it was the first of 2 after 182; the worker given it gets the short last one (121 + 95 + 24).
        let twoWorkers = ShotPlanner.settings(maxSegmentFrames: 121, overlapFrames: 0, rate: Rational(24), retiming: nil)
        XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: 240, closed: true, settings: twoWorkers), [0..<24, 24..<145, 145..<240])
        XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: 36, closed: false, settings: twoWorkers), [0..<24])
        // Eight local workers cut a 10-second film in 30-frame pieces: shorter than two ramp pieces, so no ramp.
        let eight = ShotPlanner.settings(maxSegmentFrames: 30, overlapFrames: 0, rate: Rational(24), retiming: nil)
        XCTAssertEqual(ShotSplit.pieces(shotStart: 0, from: 0, known: 240, closed: true, settings: eight).map(\.count), Array(repeating: 30, count: 8))
    }

    /// The ramp goes where an open shot's parts go out: no overlap, or retimed with an overlap of 1; with seams a shot goes
    /// out when it closes, and a ramp would only add seams. Retimed down, its pieces are long enough to show a frame.
    func testTheRampIsSetWhereOpenShotsGoOutAndMakesOutputFramesWhenRetimed() throws {
        let down = try Retiming(inputRate: Rational(24), outputRate: Rational(1))
        let up = try Retiming(inputRate: Rational(24), outputRate: Rational(60))
        XCTAssertEqual(ShotPlanner.settings(maxSegmentFrames: 240, overlapFrames: 0, rate: Rational(24), retiming: nil).rampFrames, 24)
        XCTAssertEqual(ShotPlanner.settings(maxSegmentFrames: 240, overlapFrames: 1, rate: Rational(24), retiming: up).rampFrames, 24)
        XCTAssertEqual(ShotPlanner.settings(maxSegmentFrames: 240, overlapFrames: 1, rate: Rational(24), retiming: nil).rampFrames, 0)
        XCTAssertEqual(ShotPlanner.settings(maxSegmentFrames: 240, overlapFrames: 8, rate: Rational(24), retiming: up).rampFrames, 0)
        XCTAssertEqual(ShotPlanner.settings(maxSegmentFrames: 240, overlapFrames: 8, rate: Rational(24), retiming: nil).rampFrames, 0)
        // 24 → 1 fps: 2 input frames per output frame at least in every piece, the rest of ⌈R/2⌉ included.
        let settings = ShotPlanner.settings(maxSegmentFrames: 480, overlapFrames: 1, rate: Rational(24), retiming: down)
        XCTAssertEqual(settings.rampFrames, 48)
        for frames in stride(from: 1, through: 1500, by: 7) {
            let plan = try SegmentPlanner.plan(shots: [0..<frames], frameCount: frames, settings: settings)
            XCTAssertNoThrow(try plan.retimed(down), "\(frames) frames: \(plan.segments.map(\.owned))")
        }
    }
}
