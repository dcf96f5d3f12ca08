import XCTest
import Shared

final class RationalTests: XCTestCase {
    func testReducesAndParses() {
        XCTAssertEqual(Rational(48, 2), Rational(24))
        XCTAssertEqual(Rational(parsing: "24000/1001"), Rational(24000, 1001))
        XCTAssertEqual(Rational(parsing: "29.97"), Rational(2997, 100))
        XCTAssertEqual(Rational(parsing: "25"), Rational(25))
        XCTAssertNil(Rational(parsing: "1/0"))
        XCTAssertNil(Rational(parsing: "abc"))
        XCTAssertEqual(Rational(3, -6), Rational(-1, 2))
    }

    func testFloorRoundAndFraction() {
        XCTAssertEqual(Rational(7, 2).floor, 3)
        XCTAssertEqual(Rational(-7, 2).floor, -4)
        XCTAssertEqual(Rational(7, 2).rounded, 4)
        XCTAssertEqual(Rational(5, 3).fractionalPart, Rational(2, 3))
    }

    func testTwoHoursOfTimestampsDoNotDrift() {
        // 2 h at 24000/1001 fps in a 90 kHz time base: summing frame durations exactly lands on k/rate.
        let rate = Rational(24000, 1001)
        let frames: Int64 = Int64((Rational(7200) * rate).floor)
        var t = Rational.zero
        for _ in 0..<frames { t = t + rate.reciprocal }
        XCTAssertEqual(t, Rational(frames) / rate)
        XCTAssertEqual(frames, 172_627)
    }

    func testCodableAsText() throws {
        let data = try JSONEncoder().encode([Rational(30000, 1001)])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "[\"30000\\/1001\"]")
        XCTAssertEqual(try JSONDecoder().decode([Rational].self, from: data), [Rational(30000, 1001)])
    }
}
