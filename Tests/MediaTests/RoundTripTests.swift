import Media
import Shared
import TestSupport
import XCTest

final class RoundTripTests: XCTestCase {
    /// decode → encode FFV1 → decode gives bit-identical frames (on real footage).
    func testFFV1RoundTripIsBitExact() throws {
        let source = try Fixtures.requireFootage("video/bikes.mp4")
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let master = dir.appendingPathComponent("master.mkv").path

        let reader = try ConstantRateReader(path: source)
        var originals: [VideoPicture] = []
        var writer: MediaWriter?
        while let frame = try reader.next(), originals.count < 40 {
            if writer == nil {
                writer = try MediaWriter(path: master, video: .init(size: PixelSize(width: frame.picture.width, height: frame.picture.height),
                                                                     rate: reader.rate, encoding: VideoEncoding(codec: .ffv1, pixelFormat: frame.picture.pixelFormat),
                                                                     color: frame.picture.color))
            }
            try writer!.write(frame.picture)
            originals.append(frame.picture)
        }
        try writer!.finish()

        let back = try ConstantRateReader(path: master)
        XCTAssertEqual(back.stream.codec, "ffv1")
        XCTAssertEqual(back.rate, Rational(25))
        var index = 0
        while let frame = try back.next() {
            XCTAssertLessThan(index, originals.count)
            XCTAssertEqual(frame.picture.pixelFormat, originals[index].pixelFormat)
            XCTAssertTrue(frame.picture.data == originals[index].data, "frame \(index) differs after the FFV1 round trip")
            index += 1
        }
        XCTAssertEqual(index, originals.count)
    }
}
