import Media
import Shared
import TestSupport
import XCTest

final class ConstantRateTests: XCTestCase {
    private func normalise(times: [Rational], durations: [Rational?]? = nil, rate: Rational) -> [Int] {
        var n = ConstantRateNormalizer<Int>(rate: rate)
        var out: [Int] = []
        for (i, t) in times.enumerated() { out += n.push(i, time: t, duration: durations?[i] ?? nil) }
        return out + n.finish()
    }

    func testConstantRateInputIsUnchanged() {
        let times = (0..<100).map { Rational(Int64($0) * 1001, 24000) + Rational(1, 3) }
        XCTAssertEqual(normalise(times: times, rate: Rational(24000, 1001)), Array(0..<100))
    }

    func testGapsRepeatAndCollisionsKeepTheLast() {
        // 10 fps: frames at 0, 0.1, 0.3 (0.2 missing), 0.34 and 0.36 (both round to slot 3/4), 0.5
        let times = [Rational(0), Rational(1, 10), Rational(3, 10), Rational(34, 100), Rational(36, 100), Rational(5, 10)]
        let out = normalise(times: times, rate: Rational(10))
        // slots: 0→f0, 1→f1, 2→f1 (gap), 3→f3 (f2 and f3 both land on 3: last wins), 4→f4, 5→f5
        XCTAssertEqual(out, [0, 1, 1, 3, 4, 5])
    }

    /// A packet cut decodes the film from a keyframe in its middle: the sequence continued from any input frame, with
    /// the film's start, gives exactly the whole sequence's frames from that frame's slot on (gaps and bursts included).
    func testACutContinuesTheSequenceFromItsFirstFrame() {
        let times = [Rational(0), Rational(1, 10), Rational(3, 10), Rational(34, 100), Rational(36, 100), Rational(5, 10),
                     Rational(52, 100), Rational(9, 10), Rational(1)]
        let rate = Rational(10)
        let whole = normalise(times: times, rate: rate)
        XCTAssertEqual(whole.count, 11)
        for first in times.indices {
            var n = ConstantRateNormalizer<Int>(rate: rate, start: times[0])
            var out: [Int] = []
            for i in first..<times.count { out += n.push(i, time: times[i], duration: nil) }
            out += n.finish(through: Int64(whole.count - 1))
            let slot = Int((times[first] * rate).rounded)
            XCTAssertEqual(out, Array(whole[slot...]), "cut from input frame \(first) (slot \(slot))")
        }
    }

    func testVariableRatePensKeepsItsFrameCount() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let reader = try ConstantRateReader(path: pens)
        XCTAssertEqual(reader.rate, Rational(179, 6), "base rate is plausible and close to the average")
        var count = 0
        while try reader.next() != nil { count += 1 }
        XCTAssertEqual(count, 64)
    }

    func testNominalRateRule() {
        XCTAssertEqual(ConstantRateNormalizer<Int>.nominalRate(base: Rational(25), average: Rational(25)), Rational(25))
        // A phone's VFR clip: base 120, average 29.9 → the average.
        XCTAssertEqual(ConstantRateNormalizer<Int>.nominalRate(base: Rational(120), average: Rational(299, 10)), Rational(299, 10))
        XCTAssertEqual(ConstantRateNormalizer<Int>.nominalRate(base: Rational(90000), average: nil), Rational(25))
        XCTAssertEqual(ConstantRateNormalizer<Int>.nominalRate(base: nil, average: Rational(15)), Rational(15))
    }
}

final class RealFootageFrameCountTests: XCTestCase {
    /// Real files whose declared counts are a little off are not called truncated. The constant-rate sequence
    /// follows the timestamps: balle1's AVI decodes 295 frames whose timestamps span 300 slots (its dropped-frame
    /// chunks become repeats), and box.mp4's 455 frames span 456.
    func testEveryRealClipDecodesToItsKnownFrameCount() throws {
        let expected = ["video/box.mp4": 456, "video/balle1-vp9.avi": 300, "video/cityCC0.mpg": 190, "video/bikes.mp4": 250,
                        "video/carphone_pristine.mp4": 120]
        for (name, count) in expected.sorted(by: { $0.key < $1.key }) {
            let path = try Fixtures.requireFootage(name)
            let reader = try ConstantRateReader(path: path)
            var frames = 0
            while try reader.next() != nil { frames += 1 }
            XCTAssertEqual(frames, count, name)
        }
    }
}
