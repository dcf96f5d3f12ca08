import Foundation
import Processors
import Shared
import TestSupport
import XCTest

/// RIFE v4.0 / v4.25 and the blend baseline on real frames (decoded with the ffmpeg CLI, test-only).
final class RIFEInterpolatorTests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var models: URL { get throws { try ModelLocator.modelsDirectory(currentDirectory: Self.repoRoot) } }
    /// The shared footage (frame pairs, balle1): a skip without it, a failure in CI.
    var footage: URL { get throws { _ = try Fixtures.requireFootage("framepairs/rubberwhale1.png"); return Fixtures.footage } }

    /// Decodes frames with ffmpeg to raw RGB24 (`filter` selects/crops), split into `width`×`height` images.
    func decode(_ file: URL, filter: String, width: Int, height: Int) throws -> [RGBImage] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-v", "error", "-i", file.path, "-vf", filter, "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "ffmpeg failed on \(file.path)")
        let frame = width * height * 3
        guard frame > 0, data.count % frame == 0, !data.isEmpty else {
            throw RIFEInterpolator.ConfigurationError.invalidSetting("ffmpeg gave \(data.count) bytes, not a multiple of \(frame)")
        }
        return stride(from: 0, to: data.count, by: frame).map { base in
            var img = RGBImage(width: width, height: height)
            for y in 0..<height { for x in 0..<width { for c in 0..<3 {
                img[c, y, x] = Float(data[base + (y * width + x) * 3 + c]) / 255
            } } }
            return img
        }
    }

    func pair(_ stem: String, width: Int, height: Int) throws -> (RGBImage, RGBImage) {
        let crop = "crop=\(width):\(height):150:100"
        let a = try decode((try footage).appendingPathComponent("framepairs/\(stem)1.png"), filter: crop, width: width, height: height)
        let b = try decode((try footage).appendingPathComponent("framepairs/\(stem)2.png"), filter: crop, width: width, height: height)
        return (a[0], b[0])
    }

    func meanAbs(_ a: RGBImage, _ b: RGBImage) -> Double {
        zip(a.pixels, b.pixels).reduce(0) { $0 + Double(abs($1.0 - $1.1)) } / Double(a.pixels.count)
    }

    func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
        let mse = zip(a.pixels, b.pixels).reduce(0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(a.pixels.count)
        return 10 * log10(1 / max(mse, 1e-12))
    }

    func testSizeDeterminismAndSmallTOnRealPairs() throws {
        // 100x70 is not a multiple of 32 or 64: exercises padding and cropping back.
        let (a, b) = try pair("basketball", width: 100, height: 70)
        for name in ["rife-v4.0", "rife-v4.25"] {
            let rife = try RIFEInterpolator(modelName: name, threads: 2, modelsDirectory: try models)
            XCTAssertEqual(rife.name, name)
            let mid = try rife.interpolate(a, b, at: 0.5)
            XCTAssertEqual(mid.size, a.size)
            XCTAssertTrue(mid.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            XCTAssertEqual(try rife.interpolate(a, b, at: 0.5), mid, "\(name) not deterministic")
            XCTAssertGreaterThan(meanAbs(mid, a), 1e-3, "\(name) t=0.5 copied the first frame")
            let early = try rife.interpolate(a, b, at: 0.02)
            XCTAssertLessThan(meanAbs(early, a), meanAbs(early, b) / 3, "\(name) t=0.02 is not near the first frame")
            let late = try rife.interpolate(a, b, at: 0.98)
            XCTAssertLessThan(meanAbs(late, b), meanAbs(late, a) / 3, "\(name) t=0.98 is not near the second frame")
        }
    }

    func testRejectsBadInputs() throws {
        XCTAssertThrowsError(try RIFEInterpolator(modelName: "rife-v9", modelsDirectory: try models))
        let rife = try RIFEInterpolator(modelName: "rife-v4.0", modelsDirectory: try models)
        let a = RGBImage(width: 8, height: 8), b = RGBImage(width: 9, height: 8)
        XCTAssertThrowsError(try rife.interpolate(a, b, at: 0.5))
        XCTAssertThrowsError(try rife.interpolate(a, a, at: 0))
        XCTAssertThrowsError(try rife.interpolate(a, a, at: 1.5))
        XCTAssertThrowsError(try BlendInterpolator().interpolate(a, b, at: 0.5))
    }

    func testBlendIsTheCrossfade() throws {
        let (a, b) = try pair("rubberwhale", width: 40, height: 30)
        let m = try BlendInterpolator().interpolate(a, b, at: 0.25)
        for i in stride(from: 0, to: a.pixels.count, by: 97) {
            XCTAssertEqual(m.pixels[i], 0.75 * a.pixels[i] + 0.25 * b.pixels[i], accuracy: 1e-6)
        }
    }

    /// balle1 is 187 fps: frame k+2 rebuilt from k and k+4 must beat the crossfade.
    func testRebuildsRealMotionBetterThanBlend() throws {
        let video = (try footage).appendingPathComponent("video/balle1-vp9.avi")
        let ks = [40, 150, 250]
        let select = "select='" + ks.flatMap { [$0, $0 + 2, $0 + 4] }.map { "eq(n\\,\($0))" }.joined(separator: "+") + "'"
        let frames = try decode(video, filter: select, width: 320, height: 240)
        XCTAssertEqual(frames.count, 3 * ks.count)
        for name in ["rife-v4.0", "rife-v4.25"] {
            let rife = try RIFEInterpolator(modelName: name, threads: 2, modelsDirectory: try models)
            for i in 0..<ks.count {
                let a = frames[3 * i], truth = frames[3 * i + 1], b = frames[3 * i + 2]
                let r = psnr(try rife.interpolate(a, b, at: 0.5), truth)
                let bl = psnr(try BlendInterpolator().interpolate(a, b, at: 0.5), truth)
                print("RIFEInterpolatorTests: balle1 k=\(ks[i]) \(name) PSNR \(r) dB, blend \(bl) dB")
                XCTAssertGreaterThan(r, bl, "\(name) at frame \(ks[i] + 2)")
            }
        }
    }
    /// Reads an LTEN file (scripts/ncnn_reference format: 'LTEN', dims, c, h, w, float32 values) as 3 planes.
    func readImage(_ path: String) throws -> RGBImage {
        let d = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        func int(_ o: Int) -> Int { Int(Int32(bitPattern: UInt32(d[o]) | UInt32(d[o + 1]) << 8 | UInt32(d[o + 2]) << 16 | UInt32(d[o + 3]) << 24)) }
        guard d.count >= 20, d[0..<4] == [76, 84, 69, 78], int(8) == 3, d.count == 20 + 12 * int(12) * int(16) else {
            throw RIFEInterpolator.ConfigurationError.invalidSetting("\(path) is not a 3-channel LTEN file")
        }
        let values = d[20...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return RGBImage(width: int(16), height: int(12), pixels: values)
    }

    /// The whole interpolator (padding, timestep plane, our rife.Warp, cropping) against ncnn with a
    /// numpy warp, on the full real frame pairs at t = 0.5 and 0.3 (scripts/rife/ncnn_full_frames.py).
    func testMatchesNcnnOnFullRealFramePairs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-rife-ref-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.repoRoot.appendingPathComponent("scripts/rife/ncnn_full_frames.py").path, dir.path,
                       "--models", try models.path, "--footage", try footage.path]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "reference generator failed (needs python3 with ncnn + numpy, and ffmpeg)")
        struct Entry: Decodable { let name: String, model: String, t: Double, first: String, second: String, out0: String }
        let entries = try JSONDecoder().decode([Entry].self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        XCTAssertEqual(entries.count, 8)
        var nets: [String: RIFEInterpolator] = [:]
        for e in entries {
            let rife = try nets[e.model] ?? RIFEInterpolator(modelName: e.model, threads: 2, modelsDirectory: try models)
            nets[e.model] = rife
            let first = try readImage(e.first), second = try readImage(e.second)
            let got = try rife.interpolate(first, second, at: e.t)
            let want = try readImage(e.out0)
            XCTAssertEqual(got.size, want.size)
            // Ours is clamped to [0, 1]; clamping ncnn's the same way cannot enlarge the difference.
            let err = zip(got.pixels, want.pixels).map { abs($0 - min(max($1, 0), 1)) }.max() ?? .infinity
            print("RIFEInterpolatorTests: \(e.name) \(got.width)x\(got.height) max |ours - ncnn| = \(err)")
            XCTAssertLessThanOrEqual(err, 1e-3, e.name)
        }
    }
    /// Speed vs ncnn on the 640x480 basketball pair (not run by default: LUMIERE_RIFE_BENCH=1; see BENCHMARKS.md).
    func testBenchmarkAgainstNcnn() throws {
        try Fixtures.gate("LUMIERE_RIFE_BENCH", "RIFE speed benchmark")
        let runs = 3
        let base = try footage
        let files = ["basketball1.png", "basketball2.png"].map { base.appendingPathComponent("framepairs/" + $0) }
        let a = try decode(files[0], filter: "null", width: 640, height: 480)[0]
        let b = try decode(files[1], filter: "null", width: 640, height: 480)[0]
        print("| model | threads | ours s/pair | ncnn s/pair (numpy warp) | ncnn s/pair without warp | ratio (ncnn without warp)/ours |")
        for model in ["rife-v4.0", "rife-v4.25"] {
            for threads in [1, 2] {
                let rife = try RIFEInterpolator(modelName: model, threads: threads, modelsDirectory: try models)
                var best = Double.infinity
                for i in 0...runs {  // the first run warms up
                    let start = Date()
                    _ = try rife.interpolate(a, b, at: 0.5)
                    if i > 0 { best = min(best, Date().timeIntervalSince(start)) }
                }
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                p.arguments = ["python3", Self.repoRoot.appendingPathComponent("scripts/rife/ncnn_rife_bench.py").path, try models.path,
                               model, files[0].path, files[1].path, "--threads", "\(threads)", "--runs", "\(runs)"]
                let pipe = Pipe()
                p.standardOutput = pipe
                try p.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                struct Result: Decodable { let total: Double, without_warp: Double }
                let r = try JSONDecoder().decode(Result.self, from: data)
                print(String(format: "| %@ | %d | %.3f | %.3f | %.3f | %.2f× |", model, threads, best, r.total, r.without_warp, r.without_warp / best))
            }
        }
    }
    /// SSIM on luma (BT.601) with 7x7 box windows (integral images), mean over all full windows.
    func ssim(_ a: RGBImage, _ b: RGBImage) -> Double {
        let w = a.width, h = a.height, n = w * h
        func luma(_ im: RGBImage) -> [Double] {
            (0..<n).map { 0.299 * Double(im.pixels[$0]) + 0.587 * Double(im.pixels[n + $0]) + 0.114 * Double(im.pixels[2 * n + $0]) }
        }
        let x = luma(a), y = luma(b)
        func integral(_ f: (Int) -> Double) -> [Double] {
            var s = [Double](repeating: 0, count: (w + 1) * (h + 1))
            for j in 0..<h { for i in 0..<w {
                s[(j + 1) * (w + 1) + i + 1] = f(j * w + i) + s[j * (w + 1) + i + 1] + s[(j + 1) * (w + 1) + i] - s[j * (w + 1) + i]
            } }
            return s
        }
        let sx = integral { x[$0] }, sy = integral { y[$0] }, sxx = integral { x[$0] * x[$0] }
        let syy = integral { y[$0] * y[$0] }, sxy = integral { x[$0] * y[$0] }
        let r = 7, c1 = 0.01 * 0.01, c2 = 0.03 * 0.03, m = Double(r * r)
        var total = 0.0, count = 0
        for j in 0...(h - r) { for i in 0...(w - r) {
            func box(_ s: [Double]) -> Double { (s[(j + r) * (w + 1) + i + r] - s[j * (w + 1) + i + r] - s[(j + r) * (w + 1) + i] + s[j * (w + 1) + i]) / m }
            let mx = box(sx), my = box(sy)
            let vx = box(sxx) - mx * mx, vy = box(syy) - my * my, cxy = box(sxy) - mx * my
            total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
            count += 1
        } }
        return total / Double(count)
    }

    /// Issue 6 quality benchmark (LUMIERE_RIFE_QUALITY=1; see docs/interpolation.md): balle1 (187.35 fps),
    /// keep every 4th frame, rebuild the three between, compare with the real ones.
    /// FFmpeg minterpolate (mci) is measured on the same frames and metrics by scripts/rife/quality_benchmark.py (docs/interpolation.md).
    func testQualityBenchmarkOnBalle1() throws {
        try Fixtures.gate("LUMIERE_RIFE_QUALITY", "RIFE quality benchmark")
        let video = (try footage).appendingPathComponent("video/balle1-vp9.avi")
        let frames = try decode(video, filter: "null", width: 320, height: 240)
        let groups = (frames.count - 1) / 4
        var methods: [(String, (Int, Int) throws -> RGBImage)] = [
            ("blend", { k, i in try BlendInterpolator().interpolate(frames[k], frames[k + 4], at: Double(i) / 4) }),
        ]
        for name in ["rife-v4.0", "rife-v4.25"] {
            let rife = try RIFEInterpolator(modelName: name, threads: 2, modelsDirectory: try models)
            methods.append((name, { k, i in try rife.interpolate(frames[k], frames[k + 4], at: Double(i) / 4) }))
        }
        print("| method | PSNR mean dB | PSNR worst dB | SSIM mean | SSIM worst | frames |")
        for (name, make) in methods {
            var psnrs: [Double] = [], ssims: [Double] = []
            for g in 0..<groups { for i in 1...3 {
                let k = 4 * g
                let img = try make(k, i)
                psnrs.append(psnr(img, frames[k + i])); ssims.append(ssim(img, frames[k + i]))
            } }
            let mean = { (v: [Double]) in v.reduce(0, +) / Double(v.count) }
            print(String(format: "| %@ | %.2f | %.2f | %.4f | %.4f | %d |", name, mean(psnrs), psnrs.min() ?? 0, mean(ssims), ssims.min() ?? 0, psnrs.count))
        }
    }
}
