// Input frames for the benchmark: real pictures as float tensors, and the LTEN files handed to ncnn.
import Foundation
import Inference

/// An 8-bit RGB picture, rows top to bottom, pixels interleaved.
struct RGBFrame {
    let width: Int, height: Int
    let bytes: [UInt8]
}

enum FrameError: Error, CustomStringConvertible {
    case unreadable(String), badPPM(String, String), tooSmall(String, Int, Int, Int, Int)
    var description: String {
        switch self {
        case .unreadable(let p): return "cannot read picture \(p) (a .ppm is read directly; anything else needs the ffmpeg CLI on PATH)"
        case .badPPM(let p, let why): return "\(p) is not a binary PPM the bench reads (\(why)); write one with ffmpeg -i IN -frames:v 1 -pix_fmt rgb24 OUT.ppm"
        case .tooSmall(let p, let w, let h, let cw, let ch): return "\(p) is \(w)x\(h), smaller than the \(cw)x\(ch) crop asked for; pass a smaller --size or a bigger picture"
        }
    }
}

/// Parses a binary PPM (P6, maxval 255): the one format the bench decodes itself, so that it runs
/// where there is no ffmpeg CLI (the GPU machine). Sizes are limited to 16384 per side.
func parsePPM(_ data: Data, name: String) throws -> RGBFrame {
    let b = [UInt8](data)
    var i = 0
    func token() throws -> Int? {
        while i < b.count {  // whitespace and # comments
            if b[i] == UInt8(ascii: "#") { while i < b.count && b[i] != 10 { i += 1 } } else if b[i] <= 32 { i += 1 } else { break }
        }
        let start = i
        while i < b.count && b[i] > 32 && i - start < 8 { i += 1 }
        guard i > start else { throw FrameError.badPPM(name, "header ends early") }
        let s = String(decoding: b[start..<i], as: UTF8.self)
        return s == "P6" ? nil : Int(s)
    }
    guard b.count > 2, b[0] == UInt8(ascii: "P"), b[1] == UInt8(ascii: "6"), try token() == nil else { throw FrameError.badPPM(name, "no P6 magic") }
    guard let w = try token(), let h = try token(), let maxval = try token() else { throw FrameError.badPPM(name, "header is not numeric") }
    guard (1...16384).contains(w), (1...16384).contains(h) else { throw FrameError.badPPM(name, "size \(w)x\(h) is outside 1...16384") }
    guard maxval == 255 else { throw FrameError.badPPM(name, "maxval \(maxval), only 255 is read") }
    i += 1  // the single whitespace byte after maxval
    guard b.count - i >= w * h * 3 else { throw FrameError.badPPM(name, "\(b.count - i) pixel bytes, expected \(w * h * 3)") }
    return RGBFrame(width: w, height: h, bytes: Array(b[i..<(i + w * h * 3)]))
}

/// Reads a picture: a .ppm directly, anything else decoded to PPM by the ffmpeg CLI (a benchmark
/// baseline tool, never the product).
func loadFrame(_ url: URL) throws -> RGBFrame {
    if url.pathExtension.lowercased() == "ppm" {
        guard let d = FileManager.default.contents(atPath: url.path) else { throw FrameError.unreadable(url.path) }
        return try parsePPM(d, name: url.path)
    }
    guard let d = try? runTool("ffmpeg", ["-v", "error", "-i", url.path, "-frames:v", "1", "-f", "image2pipe", "-vcodec", "ppm", "-pix_fmt", "rgb24", "-"]) else {
        throw FrameError.unreadable(url.path)
    }
    return try parsePPM(d, name: url.path)
}

/// The centred w × h crop as a 3 × h × w tensor in [0, 1].
func centreCrop(_ f: RGBFrame, width w: Int, height h: Int, name: String) throws -> Tensor {
    guard w <= f.width, h <= f.height else { throw FrameError.tooSmall(name, f.width, f.height, w, h) }
    let x0 = (f.width - w) / 2, y0 = (f.height - h) / 2
    var v = [Float](repeating: 0, count: 3 * w * h)
    for y in 0..<h { for x in 0..<w { for c in 0..<3 {
        v[c * w * h + y * w + x] = Float(f.bytes[((y0 + y) * f.width + x0 + x) * 3 + c]) / 255
    } } }
    return try Tensor(channels: 3, height: h, width: w, values: v)
}

/// `t` zero-padded on the right and bottom to multiples of `m` (RIFE needs 32 or 64).
func padded(_ t: Tensor, multiple m: Int) throws -> Tensor {
    let pw = (t.width + m - 1) / m * m, ph = (t.height + m - 1) / m * m
    if pw == t.width && ph == t.height { return t }
    var v = [Float](repeating: 0, count: t.channels * pw * ph)
    t.withUnsafeValues { src in
        for c in 0..<t.channels { for y in 0..<t.height { for x in 0..<t.width {
            v[(c * ph + y) * pw + x] = src[(c * t.height + y) * t.width + x]
        } } }
    }
    return try Tensor(channels: t.channels, height: ph, width: pw, values: v)
}

/// A constant plane (RIFE's timestep input in2).
func plane(_ value: Float, width: Int, height: Int) throws -> Tensor {
    try Tensor(channels: 1, height: height, width: width, values: [Float](repeating: value, count: width * height))
}

/// The LTEN file format shared with the Python scripts: "LTEN", dims, c, h, w (int32 LE), float32 values.
func writeLTEN(_ t: Tensor, _ url: URL) throws {
    var d = Data("LTEN".utf8)
    for v in [Int32(3), Int32(t.channels), Int32(t.height), Int32(t.width)] { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    t.withUnsafeValues { d.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
    try d.write(to: url)
}

func readLTEN(_ url: URL) throws -> Tensor {
    guard let d = FileManager.default.contents(atPath: url.path), d.count >= 20, d.prefix(4) == Data("LTEN".utf8) else {
        throw FrameError.unreadable(url.path)
    }
    let ints = (0..<4).map { k in d.subdata(in: (4 + 4 * k)..<(8 + 4 * k)).withUnsafeBytes { Int(Int32(littleEndian: $0.loadUnaligned(as: Int32.self))) } }
    let (c, h, w) = (ints[1], ints[2], ints[3])
    guard c > 0, h > 0, w > 0, d.count - 20 == 4 * c * h * w else { throw FrameError.unreadable(url.path) }
    var v = [Float](repeating: 0, count: c * h * w)
    _ = v.withUnsafeMutableBytes { d.copyBytes(to: $0, from: 20..<d.count) }
    return try Tensor(channels: c, height: h, width: w, values: v)
}

/// Largest absolute difference and PSNR (peak 1) between two tensors of the same shape.
func compare(_ a: Tensor, _ b: Tensor) -> (maxAbs: Double, psnr: Double)? {
    guard a.channels == b.channels, a.height == b.height, a.width == b.width else { return nil }
    var maxAbs = 0.0, sq = 0.0, n = 0
    a.withUnsafeValues { x in b.withUnsafeValues { y in
        n = x.count
        for i in 0..<x.count { let d = Double(x[i]) - Double(y[i]); maxAbs = max(maxAbs, abs(d)); sq += d * d }
    } }
    let mse = sq / Double(max(n, 1))
    return (maxAbs, mse == 0 ? .infinity : 10 * log10(1 / mse))
}
