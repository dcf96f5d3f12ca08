import Planning
import Shared
import XCTest

final class CrossfadeTests: XCTestCase {
    func testWindowSitsWhereTheVersionsAgreeBest() {
        // Versions differ a lot at the edges of the overlap, least around positions 5 and 6.
        let d: [Double] = [9, 7, 5, 3, 2, 0.5, 0.4, 2, 4, 8]
        XCTAssertEqual(Crossfade.window(differences: d, width: 4, margin: 1), 4..<8)
        XCTAssertEqual(Crossfade.window(differences: d, width: 2, margin: 1), 5..<7)
        // Flat differences: the middle of the overlap.
        XCTAssertEqual(Crossfade.window(differences: [Double](repeating: 1, count: 8), width: 4, margin: 1), 2..<6)
        // The margin keeps the window off the frames that lack temporal context, even when they agree.
        XCTAssertEqual(Crossfade.window(differences: [0, 0, 5, 5, 5, 5, 5, 5], width: 2, margin: 1), 1..<3)
        // Short overlaps shrink the window instead of failing.
        XCTAssertEqual(Crossfade.window(differences: [1, 1], width: 4, margin: 1), 0..<2)
        XCTAssertEqual(Crossfade.window(differences: [3], width: 4, margin: 1), 0..<1)
    }

    func testWeightsRiseMonotonicallyFromLeftToRight() {
        let window = 2..<6
        let weights = (0..<8).map { Crossfade.rightWeight($0, window: window) }
        XCTAssertEqual(weights, [0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1])
        XCTAssertEqual(Crossfade.rightWeight(0, window: 0..<1), 0.5)
    }

    /// Stitching where the versions agree beats a hard switch at the overlap's middle when one version
    /// drifts (a temporal processor losing context near its segment's end).
    func testSeamAwareStitchBeatsAHardSwitch() {
        let truth = (0..<12).map { k in RGBImage(width: 4, height: 4, fill: Float(k) / 20) }
        // Left is right early and wrong late; right is wrong early and right late, agreeing best at 7…8.
        let leftError: [Float] = [0, 0, 0, 0, 0, 0, 0, 0.002, 0.004, 0.1, 0.2, 0.3]
        let rightError: [Float] = [0.3, 0.2, 0.1, 0.05, 0.04, 0.02, 0.01, 0.002, 0, 0, 0, 0]
        func offset(_ image: RGBImage, _ e: Float) -> RGBImage { RGBImage(width: 4, height: 4, pixels: image.pixels.map { $0 + e }) }
        let left = zip(truth, leftError).map { offset($0.0, $0.1) }
        let right = zip(truth, rightError).map { offset($0.0, $0.1) }
        let d = zip(left, right).map { Crossfade.difference($0, $1) }
        let window = Crossfade.window(differences: d, width: 2, margin: 1)
        XCTAssertEqual(window, 7..<9)
        func error(_ pick: (Int) -> RGBImage) -> Double { (0..<12).map { Crossfade.difference(pick($0), truth[$0]) }.max()! }
        let seamAware = error { Crossfade.blend(left[$0], right[$0], rightWeight: Crossfade.rightWeight($0, window: window)) }
        let hardMiddle = error { $0 < 6 ? left[$0] : right[$0] }
        XCTAssertLessThan(seamAware, 0.005)
        XCTAssertGreaterThan(hardMiddle, 0.005)
    }
}
