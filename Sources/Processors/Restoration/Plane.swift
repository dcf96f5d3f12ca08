import Foundation
import Shared

/// One channel of floats, row-major: the luma the restoration stages analyse, and the resampling they share.
public struct Plane: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height, "Plane: \(values.count) values for \(width)x\(height)")
        self.width = width
        self.height = height
        self.values = values
    }

    public init(width: Int, height: Int, fill: Float = 0) {
        self.init(width: width, height: height, values: [Float](repeating: fill, count: width * height))
    }

    /// Rec. 601 luma of a frame (the weights do not matter for matching; they only need to be fixed).
    public init(luma image: RGBImage) {
        let n = image.planeCount
        var v = [Float](repeating: 0, count: n)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<n { v[i] = 0.299 * p[i] + 0.587 * p[n + i] + 0.114 * p[2 * n + i] }
        }
        self.init(width: image.width, height: image.height, values: v)
    }

    @inline(__always) public subscript(x: Int, y: Int) -> Float { values[y * width + x] }

    /// 2×2 box average (odd last row/column dropped): one pyramid level.
    public func half() -> Plane {
        let w = width / 2, h = height / 2
        var out = [Float](repeating: 0, count: w * h)
        values.withUnsafeBufferPointer { p in
            for y in 0..<h {
                let r0 = 2 * y * width, r1 = r0 + width
                for x in 0..<w {
                    out[y * w + x] = 0.25 * (p[r0 + 2 * x] + p[r0 + 2 * x + 1] + p[r1 + 2 * x] + p[r1 + 2 * x + 1])
                }
            }
        }
        return Plane(width: w, height: h, values: out)
    }

    /// Levels from full size down while the smaller side stays ≥ `minimumSide` (level 0 is `self`).
    public func pyramid(minimumSide: Int = 40) -> [Plane] {
        var levels = [self]
        while min(levels.last!.width, levels.last!.height) / 2 >= minimumSide { levels.append(levels.last!.half()) }
        return levels
    }

    /// The plane with its content moved by (dx, dy) pixels: out(x, y) = in(x − dx, y − dy), edges replicated.
    public func translated(dx: Double, dy: Double, kernel: Resampling = .cubic) -> Plane {
        var out = self
        values.withUnsafeBufferPointer { src in
            out.values.withUnsafeMutableBufferPointer { dst in
                Resampling.translate(src, dst, width: width, height: height, dx: dx, dy: dy, kernel: kernel)
            }
        }
        return out
    }
}

/// Sub-pixel translation of whole planes. One shift for every pixel, so the filter taps are the same everywhere and
/// the move is two separable passes (8 multiply-adds a pixel with the cubic) instead of a per-pixel 2-D interpolation.
public enum Resampling: Sendable {
    /// Keys cubic (a = −0.5), 4 taps: the restoration's own resampler (sharper than bilinear, which blurs a 0.5 px
    /// shift to a 2-tap average).
    case cubic
    /// Lanczos, 3 lobes, 6 taps: the synthetic damage uses it, so the benchmark does not undo a shift with its own kernel.
    case lanczos3

    var taps: Int { self == .cubic ? 4 : 6 }

    /// Weights for sampling at integer base + t (t = first tap offset …), fraction f in [0, 1).
    func weights(_ f: Double) -> [Float] {
        let half = taps / 2
        var w = (0..<taps).map { i -> Double in
            let x = abs(Double(i - half + 1) - f)
            switch self {
            case .cubic:
                let a = -0.5
                if x < 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
                if x < 2 { return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a }
                return 0
            case .lanczos3:
                if x < 1e-9 { return 1 }
                if x >= 3 { return 0 }
                let px = Double.pi * x
                return 3 * sin(px) * sin(px / 3) / (px * px)
            }
        }
        let sum = w.reduce(0, +)
        w = w.map { $0 / sum }
        return w.map(Float.init)
    }

    static func translate(_ src: UnsafeBufferPointer<Float>, _ dst: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                          dx: Double, dy: Double, kernel: Resampling) {
        // out(x) = in(x − d): sample position s = x − d = x + k + f with k = floor(−d), f in [0, 1).
        let sx = -dx, sy = -dy
        let kx = Int(sx.rounded(.down)), ky = Int(sy.rounded(.down))
        let wx = kernel.weights(sx - Double(kx)), wy = kernel.weights(sy - Double(ky))
        let taps = kernel.taps, first = 1 - taps / 2
        var tmp = [Float](repeating: 0, count: width * height)
        tmp.withUnsafeMutableBufferPointer { t in
            for y in 0..<height {
                let row = y * width
                for x in 0..<width {
                    var acc: Float = 0
                    let base = x + kx + first
                    if base >= 0 && base + taps <= width {
                        for i in 0..<taps { acc += wx[i] * src[row + base + i] }
                    } else {
                        for i in 0..<taps { acc += wx[i] * src[row + min(width - 1, max(0, base + i))] }
                    }
                    t[row + x] = acc
                }
            }
            for y in 0..<height {
                let base = y + ky + first
                for x in 0..<width { dst[y * width + x] = 0 }
                for i in 0..<taps {
                    let row = min(height - 1, max(0, base + i)) * width, w = wy[i], out = y * width
                    for x in 0..<width { dst[out + x] += w * t[row + x] }
                }
            }
        }
    }
}

extension RGBImage {
    /// The frame with its content moved by (dx, dy) pixels, edges replicated (the stabiliser's border fill).
    public func translated(dx: Double, dy: Double, kernel: Resampling = .cubic) -> RGBImage {
        var out = self
        let n = planeCount
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    Resampling.translate(UnsafeBufferPointer(rebasing: src[(c * n)..<((c + 1) * n)]),
                                         UnsafeMutableBufferPointer(rebasing: dst[(c * n)..<((c + 1) * n)]),
                                         width: width, height: height, dx: dx, dy: dy, kernel: kernel)
                }
            }
        }
        return out
    }

    /// An identity for caches of per-frame analysis: every value, folded into 64 bits (one multiply a value, cheap
    /// beside the analysis it saves).
    var fingerprint: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(width) << 32 ^ UInt64(height)
        pixels.withUnsafeBufferPointer { p in
            for v in p { h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01b3 }
        }
        return h
    }
}
