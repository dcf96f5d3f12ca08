import Planning
import Shared
import XCTest

/// Segment plans mapped to output frames for retiming (24 → 60, 15 → 24, NTSC → 60, 30 → 24).
final class RetimedPlanTests: XCTestCase {
    func testRetimedPlansTileTheOutputAndEverySegmentCanMakeItsFrames() throws {
        var g = SegmentPlannerTests.SeededGenerator(state: 9)
        let conversions: [(Rational, Rational)] = [(Rational(24), Rational(60)), (Rational(15), Rational(24)),
                                                   (Rational(24000, 1001), Rational(60)), (Rational(30), Rational(24))]
        for trial in 0..<200 {
            let (inRate, outRate) = conversions[trial % conversions.count]
            let retiming = try Retiming(inputRate: inRate, outputRate: outRate)
            let frames = Int.random(in: 20...2000, using: &g)
            var shots = SegmentPlannerTests.randomShots(frames: frames, using: &g)
            shots = Self.mergeShort(shots, minimum: 8) // the detector's minimum shot length
            let plan = try SegmentPlanner.plan(shots: shots, frameCount: frames, settings: SegmentPlannerSettings(maxSegmentFrames: 60, overlapFrames: 8))
            let out = try plan.retimed(retiming) // validated: shots and owned ranges tile the output
            let context = "trial \(trial): \(inRate) → \(outRate), \(frames) frames, shots \(shots)"
            XCTAssertEqual(out.frameCount, Int(retiming.outputFrameCount(inputFrames: Int64(frames))), context)
            XCTAssertEqual(out.segments.count, plan.segments.count, context)
            for (a, b) in zip(plan.segments, out.segments) {
                let shot = plan.shots[a.shot]
                for k in b.input {
                    let p = retiming.sourcePosition(ofOutputFrame: Int64(k))
                    let position = Rational(p.index) + p.fraction
                    let left = Int(p.index)
                    if position < Rational(Int64(shot.lowerBound)) {
                        // Before the shot's first frame (nearer to it than to the previous shot's last): holds it.
                        XCTAssert(a.input.contains(shot.lowerBound), "output \(k) holds \(shot.lowerBound); \(context)")
                        XCTAssertGreaterThanOrEqual(position, Rational(Int64(shot.lowerBound)) - Rational(1, 2), "output \(k) is nearer the previous shot; \(context)")
                    } else if p.isExact || left + 1 >= shot.upperBound {
                        // Copied, or after the shot's last frame (nearer to it than to the next shot's first): one frame.
                        XCTAssert(a.input.contains(min(left, shot.upperBound - 1)), "output \(k) needs \(left); \(context)")
                        if shot.upperBound < frames {
                            XCTAssertLessThan(position, Rational(Int64(shot.upperBound)) - Rational(1, 2), "output \(k) is nearer the next shot; \(context)")
                        }
                    } else {
                        XCTAssert(a.input.contains(left) && a.input.contains(left + 1), "output \(k) needs \(left), \(left + 1) outside \(a.input); \(context)")
                    }
                }
            }
            // Stitching in output frames: overlaps only inside a shot, every output frame weighs 1 in total.
            let stitch = StitchPlan(plan: out)
            for case .blend(let seam) in stitch.steps {
                XCTAssertEqual(out.segments[seam.left.position].shot, out.segments[seam.right.position].shot, context)
                XCTAssertGreaterThanOrEqual(seam.frames.count, 4, "overlap too small to crossfade; \(context)")
            }
            for k in stride(from: 0, to: out.frameCount, by: 5) {
                let sources = stitch.sources(frame: k) { Crossfade.window(differences: [Double](repeating: 0, count: $0.frames.count)) }
                XCTAssertEqual(sources.reduce(0) { $0 + $1.weight }, 1, accuracy: 1e-6, context)
            }
        }
    }

    /// Overlap 1 (`RenderRecipe.defaultOverlapFrames` for `--fps --keep-duplicates`): each segment reads the one frame
    /// past its end that its last interpolations need, makes exactly its own output frames, and no two segments share an
    /// output frame: the stitch is copies only, no seam. Every output a segment makes has its source frames in its input.
    func testOverlapOneMakesEveryOutputOnceWithItsFramesAtHand() throws {
        var g = SegmentPlannerTests.SeededGenerator(state: 11)
        let conversions: [(Rational, Rational)] = [(Rational(24), Rational(60)), (Rational(15), Rational(24)),
                                                   (Rational(24000, 1001), Rational(60)), (Rational(30), Rational(24)), (Rational(24), Rational(50))]
        for trial in 0..<200 {
            let (inRate, outRate) = conversions[trial % conversions.count]
            let retiming = try Retiming(inputRate: inRate, outputRate: outRate)
            let frames = Int.random(in: 20...2000, using: &g)
            let shots = Self.mergeShort(SegmentPlannerTests.randomShots(frames: frames, using: &g), minimum: 8)
            let maxFrames = Int.random(in: 8...90, using: &g)
            let plan = try SegmentPlanner.plan(shots: shots, frameCount: frames, settings: SegmentPlannerSettings(maxSegmentFrames: maxFrames, overlapFrames: 1))
            let out = try plan.retimed(retiming)
            let context = "trial \(trial): \(inRate) → \(outRate), \(frames) frames, max \(maxFrames), shots \(shots)"
            XCTAssertEqual(out.segments.map(\.input), out.segments.map(\.owned), "a segment makes outputs it does not own; \(context)")
            XCTAssertTrue(StitchPlan(plan: out).steps.allSatisfy { if case .copy = $0 { return true } else { return false } }, "a seam; \(context)")
            for (a, b) in zip(plan.segments, out.segments) {
                let shot = plan.shots[a.shot]
                for k in b.input {
                    let p = retiming.sourcePosition(ofOutputFrame: Int64(k))
                    let left = min(Int(p.index), shot.upperBound - 1)
                    // A copy needs its frame; an interpolation inside the shot also the next one.
                    let needed = p.isExact || left + 1 >= shot.upperBound || Rational(p.index) + p.fraction < Rational(Int64(shot.lowerBound))
                        ? [max(left, shot.lowerBound)] : [left, left + 1]
                    for f in needed { XCTAssert(a.input.contains(f), "output \(k) needs frame \(f), outside \(a.input); \(context)") }
                }
            }
        }
    }

    func testTwentyFourToSixtyByHand() throws {
        let plan = try SegmentPlanner.plan(shots: [0..<10, 10..<130], frameCount: 130, settings: SegmentPlannerSettings(maxSegmentFrames: 72, overlapFrames: 8))
        // `ShotSplit`: a piece of 64 (120 ≥ 64 + 32 frames remain), then the 56 left as one (its input 60 ≤ 72).
        XCTAssertEqual(plan.segments.map(\.owned), [0..<10, 10..<74, 74..<130])
        XCTAssertEqual(plan.segments.map(\.input), [0..<10, 10..<78, 70..<130])
        let out = try plan.retimed(try Retiming(inputRate: Rational(24), outputRate: Rational(60)))
        XCTAssertEqual(out.frameCount, 325)
        // The cut lies between input frames 9 and 10; outputs up to p < 9.5 (k = 23, p = 9.2) show shot 0, k = 24 (p = 9.6) shot 1.
        XCTAssertEqual(out.shots, [0..<24, 24..<325])
        XCTAssertEqual(out.segments.map(\.owned), [0..<24, 24..<185, 185..<325])
        // Segment 1's input ends at frame 77: outputs up to p = 77 (k = 192.5 → 192). Segment 2 starts at p = 70 (k = 175).
        XCTAssertEqual(out.segments.map(\.input), [0..<24, 24..<193, 175..<325])
        XCTAssertThrowsError(try SegmentPlanner.plan(shots: [0..<130], frameCount: 130, settings: SegmentPlannerSettings(maxSegmentFrames: 64, overlapFrames: 0))
            .retimed(try Retiming(inputRate: Rational(24), outputRate: Rational(60))))
    }

    func testShotsShorterThanAnOutputFrameMakeNothing() throws {
        // bikes-like: 25 fps, a last shot of 8 frames (0.32 s); at 1 fps no output frame falls nearer to it.
        let plan = try SegmentPlanner.plan(shots: [0..<242, 242..<250], frameCount: 250, settings: SegmentPlannerSettings(maxSegmentFrames: 250, overlapFrames: 8))
        let out = try plan.retimed(try Retiming(inputRate: Rational(25), outputRate: Rational(1)))
        XCTAssertEqual(out.frameCount, 10)
        XCTAssertEqual(out.shots, [0..<10, 10..<10])
        XCTAssertEqual(out.segments.map(\.input), [0..<10, 10..<10])
        XCTAssertEqual(out.segments.map(\.owned), [0..<10, 10..<10])
        // Stitching never asks the empty segment for a frame.
        XCTAssertEqual(StitchPlan(plan: out).steps, [.copy(segment: 0, frames: 0..<10)])
        // Plans read from disk still refuse empty shots.
        XCTAssertThrowsError(try out.validated())
    }

    static func mergeShort(_ shots: [Range<Int>], minimum: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for s in shots {
            if let last = result.last, s.count < minimum || last.count < minimum {
                result[result.count - 1] = last.lowerBound..<s.upperBound
            } else {
                result.append(s)
            }
        }
        return result
    }
}
