import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

final class DuplicateDetectorTests: XCTestCase {
    private func pattern(width: Int, height: Int, shift: Int = 0, brightness: Float = 0) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for c in 0..<3 {
            for y in 0..<height {
                for x in 0..<width {
                    let v = 0.5 + 0.4 * sin(Float(x + shift) * 0.07 + Float(c)) * cos(Float(y) * 0.05)
                    image[c, y, x] = min(1, max(0, v + brightness))
                }
            }
        }
        return image
    }

    func testIdenticalFlickerAndMotion() {
        let a = pattern(width: 640, height: 360)
        let threshold = DuplicateDetector.defaultThreshold
        let t = DuplicateDetector.thumbnail(a)
        XCTAssertEqual(t.width, 160)
        XCTAssertEqual(t.height, 90)
        XCTAssertEqual(DuplicateDetector.score(t, t), 0)
        // A frame printed lighter (flicker) is still the same picture.
        XCTAssertLessThan(DuplicateDetector.score(t, DuplicateDetector.thumbnail(pattern(width: 640, height: 360, brightness: 0.05))), threshold)
        // Two pixels of motion is a new picture.
        XCTAssertGreaterThan(DuplicateDetector.score(t, DuplicateDetector.thumbnail(pattern(width: 640, height: 360, shift: 2))), threshold)
        // Another size cannot be the same picture.
        XCTAssertEqual(DuplicateDetector.score(t, DuplicateDetector.thumbnail(pattern(width: 300, height: 170))), .infinity)
    }

    func testRealFootageSlowMotionIsNotADuplicate() throws {
        // balle1 (187 fps): decoded frames 0…4 repeat one picture (the file has no packets for them); the rest moves a little.
        let path = try Fixtures.requireFootage("video/balle1-vp9.avi")
        let reader = try ConstantRateReader(path: path)
        let converter = PixelConverter()
        var thumbnails: [DuplicateDetector.Thumbnail] = []
        while thumbnails.count < 40, let frame = try reader.next() { thumbnails.append(DuplicateDetector.thumbnail(try converter.rgbImage(from: frame.picture))) }
        let scores = zip(thumbnails, thumbnails.dropFirst()).map { DuplicateDetector.score($0, $1) }
        XCTAssertEqual(Array(scores[0..<4]), [0, 0, 0, 0], "\(scores)")
        let moving = scores[6...]
        XCTAssertGreaterThan(moving.min()!, 2 * DuplicateDetector.defaultThreshold, "\(scores)")
    }
}
