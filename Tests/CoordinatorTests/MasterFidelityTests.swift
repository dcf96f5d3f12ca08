import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// Issue 13, the lossless master: an FFV1 master keeps the source's depth and chroma by default, and a 16-bit
/// picture survives the whole path (segment input, worker result, stitch, master) in process and on the farm.
final class MasterFidelityTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("fidelity") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private static let side = 128

    /// A smooth 16-bit RGB gradient: R = 512x + 4y, G = 512y + 4x, B = 65535 − R. 16384 distinct levels per
    /// channel (14 bits), a plane in both directions, so resampling it makes no overshoot inside the picture.
    private static func gradient(_ c: Int, _ y: Int, _ x: Int) -> Int {
        switch c {
        case 0: return 512 * x + 4 * y
        case 1: return 512 * y + 4 * x
        default: return 65535 - (512 * x + 4 * y)
        }
    }

    /// The gradient as a 16-bit PNG (rgb48be), written with the ffmpeg CLI from raw samples.
    private func gradientPNG() throws -> String {
        let n = MasterFidelityTests.side
        var raw = Data(capacity: n * n * 6)
        for y in 0..<n { for x in 0..<n { for c in 0..<3 {
            let v = UInt16(MasterFidelityTests.gradient(c, y, x))
            raw.append(UInt8(v & 0xff)); raw.append(UInt8(v >> 8))
        } } }
        let rawURL = dir.appendingPathComponent("gradient.rgb48le")
        try raw.write(to: rawURL)
        let png = dir.appendingPathComponent("gradient16.png").path
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s", "\(n)x\(n)", "-i", rawURL.path,
                                    "-c:v", "png", "-pix_fmt", "rgb48be", png])
        return png
    }

    /// The first frame of `path` as 16-bit R, G, B planes (FFmpeg's conversion, the oracle).
    private func rgb16(_ path: String) throws -> (width: Int, height: Int, planes: [[UInt16]]) {
        let video = try Fixtures.probe(path, stream: "v:0")
        let w = try XCTUnwrap(Int(video["width"] ?? "")), h = try XCTUnwrap(Int(video["height"] ?? ""))
        let out = dir.appendingPathComponent("frame.gbrp16le").path
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gbrp16le", out])
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        let words = data.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }.map { UInt16(littleEndian: $0) }
        let plane = w * h
        // gbrp: G, B, R.
        return (w, h, [Array(words[2 * plane..<3 * plane]), Array(words[0..<plane]), Array(words[plane..<2 * plane])])
    }

    private func restore(_ input: String, _ name: String, scale: Int = 1, pixelFormat: String? = nil, farm: Bool) throws -> String {
        let output = dir.appendingPathComponent(name).path
        let settings = RestoreSettings(input: input, output: output, geometry: .scale(scale), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .ffv1, pixelFormat: pixelFormat), threads: 2, quiet: true)
        if farm {
            try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
            let options = FarmOptions(localWorkers: 1, threadsPerWorker: 2, jobDirectory: dir.appendingPathComponent("job-\(name)").path)
            try FarmRestorePipeline(settings: settings, options: options, warn: { _ in }).run()
        } else {
            try RestorePipeline(settings: settings, warn: { _ in }).run()
        }
        return output
    }

    func testSixteenBitGradientComesBackExactAtScale1() throws {
        let png = try gradientPNG()
        for (farm, pixelFormat) in [(false, nil), (true, nil), (true, "gbrp16le")] as [(Bool, String?)] {
            let label = "\(farm ? "farm" : "in-process"), --pixel-format \(pixelFormat ?? "default")"
            let out = try restore(png, "x1-\(farm)-\(pixelFormat ?? "default").mkv", pixelFormat: pixelFormat, farm: farm)
            XCTAssertEqual(try Fixtures.probe(out, stream: "v:0")["pix_fmt"], "gbrp16le", "\(label): a 16-bit RGB source gives a 16-bit RGB master")
            let (w, h, planes) = try rgb16(out)
            XCTAssertEqual(w, MasterFidelityTests.side)
            XCTAssertEqual(h, MasterFidelityTests.side)
            for c in 0..<3 {
                var worst = 0
                for y in 0..<h { for x in 0..<w { worst = max(worst, abs(Int(planes[c][y * w + x]) - MasterFidelityTests.gradient(c, y, x))) } }
                // 10-bit results would be up to 32 off (measured before: 470 with gbrp16le on the farm, 537 with the yuv420p default).
                XCTAssertLessThanOrEqual(worst, 1, "\(label): channel \(c) is off by \(worst)/65535")
                XCTAssertEqual(Set(planes[c]).count, 16384, "\(label): channel \(c) lost levels")
            }
        }
    }

    func testSixteenBitGradientKeepsMoreThanTenBitsAtScale2OnTheFarm() throws {
        let out = try restore(try gradientPNG(), "x2-farm.mkv", scale: 2, farm: true)
        XCTAssertEqual(try Fixtures.probe(out, stream: "v:0")["pix_fmt"], "gbrp16le")
        let planes = try rgb16(out).planes
        for c in 0..<3 { XCTAssertGreaterThan(Set(planes[c]).count, 4 * 1024, "channel \(c): more than 10 bits of distinct levels") }
    }

    func testTenBit422SourceGivesATenBit422MasterByDefault() throws {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        let prores = dir.appendingPathComponent("bikes-prores.mov").path
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", bikes, "-frames:v", "10", "-c:v", "prores_ks", "-profile:v", "2",
                                    "-pix_fmt", "yuv422p10le", "-an", prores])
        for farm in [false, true] {
            let out = try restore(prores, "prores-\(farm).mkv", scale: 2, farm: farm)
            let video = try Fixtures.probe(out, stream: "v:0")
            XCTAssertEqual(video["pix_fmt"], "yuv422p10le", farm ? "farm" : "in-process")
            XCTAssertEqual(video["width"], "1280")
            XCTAssertEqual(video["nb_read_frames"], "10")
        }
    }
}
