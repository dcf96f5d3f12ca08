import Planning
import XCTest

/// Issue 16: a long shot's pieces are decided from its start forward (`ShotSplit`), so the streaming analysis can release
/// its first segments before its cut is found. Random shots, with the frames known growing by random steps as a decode
/// makes them known: the pieces decided part by part are the pieces of the whole shot, within the bounds, covering it.
final class ShotSplitTests: XCTestCase {
    func testStreamedPiecesAreTheWholeShotsAndStayWithinBounds() throws {
        var g = SegmentPlannerTests.SeededGenerator(state: 1616)
        var longShots = 0, earlyPieces = 0
        for trial in 0..<2000 {
            let overlap = [0, 0, 1, 8, Int.random(in: 0...12, using: &g)][trial % 5]
            let maxFrames = Int.random(in: max(1, 3 * overlap)...300, using: &g)
            let settings = try SegmentPlannerSettings(maxSegmentFrames: maxFrames, overlapFrames: overlap).validated()
            let start = Int.random(in: 0...500, using: &g)
            let length = Int.random(in: 1...(trial % 3 == 0 ? 40 : 2000), using: &g)
            let shot = start..<(start + length)
            let context = "trial \(trial): shot \(shot), max \(maxFrames), overlap \(overlap)"
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
            // Bounds: every input within maxSegmentFrames; a split shot's pieces own at least ⌊P/2⌋ frames and at most P
            // (the last one P plus the overlap it needs on no side after it).
            let segments = SegmentPlanner.segments(owning: whole, in: shot, shot: 0, firstIndex: 0, settings: settings)
            XCTAssertFalse(segments.contains { $0.input.count > maxFrames }, "an input longer than \(maxFrames); \(context)")
            let piece = maxFrames - overlap
            if whole.count > 1 {
                longShots += 1
                XCTAssertFalse(whole.contains { $0.count < piece / 2 }, "\(whole.map(\.count)); \(context)")
                XCTAssertFalse(whole.dropLast().contains { $0.count > piece }, "\(whole.map(\.count)); \(context)")
            } else {
                XCTAssertLessThanOrEqual(length, ShotSplit.framesToDecide(settings: settings) + overlap, context)
            }
            // A shot too short for a first piece is cut into equal pieces, as before this rule.
            if length < ShotSplit.framesToDecide(settings: settings) {
                let n = length <= maxFrames ? 1 : (length + piece - 1) / piece
                XCTAssertEqual(whole, (0..<n).map { j in (start + j * length / n)..<(start + (j + 1) * length / n) }, context)
            }
        }
        XCTAssertGreaterThan(longShots, 800)
        XCTAssertGreaterThan(earlyPieces, 500, "pieces were decided before their shot closed")
    }

    /// The first piece is decided once 1.5 pieces of the shot are known; a one-shot film cut for w local workers
    /// (`maxSegmentFrames` = its frames shared out) still gives each worker one equal piece, the first after 3/(2w) of it.
    func testTheFirstPieceOfALongShotIsKnownAfterOneAndAHalfPieces() throws {
        let settings = SegmentPlannerSettings(maxSegmentFrames: 250)
        let noOverlap = SegmentPlannerSettings(maxSegmentFrames: 250, overlapFrames: 0)
        XCTAssertEqual(ShotSplit.framesToDecide(settings: noOverlap), 375)
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
            XCTAssertEqual(ShotSplit.framesToDecide(settings: s), share + (share + 1) / 2)
            XCTAssertLessThan(ShotSplit.framesToDecide(settings: s), film)
        }
    }
}
