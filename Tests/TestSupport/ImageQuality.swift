import Foundation
import Shared

/// Scores for the restoration oracle.
public enum ImageQuality {
    /// PSNR in dB over R, G, B (values in [0, 1]), ignoring `margin` pixels at every edge (the stabilised frames'
    /// replicated border is not picture). Identical frames: +infinity.
    public static func psnr(_ a: RGBImage, _ b: RGBImage, margin: Int = 0) -> Double {
        precondition(a.size == b.size, "psnr: sizes differ")
        let n = a.planeCount
        var sum = 0.0, count = 0
        for c in 0..<3 {
            for y in margin..<(a.height - margin) {
                for x in margin..<(a.width - margin) {
                    let d = Double(a.pixels[c * n + y * a.width + x] - b.pixels[c * n + y * a.width + x])
                    sum += d * d; count += 1
                }
            }
        }
        return sum == 0 ? .infinity : 10 * log10(Double(count) / sum)
    }

    /// Mean PSNR over frame pairs, each frame's PSNR capped at 99 dB (an untouched frame would make it infinite).
    public static func meanPSNR(_ a: [RGBImage], _ b: [RGBImage], margin: Int = 0) -> Double {
        zip(a, b).map { min(99, psnr($0, $1, margin: margin)) }.reduce(0, +) / Double(a.count)
    }

    /// SSIM of the luma (Wang et al. 2004 constants), 8×8 windows on a 4-pixel grid, `margin` ignored.
    public static func ssim(_ a: RGBImage, _ b: RGBImage, margin: Int = 0) -> Double {
        let n = a.planeCount, w = a.width
        func luma(_ f: RGBImage, _ i: Int) -> Double { 0.299 * Double(f.pixels[i]) + 0.587 * Double(f.pixels[n + i]) + 0.114 * Double(f.pixels[2 * n + i]) }
        let c1 = 0.0001, c2 = 0.0009   // (0.01·1)², (0.03·1)²
        var total = 0.0, windows = 0
        var y = margin
        while y + 8 <= a.height - margin {
            var x = margin
            while x + 8 <= a.width - margin {
                var sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0
                for yy in y..<(y + 8) {
                    for xx in x..<(x + 8) {
                        let u = luma(a, yy * w + xx), v = luma(b, yy * w + xx)
                        sa += u; sb += v; saa += u * u; sbb += v * v; sab += u * v
                    }
                }
                let ma = sa / 64, mb = sb / 64
                let va = saa / 64 - ma * ma, vb = sbb / 64 - mb * mb, cov = sab / 64 - ma * mb
                total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
                windows += 1
                x += 4
            }
            y += 4
        }
        return total / Double(max(1, windows))
    }

    public static func meanSSIM(_ a: [RGBImage], _ b: [RGBImage], margin: Int = 0) -> Double {
        zip(a, b).map { ssim($0, $1, margin: margin) }.reduce(0, +) / Double(a.count)
    }

    /// Pixel precision (found ∩ painted / found) and recall (found ∩ visible / visible) of defect masks.
    public static func maskScores(found: [[Bool]], painted: [[Bool]], visible: [[Bool]]) -> (precision: Double, recall: Double) {
        var f = 0, fp = 0, v = 0, vf = 0
        for k in found.indices {
            for i in found[k].indices {
                if found[k][i] { f += 1; if painted[k][i] { fp += 1 } }
                if visible[k][i] { v += 1; if found[k][i] { vf += 1 } }
            }
        }
        return (f == 0 ? 1 : Double(fp) / Double(f), v == 0 ? 1 : Double(vf) / Double(v))
    }
}

/// Real footage as float frames, and FFmpeg's CLI filters as baselines (benchmarks and tests only, never the product).
public enum FootageFrames {
    /// `count` frames from `start`, scaled to `width` (height even, aspect kept), as 8-bit RGB decoded by ffmpeg.
    public static func load(_ path: String, start: Int, count: Int, width: Int) throws -> [RGBImage] {
        let probe = try Fixtures.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                                                "-of", "csv=p=0", path]).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
        guard probe.count == 2, let sw = Double(probe[0]), let sh = Double(probe[1]) else { throw FixtureError.toolFailed("ffprobe \(path): \(probe)") }
        let height = Int((sh / sw * Double(width) / 2).rounded()) * 2
        let data = try Fixtures.runData("ffmpeg", ["-v", "error", "-i", path, "-vf",
                                                   "select='between(n\\,\(start)\\,\(start + count - 1))',scale=\(width):\(height):flags=area",
                                                   "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        return frames(fromRGB24: data, width: width, height: height)
    }

    public static func frames(fromRGB24 data: Data, width: Int, height: Int) -> [RGBImage] {
        let bytes = [UInt8](data), n = width * height
        return stride(from: 0, to: bytes.count - 3 * n + 1, by: 3 * n).map { base in
            var pixels = [Float](repeating: 0, count: 3 * n)
            for i in 0..<n { for c in 0..<3 { pixels[c * n + i] = Float(bytes[base + 3 * i + c]) / 255 } }
            return RGBImage(width: width, height: height, pixels: pixels)
        }
    }

    public static func rgb24(_ frames: [RGBImage]) -> Data {
        var out = [UInt8]()
        for f in frames {
            let n = f.planeCount
            for i in 0..<n { for c in 0..<3 { out.append(UInt8((min(1, max(0, f.pixels[c * n + i])) * 255).rounded())) } }
        }
        return Data(out)
    }

    /// Frames through an FFmpeg filter graph (lossless raw in and out). `passes` run in order on the same input,
    /// each with `{tmp}` in the graph replaced by a scratch folder (for vidstab's two passes); the last pass's output returns.
    public static func ffmpeg(_ frames: [RGBImage], passes: [String]) throws -> [RGBImage] {
        let dir = try Fixtures.temporaryDirectory("film-baseline")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.rgb"), output = dir.appendingPathComponent("out.rgb")
        try rgb24(frames).write(to: input)
        let w = frames[0].width, h = frames[0].height
        for graph in passes {
            try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(w)x\(h)", "-r", "25",
                                        "-i", input.path, "-vf", graph.replacingOccurrences(of: "{tmp}", with: dir.path),
                                        "-f", "rawvideo", "-pix_fmt", "rgb24", output.path])
        }
        return FootageFrames.frames(fromRGB24: try Data(contentsOf: output), width: w, height: h)
    }
}
