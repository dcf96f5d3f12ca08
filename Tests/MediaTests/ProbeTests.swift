import Media
import Shared
import TestSupport
import XCTest

final class ProbeTests: XCTestCase {
    func testProbesRealFootageWithExactRationals() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let info = try MediaInput(path: pens).info
        let video = try XCTUnwrap(info.videoStreams.first)
        XCTAssertEqual(video.codec, "h264")
        XCTAssertEqual(video.size, PixelSize(width: 176, height: 144))
        XCTAssertEqual(video.timeBase, Rational(1, 90000))
        XCTAssertEqual(video.baseFrameRate, Rational(179, 6))
        XCTAssertEqual(video.averageFrameRate, Rational(2_880_000, 97_649))
        XCTAssertEqual(video.declaredFrameCount, 64)
        XCTAssertEqual(info.audioStreams.first?.codec, "aac")
        XCTAssertEqual(info.audioStreams.first?.sampleRate, 48000)

        let film = try XCTUnwrap(Fixtures.footage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv"))
        let filmInfo = try MediaInput(path: film).info
        XCTAssertEqual(filmInfo.container, "ogg")
        XCTAssertEqual(filmInfo.duration, Rational(96, 5))
        XCTAssertEqual(filmInfo.videoStreams.first?.codec, "theora")
        XCTAssertEqual(filmInfo.videoStreams.first?.baseFrameRate, Rational(15))
    }

    /// Every container/codec pair the issue names opens, reports its size and rate, and decodes every frame.
    func testOpensAndDecodesTheCommonFormats() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, [String])] = [
            ("h264.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
            ("h264.mkv", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
            ("mpeg4.avi", ["-c:v", "mpeg4", "-q:v", "3"]),
            ("mjpeg.mov", ["-c:v", "mjpeg", "-pix_fmt", "yuvj422p"]),
            ("mpeg2.mpg", ["-c:v", "mpeg2video", "-q:v", "3"]),
            ("theora.ogv", ["-c:v", "libtheora", "-q:v", "7"]),
            ("vp9.webm", ["-c:v", "libvpx-vp9", "-b:v", "200k", "-deadline", "realtime"]),
        ]
        for (name, codec) in cases {
            let path = dir.appendingPathComponent(name).path
            try Fixtures.syntheticClip(at: path, seconds: 1, size: "160x120", rate: "25", videoCodec: codec)
            let reader = try ConstantRateReader(path: path)
            XCTAssertEqual(reader.stream.size, PixelSize(width: 160, height: 120), name)
            XCTAssertEqual(reader.rate, Rational(25), name)
            var count = 0
            while let frame = try reader.next() {
                XCTAssertEqual(frame.picture.width, 160, name)
                count += 1
            }
            XCTAssertEqual(count, 25, "\(name): frames")
        }
    }

    func testConvertsToFloatRGBAndBack() throws {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        let reader = try ConstantRateReader(path: bikes)
        for _ in 0..<30 { _ = try reader.next() }
        let frame = try XCTUnwrap(try reader.next())
        let converter = PixelConverter()
        let rgb = try converter.rgbImage(from: frame.picture)
        XCTAssertEqual(rgb.size, PixelSize(width: 640, height: 272))
        XCTAssertGreaterThanOrEqual(rgb.pixels.min()!, -0.01)
        XCTAssertLessThanOrEqual(rgb.pixels.max()!, 1.01)
        XCTAssertGreaterThan(rgb.pixels.max()! - rgb.pixels.min()!, 0.5, "a real frame has contrast")
        let back = try converter.picture(from: rgb, pixelFormat: frame.picture.pixelFormat, color: frame.picture.color)
        // 8-bit YUV → float RGB → 8-bit YUV stays within rounding of the original for in-gamut (real) pictures.
        var total = 0, within2 = 0
        for (a, b) in zip(back.data, frame.picture.data) {
            let d = abs(Int(a) - Int(b))
            total += d
            if d <= 2 { within2 += 1 }
        }
        XCTAssertLessThan(Double(total) / Double(back.data.count), 0.75)
        XCTAssertGreaterThan(Double(within2) / Double(back.data.count), 0.99)
    }
}
