import Planning
import Shared
import XCTest

/// The context frames a segment's input carries for film restoration: the chain's radius either side, never past its shot.
final class TemporalContextTests: XCTestCase {
    func testContextReachesTheRadiusInsideTheShotOnly() throws {
        let shot = 100..<400
        // A segment in the middle of a long shot: the full radius both sides.
        XCTAssertEqual(TemporalContext.inputFrames(of: 200..<260, shot: shot, radius: 39), 161..<299)
        XCTAssertEqual(TemporalContext.context(of: 200..<260, shot: shot, radius: 39), SegmentContext(before: 39, after: 39))
        // Near the shot's start and at its end: cut at the cut.
        XCTAssertEqual(TemporalContext.inputFrames(of: 110..<180, shot: shot, radius: 39), 100..<219)
        XCTAssertEqual(TemporalContext.context(of: 110..<180, shot: shot, radius: 39), SegmentContext(before: 10, after: 39))
        XCTAssertEqual(TemporalContext.context(of: 330..<400, shot: shot, radius: 39), SegmentContext(before: 39, after: 0))
        // A whole shot, or no temporal stage: nothing extra.
        XCTAssertNil(TemporalContext.context(of: shot, shot: shot, radius: 39))
        XCTAssertNil(TemporalContext.context(of: 200..<260, shot: shot, radius: 0))
        XCTAssertEqual(TemporalContext.inputFrames(of: 200..<260, shot: shot, radius: 0), 200..<260)
    }

    /// On a real plan: every input file stays inside its shot, holds the segment's input, and reaches the radius wherever
    /// the shot allows (so each frame's window is the whole-shot one).
    func testEverySegmentOfAPlanGetsItsWindowsWithinItsShot() throws {
        let shots = [0..<39, 39..<81, 81..<288]
        let plan = try SegmentPlanner.plan(shots: shots, frameCount: 288, settings: SegmentPlannerSettings(maxSegmentFrames: 15, overlapFrames: 5))
        XCTAssertGreaterThan(plan.segments.count, 10)
        for segment in plan.segments {
            let shot = shots[segment.shot]
            let frames = TemporalContext.inputFrames(of: segment.input, shot: shot, radius: 39)
            XCTAssertTrue(frames.lowerBound <= segment.input.lowerBound && frames.upperBound >= segment.input.upperBound)
            XCTAssertTrue(frames.lowerBound >= shot.lowerBound && frames.upperBound <= shot.upperBound)
            for frame in segment.input {
                XCTAssertLessThanOrEqual(frames.lowerBound, max(shot.lowerBound, frame - 39), "frame \(frame)'s window starts inside the file")
                XCTAssertGreaterThanOrEqual(frames.upperBound, min(shot.upperBound, frame + 40), "frame \(frame)'s window ends inside the file")
            }
        }
    }
}
