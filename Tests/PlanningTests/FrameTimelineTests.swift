import Planning
import Shared
import XCTest

/// Two hours of timestamps at 24000/1001 (NTSC film): no drift, no frame lost or repeated.
final class FrameTimelineTests: XCTestCase {
    func testTwoHoursAt23976HaveNoDrift() {
        let rate = Rational(24000, 1001)
        let timeline = FrameTimeline(rate: rate, start: Rational(1, 10))
        let count = timeline.frameCount(duration: Rational(7200))
        XCTAssertEqual(count, 172_627) // 7200 × 24000 / 1001 = 172627.37…
        let tb = Rational(1, 90_000)
        var previousTicks: Int64 = -1
        for k in 0..<count {
            let t = timeline.time(ofFrame: k)
            XCTAssertEqual(timeline.frame(at: t), k)
            let ticks = timeline.timestamp(ofFrame: k, timeBase: tb)
            // Independent integer arithmetic: start 9000 ticks + round(k · 1001 · 90000 / 24000) = round(k · 3753.75).
            let expected = 9000 + (Int64(k) * 1001 * 90_000 * 2 + 24_000) / (2 * 24_000)
            if ticks != expected { XCTFail("frame \(k): \(ticks) ticks, expected \(expected)"); return }
            XCTAssert(ticks - previousTicks == 3753 || ticks - previousTicks == 3754 || k == 0)
            // A timestamp rounded to the time base still names its frame.
            if timeline.frame(at: Rational(ticks) * tb) != k { XCTFail("frame \(k) does not survive 90 kHz rounding"); return }
            previousTicks = ticks
        }
        // The last frame starts less than one frame before the end; the next would be past it.
        let last = timeline.time(ofFrame: count - 1) - timeline.start
        XCTAssertLessThan(last, Rational(7200))
        XCTAssertGreaterThan(last + rate.reciprocal, Rational(7200) - rate.reciprocal)
        XCTAssertEqual(timeline.time(ofFrame: count) - timeline.start, Rational(Int64(count) * 1001, 24000))
    }
}
