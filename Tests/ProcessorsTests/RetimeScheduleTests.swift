import Processors
import Shared
import XCTest

/// The pure retiming logic: which output frame comes from which input frames, with duplicates and held ends.
final class RetimeScheduleTests: XCTestCase {
    typealias Step = RetimeSchedule.Step

    /// Feeds `kinds` one by one and collects every output, checking they come once each, in order.
    private func run(_ schedule: inout RetimeSchedule, _ kinds: [RetimeSchedule.FrameKind], maxRetained: Int? = nil,
                     file: StaticString = #filePath, line: UInt = #line) -> [Step] {
        var outputs: [(Int64, Step)] = []
        for (i, kind) in kinds.enumerated() {
            outputs += schedule.onFrame(kind)
            if let maxRetained {
                let retained = (0...i).filter { schedule.retains(frame: $0) }.count
                XCTAssertLessThanOrEqual(retained, maxRetained, "after frame \(i)", file: file, line: line)
            }
        }
        outputs += schedule.onEnd()
        XCTAssertEqual(outputs.map(\.0), Array(schedule.outputFrames), "every output once, in order", file: file, line: line)
        return outputs.map(\.1)
    }

    func testWithoutDuplicatesItIsPlainRetimingAt24To60() throws {
        let retiming = try Retiming(inputRate: Rational(24), outputRate: Rational(60))
        // A segment starting at film frame 100 with 20 input frames, making outputs for p in [100, 119].
        var schedule = RetimeSchedule(retiming: retiming, firstInputFrame: 100, outputFrames: 250..<298)
        let steps = run(&schedule, Array(repeating: .newPicture, count: 20), maxRetained: 3)
        for (k, step) in zip(250..<298, steps) {
            let p = retiming.sourcePosition(ofOutputFrame: Int64(k))
            let left = Int(p.index) - 100
            if p.isExact { XCTAssertEqual(step, .copy(frame: left), "output \(k)") }
            else { XCTAssertEqual(step, .interpolate(from: left, to: left + 1, t: p.timestep), "output \(k)") }
        }
        XCTAssertEqual(steps.first, .copy(frame: 0))
        XCTAssertEqual(steps[1], .interpolate(from: 0, to: 1, t: 0.4))
        XCTAssertEqual(steps[2], .interpolate(from: 0, to: 1, t: 0.8))
    }

    func testShotEndsHoldTheirFirstAndLastFrames() throws {
        // 24 → 60, a shot of input frames 10..<14: outputs from p ≥ 9.5 (k = 24) to p < 13.5 (k = 33).
        var schedule = RetimeSchedule(retiming: try Retiming(inputRate: Rational(24), outputRate: Rational(60)), firstInputFrame: 10, outputFrames: 24..<34)
        let steps = run(&schedule, Array(repeating: .newPicture, count: 4))
        XCTAssertEqual(steps[0], .copy(frame: 0)) // k = 24, p = 9.6: before the shot's first frame, nearer to it: held
        XCTAssertEqual(steps[1], .copy(frame: 0)) // p = 10
        XCTAssertEqual(steps.last, .copy(frame: 3)) // k = 33, p = 13.2: after the last frame: held
        XCTAssertFalse(steps.contains { if case .interpolate(_, 4, _) = $0 { return true }; return false })
    }

    func testStepPrintedFilmMovesEvenly() throws {
        // A A B C C D at the same rate: pictures at 0.5, 2, 3.5, 5 — one and a half frames apart.
        var schedule = RetimeSchedule(retiming: try Retiming(inputRate: Rational(24), outputRate: Rational(24)), firstInputFrame: 0, outputFrames: 0..<6)
        let steps = run(&schedule, [.newPicture, .duplicate, .newPicture, .newPicture, .duplicate, .newPicture])
        XCTAssertEqual(steps, [.copy(frame: 0),                       // before the first picture's time: held
                               .interpolate(from: 0, to: 2, t: 1.0 / 3), // p = 1 between A (0.5) and B (2)
                               .copy(frame: 2),
                               .interpolate(from: 2, to: 3, t: 2.0 / 3),
                               .interpolate(from: 3, to: 5, t: 1.0 / 3),
                               .copy(frame: 5)])
    }

    func testALongRunIsAFreezeAndIsNotInterpolated() throws {
        // A, then B repeated 6 times (longer than the 4-frame limit), then C.
        var schedule = RetimeSchedule(retiming: try Retiming(inputRate: Rational(24), outputRate: Rational(48)), firstInputFrame: 0, outputFrames: 0..<16,
                                      maxDuplicateRun: 4)
        let kinds: [RetimeSchedule.FrameKind] = [.newPicture, .newPicture] + Array(repeating: .duplicate, count: 5) + [.newPicture]
        let steps = run(&schedule, kinds, maxRetained: 6)
        // Between A (0) and B (1): motion as in the source.
        XCTAssertEqual(steps[1], .interpolate(from: 0, to: 1, t: 0.5))
        // Inside the freeze (frames 1…6): copies only, of the freeze's frames, each at its own time.
        for k in 2..<13 { if case .interpolate = steps[k] { XCTFail("output \(k) interpolates inside a freeze: \(steps[k])") } }
        XCTAssertEqual(steps[4], .copy(frame: 2))
        XCTAssertEqual(steps[13], .interpolate(from: 6, to: 7, t: 0.5)) // the freeze's last frame to C
    }

    func testEmptySegmentMakesNothingAndOutputsWaitForTheNextPicture() throws {
        var empty = RetimeSchedule(retiming: try Retiming(inputRate: Rational(24), outputRate: Rational(60)), firstInputFrame: 0, outputFrames: 0..<5)
        XCTAssertTrue(empty.onEnd().isEmpty)
        // A picture's time is known only when the next picture starts (it may repeat): output 0 (p = 0) waits for
        // frame 1, outputs 1 and 2 (p = 0.4, 0.8) for frame 2.
        var schedule = RetimeSchedule(retiming: try Retiming(inputRate: Rational(24), outputRate: Rational(60)), firstInputFrame: 0, outputFrames: 0..<5)
        XCTAssertTrue(schedule.onFrame(.newPicture).isEmpty)
        XCTAssertEqual(schedule.onFrame(.newPicture).map(\.output), [0])
        XCTAssertEqual(schedule.onFrame(.newPicture).map(\.output), [1, 2])
        XCTAssertEqual(schedule.onEnd().map(\.output), [3, 4])
    }
}
