import Media
import Shared
import XCTest

/// The fidelity rules for pixel formats, and exact conversion of deep RGB.
final class PixelFormatTests: XCTestCase {
    func testLosslessFFV1FormatKeepsDepthAndChroma() {
        XCTAssertEqual(PixelFormats.ffv1Lossless(for: "yuv420p"), "yuv420p")
        XCTAssertEqual(PixelFormats.ffv1Lossless(for: "yuvj420p"), "yuv420p")
        XCTAssertEqual(PixelFormats.ffv1Lossless(for: "yuv422p10le"), "yuv422p10le")
        XCTAssertEqual(PixelFormats.ffv1Lossless(for: "yuv444p12le"), "yuv444p12le")
        XCTAssertEqual(PixelFormats.ffv1Lossless(for: "gbrp16le"), "gbrp16le")
        XCTAssertEqual(PixelFormats.ffv1Lossless(for: "gray16be"), "gray16le")
        XCTAssertEqual(PixelFormats.ffv1Lossless(for: "nv12"), "yuv420p")
        XCTAssertEqual(PixelFormats.ffv1Lossless(for: "gray"), "gray")
        // Formats FFV1 does not code go to one that loses neither depth nor chroma (and drops alpha).
        for (native, depth) in [("rgb48be", 16), ("rgba64be", 16), ("yuv422p10be", 10), ("p010le", 10), ("rgb24", 8), ("pal8", 8), ("bgr24", 8)] {
            let chosen = PixelFormats.ffv1Lossless(for: native)
            XCTAssertEqual(PixelFormats.depth(of: chosen), depth, "\(native) → \(chosen)")
            XCTAssertFalse(chosen.contains("a"), "\(native) → \(chosen) keeps alpha")
        }
    }

    func testIntermediatesAreFinerThanTheOutput() {
        XCTAssertEqual(PixelFormats.intermediate(forOutput: "yuv420p"), "gbrp10le")
        XCTAssertEqual(PixelFormats.intermediate(forOutput: "yuv422p10le"), "gbrp12le")
        XCTAssertEqual(PixelFormats.intermediate(forOutput: "yuv444p12le"), "gbrp14le")
        XCTAssertEqual(PixelFormats.intermediate(forOutput: "gbrp16le"), "gbrp16le")
        XCTAssertEqual(PixelFormats.intermediate(forOutput: "yuv420p9le"), "gbrp12le")
    }

    /// Every 16-bit value through float and back, in the planar and the packed big-endian layout.
    func testSixteenBitRGBConvertsExactly() throws {
        let converter = PixelConverter()
        let color = ColorDescription.defaultFor(height: 256)
        for format in ["gbrp16le", "rgb48be", "gbrp10le"] {
            let depth = try XCTUnwrap(PixelFormats.depth(of: format))
            let maximum = Float((1 << depth) - 1)
            var image = RGBImage(width: 256, height: 256)
            for i in 0..<(256 * 256) {
                image.pixels[i] = Float(i % (1 << depth)) / maximum
                image.pixels[65536 + i] = Float((i * 7) % (1 << depth)) / maximum
                image.pixels[2 * 65536 + i] = 1 - image.pixels[i]
            }
            let picture = try converter.picture(from: image, pixelFormat: format, color: color)
            let back = try converter.rgbImage(from: picture)
            var worst: Float = 0
            for (a, b) in zip(image.pixels, back.pixels) { worst = max(worst, abs(a - b) * maximum) }
            XCTAssertLessThan(worst, 0.01, "\(format): off by \(worst) steps")
        }
    }
}
