import Planning
import Shared
import XCTest

/// Property-style tests over many random films (seeded, so a failure reproduces).
final class SegmentPlannerTests: XCTestCase {
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var z = state
            z = (z ^ (z >> 33)) &* 0xff51afd7ed558ccd
            return z ^ (z >> 29)
        }
    }

    static func randomShots(frames: Int, using g: inout SeededGenerator) -> [Range<Int>] {
        var cuts = Set<Int>()
        for _ in 0..<Int.random(in: 0...12, using: &g) where frames > 1 { cuts.insert(Int.random(in: 1..<frames, using: &g)) }
        var shots: [Range<Int>] = []
        var start = 0
        for c in cuts.sorted() { shots.append(start..<c); start = c }
        shots.append(start..<frames)
        return shots
    }

    func testEveryFrameOwnedOnceNoSegmentCrossesACutOverlapsAsConfigured() throws {
        var g = SeededGenerator(state: 42)
        for trial in 0..<500 {
            let frames = Int.random(in: 1...3000, using: &g)
            let shots = Self.randomShots(frames: frames, using: &g)
            let overlap = Int.random(in: 0...12, using: &g)
            let maxFrames = Int.random(in: max(1, 3 * overlap)...400, using: &g)
            let settings = SegmentPlannerSettings(maxSegmentFrames: maxFrames, overlapFrames: overlap)
            let plan = try SegmentPlanner.plan(shots: shots, frameCount: frames, settings: settings)
            let context = "trial \(trial): \(frames) frames, shots \(shots), max \(maxFrames), overlap \(overlap)"

            var owners = [Int](repeating: 0, count: frames)
            for s in plan.segments { for f in s.owned { owners[f] += 1 } }
            XCTAssertEqual(owners.filter { $0 != 1 }.count, 0, "some frame not owned exactly once; \(context)")
            for s in plan.segments {
                let shot = shots[s.shot]
                XCTAssert(shot.lowerBound <= s.input.lowerBound && s.input.upperBound <= shot.upperBound, "segment crosses a cut; \(context)")
                XCTAssertLessThanOrEqual(s.input.count, maxFrames, context)
                XCTAssert(s.input.lowerBound <= s.owned.lowerBound && s.owned.upperBound <= s.input.upperBound, context)
            }
            for (a, b) in zip(plan.segments, plan.segments.dropFirst()) {
                let shared = max(0, a.input.upperBound - b.input.lowerBound)
                XCTAssertEqual(shared, a.shot == b.shot ? overlap : 0, "neighbours share \(shared) frames; \(context)")
                if a.shot == b.shot { XCTAssertLessThanOrEqual(b.input.upperBound - a.input.upperBound, b.input.count) }
            }
            for (k, shot) in shots.enumerated() where shot.count <= maxFrames {
                XCTAssertEqual(plan.segments.filter { $0.shot == k }.count, 1, "a short shot was split; \(context)")
            }
            XCTAssertEqual(try SegmentPlanner.plan(shots: shots, frameCount: frames, settings: settings), plan, "not deterministic")
            try checkStitchPlan(StitchPlan(plan: plan), plan: plan, context: context)
        }
    }

    func checkStitchPlan(_ stitch: StitchPlan, plan: SegmentPlan, context: String) throws {
        var position = 0
        for step in stitch.steps {
            XCTAssertEqual(step.frames.lowerBound, position, "steps out of order; \(context)")
            XCTAssertFalse(step.frames.isEmpty, context)
            position = step.frames.upperBound
            switch step {
            case .copy(let segment, let frames):
                XCTAssert(plan.segments[segment.position].input.contains(frames.lowerBound) && plan.segments[segment.position].input.contains(frames.upperBound - 1), context)
            case .blend(let seam):
                XCTAssertEqual(plan.segments[seam.left.position].shot, plan.segments[seam.right.position].shot, "blend across a cut; \(context)")
                XCTAssertEqual(seam.frames.count, plan.settings.overlapFrames, context)
            }
        }
        XCTAssertEqual(position, plan.frameCount, context)
        // Every frame's sources exist there and weigh 1 in total.
        for frame in stride(from: 0, to: plan.frameCount, by: 7) {
            let sources = stitch.sources(frame: frame) { Crossfade.window(differences: [Double](repeating: 0, count: $0.frames.count)) }
            XCTAssertEqual(sources.reduce(0) { $0 + $1.weight }, 1, accuracy: 1e-6, context)
            for s in sources { XCTAssert(plan.segments[s.segment.position].input.contains(frame), context) }
        }
    }

    func testLongShotSplitAndShortShotsKept() throws {
        let plan = try SegmentPlanner.plan(shots: [0..<30, 30..<280, 280..<290], frameCount: 290,
                                           settings: SegmentPlannerSettings(maxSegmentFrames: 100, overlapFrames: 8))
        // The long shot (`ShotSplit`): pieces of 92 (inputs of 100) while 92 + 46 frames remain, then the 66 left as one.
        XCTAssertEqual(plan.segments.map(\.owned), [0..<30, 30..<122, 122..<214, 214..<280, 280..<290])
        XCTAssertEqual(plan.segments.map(\.input), [0..<30, 30..<126, 118..<218, 210..<280, 280..<290])
        let stitch = StitchPlan(plan: plan)
        let seam12 = StitchPlan.Seam(left: 1, right: 2, frames: 118..<126)
        let seam23 = StitchPlan.Seam(left: 2, right: 3, frames: 210..<218)
        var expected: [StitchPlan.Step] = [.copy(segment: 0, frames: 0..<30), .copy(segment: 1, frames: 30..<118)]
        expected += [.blend(seam12), .copy(segment: 2, frames: 126..<210)]
        expected += [.blend(seam23), .copy(segment: 3, frames: 218..<280), .copy(segment: 4, frames: 280..<290)]
        XCTAssertEqual(stitch.steps, expected)
        let decoded = try JSONDecoder().decode(SegmentPlan.self, from: try plan.encoded())
        XCTAssertEqual(try decoded.validated(), plan)
    }

    /// plan.json holds `rampFrames` only when the plan has a ramp (`ShotSplit`): a plan without one reads and writes as
    /// before the ramp, and one with it reads back the same.
    func testTheRampIsWrittenOnlyWhenThereIsOne() throws {
        let ramped = try SegmentPlanner.plan(shots: [0..<300], frameCount: 300, settings: SegmentPlannerSettings(maxSegmentFrames: 240, overlapFrames: 0, rampFrames: 24))
        XCTAssertEqual(ramped.segments.map(\.owned), [0..<24, 24..<162, 162..<300])
        XCTAssertTrue(String(decoding: try ramped.encoded(), as: UTF8.self).contains(#""rampFrames" : 24"#))
        XCTAssertEqual(try JSONDecoder().decode(SegmentPlan.self, from: try ramped.encoded()).validated(), ramped)
        let plain = try SegmentPlanner.plan(shots: [0..<300], frameCount: 300, settings: SegmentPlannerSettings(maxSegmentFrames: 240, overlapFrames: 0))
        XCTAssertEqual(plain.segments.map(\.owned), [0..<150, 150..<300])
        XCTAssertFalse(String(decoding: try plain.encoded(), as: UTF8.self).contains("rampFrames"))
        XCTAssertThrowsError(try SegmentPlannerSettings(maxSegmentFrames: 240, overlapFrames: 0, rampFrames: -1).validated())
        // Its rest (⌈R/2⌉ frames or more) must hold the overlap: R ≥ 2K.
        XCTAssertThrowsError(try SegmentPlannerSettings(maxSegmentFrames: 240, overlapFrames: 8, rampFrames: 15).validated())
        XCTAssertNoThrow(try SegmentPlannerSettings(maxSegmentFrames: 240, overlapFrames: 8, rampFrames: 16).validated())
    }

    func testSettingsAndDamagedPlansAreRefused() throws {
        XCTAssertThrowsError(try SegmentPlanner.plan(shots: [0..<10], frameCount: 10, settings: SegmentPlannerSettings(maxSegmentFrames: 20, overlapFrames: 8)))
        var plan = try SegmentPlanner.plan(shots: [0..<10, 10..<20], frameCount: 20, settings: SegmentPlannerSettings(maxSegmentFrames: 24, overlapFrames: 8))
        plan.segments[1].input = 5..<20 // reaches across the cut
        XCTAssertThrowsError(try plan.validated())
    }

    func testFramesForSecondsIsExact() {
        XCTAssertEqual(SegmentPlanner.frames(seconds: 10, rate: Rational(24000, 1001)), 239)
        XCTAssertEqual(SegmentPlanner.frames(seconds: 10, rate: Rational(25)), 250)
    }
}
