import Planning
import Shared
import XCTest

/// Retiming arithmetic p = k · in / out over two hours of NTSC film turned into 60 fps.
final class RetimingTests: XCTestCase {
    func testTwoHoursFrom23976To60HaveNoDrift() throws {
        let retiming = try Retiming(inputRate: Rational(24000, 1001), outputRate: Rational(60))
        let inputFrames: Int64 = 172_627 // 2 h at 24000/1001 (see FrameTimelineTests)
        let outputFrames = retiming.outputFrameCount(inputFrames: inputFrames)
        // 172627 × 60 × 1001 / 24000 = 431999.0675 → 432000 output frames (the last starts before the input ends).
        XCTAssertEqual(outputFrames, 432_000)
        XCTAssertEqual(retiming.outputFrameCount(duration: Rational(inputFrames * 1001, 24000)), outputFrames)

        var seen = [Bool](repeating: false, count: Int(inputFrames))
        var previous = Rational(-1)
        var exact = 0
        for k in 0..<outputFrames {
            let p = retiming.sourcePosition(ofOutputFrame: k)
            // Independent integer arithmetic: p = k · 400 / 1001.
            let expectedIndex = k * 400 / 1001, remainder = k * 400 % 1001
            if p.index != expectedIndex || p.fraction != Rational(remainder, 1001) {
                XCTFail("output frame \(k): position \(p.index) + \(p.fraction), expected \(expectedIndex) + \(remainder)/1001"); return
            }
            // The output frame's time is exactly the time of its source position in the input.
            let position = Rational(p.index) + p.fraction
            if retiming.outputTime(ofFrame: k) != position / retiming.inputRate { XCTFail("frame \(k) is off in time"); return }
            if !(previous < position) { XCTFail("positions not increasing at \(k)"); return }
            previous = position
            if p.isExact { exact += 1 }
            seen[Int(p.index)] = true
        }
        // Every input frame is a left neighbour of some output (out > in), and the last position is inside the input.
        XCTAssertEqual(seen.filter { !$0 }.count, 0, "an input frame was skipped")
        XCTAssertLessThan(previous, Rational(inputFrames))
        // Outputs land on an input frame every 1001 output frames (k · 400 ≡ 0 mod 1001).
        XCTAssertEqual(exact, Int((outputFrames + 1000) / 1001))
        // What the exact arithmetic avoids: accumulating the step in Double drifts.
        var t = 0.0
        for _ in 0..<outputFrames { t += 24000.0 / 1001.0 / 60.0 }
        print(String(format: "retiming 2 h 24000/1001 -> 60: %lld output frames, exact last position %@, Double accumulation %.9f (error %.3g frames)",
                     outputFrames, "\(previous)", t, abs(t - Rational(outputFrames * 400, 1001).doubleValue)))
    }

    func testCommonConversionsAndPartitionOfOutputFrames() throws {
        let up = try Retiming(inputRate: Rational(24), outputRate: Rational(60))
        XCTAssertEqual(up.outputFrameCount(inputFrames: 1323), 3308) // 1323 × 2.5 = 3307.5 → 3308
        XCTAssertEqual(up.sourcePosition(ofOutputFrame: 5), .init(index: 2, fraction: .zero))
        XCTAssertEqual(up.sourcePosition(ofOutputFrame: 3), .init(index: 1, fraction: Rational(1, 5)))
        XCTAssertEqual(up.sourcePosition(ofOutputFrame: 3).timestep, 0.2, accuracy: 1e-12)
        let film = try Retiming(inputRate: Rational(15), outputRate: Rational(24))
        XCTAssertEqual(film.outputFrameCount(inputFrames: 288), 461) // 288 × 1.6 = 460.8 → 461
        let down = try Retiming(inputRate: Rational(30000, 1001), outputRate: Rational(24000, 1001))
        XCTAssertEqual(down.sourcePosition(ofOutputFrame: 4), .init(index: 5, fraction: .zero))

        // Owned input ranges of a segment plan map to output ranges that tile the output, in order.
        for retiming in [up, film, down] {
            let plan = try SegmentPlanner.plan(shots: [0..<37, 37..<300, 300..<301], frameCount: 301,
                                               settings: SegmentPlannerSettings(maxSegmentFrames: 60, overlapFrames: 8))
            var next: Int64 = 0
            for segment in plan.segments {
                let range = retiming.outputFrames(forInputFrames: Int64(segment.owned.lowerBound)..<Int64(segment.owned.upperBound))
                XCTAssertEqual(range.lowerBound, next)
                for k in range {
                    let p = retiming.sourcePosition(ofOutputFrame: k)
                    XCTAssert(segment.owned.contains(Int(p.index)), "output \(k) (input \(p.index)) outside owned \(segment.owned)")
                }
                next = range.upperBound
            }
            XCTAssertEqual(next, retiming.outputFrameCount(inputFrames: 301))
        }
        XCTAssertThrowsError(try Retiming(inputRate: Rational(0), outputRate: Rational(24)))
    }
}
