import Foundation
import Shared

/// A seeded generator (SplitMix64): the same seed gives the same damage on every machine.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(next() >> 11) / Double(1 << 53) }
    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u = max(1e-12, uniform(0, 1)), v = uniform(0, 1)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

/// Known synthetic film damage for the restoration oracle (benchmark and tests): every defect is recorded, so the
/// restored frames can be scored against the clean ones and the detections against the true masks.
public enum FilmDamage {
    /// 8-bit quantisation, as a decoded film would be (every damaged clip goes through it).
    public static func quantised(_ image: RGBImage) -> RGBImage {
        RGBImage(width: image.width, height: image.height, pixels: image.pixels.map { (min(1, max(0, $0)) * 255).rounded() / 255 })
    }

    public struct Flicker { public var frames: [RGBImage]; public var gains: [Double]; public var offsets: [Double] }

    /// Per frame: gain 1 + N(0, gainSpread), offset N(0, offsetSpread), and a left-to-right gain tilt N(0, tilt) (uneven
    /// exposure), applied to R, G, B alike and clipped to [0, 1].
    public static func flicker(_ frames: [RGBImage], seed: UInt64, gainSpread: Double = 0.10, offsetSpread: Double = 0.03,
                               tilt: Double = 0.03) -> Flicker {
        var rng = SeededRandom(seed: seed)
        var gains: [Double] = [], offsets: [Double] = [], out: [RGBImage] = []
        for frame in frames {
            let g = 1 + gainSpread * rng.normal(), o = offsetSpread * rng.normal(), t = tilt * rng.normal()
            gains.append(g); offsets.append(o)
            var f = frame
            let n = f.planeCount
            for c in 0..<3 {
                for y in 0..<f.height {
                    for x in 0..<f.width {
                        let gx = Float(g + t * (Double(x) / Double(f.width) - 0.5))
                        f.pixels[c * n + y * f.width + x] = gx * frame.pixels[c * n + y * f.width + x] + Float(o)
                    }
                }
            }
            out.append(quantised(f))
        }
        return Flicker(frames: out, gains: gains, offsets: offsets)
    }

    public struct Dust {
        public var frames: [RGBImage]
        /// Per frame, per pixel: painted by a defect.
        public var painted: [[Bool]]
        /// Painted and visibly different from the clean frame (luma changed by more than 0.05): what recall counts.
        public var visible: [[Bool]]
    }

    /// `perFrame` defects in every frame, each in that frame only: specks (discs of radius 1–2.5 px), blotches (3–5
    /// overlapping discs of radius 2–5 px) and short scratches (1–2 px wide, 8–30 px long, slanted a little); grey,
    /// 70 % dark (0.02–0.15) and 30 % light (0.85–1.0), hard-edged.
    public static func dust(_ frames: [RGBImage], seed: UInt64, perFrame: Int = 12) -> Dust {
        var rng = SeededRandom(seed: seed)
        var result = Dust(frames: [], painted: [], visible: [])
        for frame in frames {
            let w = frame.width, h = frame.height, n = frame.planeCount
            var paint = [Bool](repeating: false, count: n)
            var value = [Float](repeating: 0, count: n)
            func disc(_ cx: Double, _ cy: Double, _ r: Double, _ v: Float) {
                let y0 = max(0, Int(cy - r)), y1 = min(h - 1, Int(cy + r) + 1), x0 = max(0, Int(cx - r)), x1 = min(w - 1, Int(cx + r) + 1)
                guard y0 <= y1, x0 <= x1 else { return }
                for y in y0...y1 {
                    for x in x0...x1
                    where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= r * r {
                        paint[y * w + x] = true; value[y * w + x] = v
                    }
                }
            }
            for _ in 0..<perFrame {
                let v = Float(rng.uniform(0, 1) < 0.7 ? rng.uniform(0.02, 0.15) : rng.uniform(0.85, 1.0))
                let cx = rng.uniform(4, Double(w - 4)), cy = rng.uniform(4, Double(h - 4))
                switch rng.uniform(0, 3) {
                case ..<1: disc(cx, cy, rng.uniform(1, 2.5), v)
                case ..<2:
                    for _ in 0..<Int(rng.uniform(3, 6)) { disc(cx + rng.uniform(-4, 4), cy + rng.uniform(-4, 4), rng.uniform(2, 5), v) }
                default:
                    let length = rng.uniform(8, 30), slant = rng.uniform(-0.15, 0.15), width = rng.uniform(0.5, 1.0)
                    for s in 0..<Int(length) { disc(cx + slant * Double(s), cy + Double(s) - length / 2, width, v) }
                }
            }
            var damaged = frame
            var visible = [Bool](repeating: false, count: n)
            for i in 0..<n where paint[i] {
                let before = 0.299 * frame.pixels[i] + 0.587 * frame.pixels[n + i] + 0.114 * frame.pixels[2 * n + i]
                for c in 0..<3 { damaged.pixels[c * n + i] = value[i] }
                visible[i] = abs(value[i] - before) > 0.05
            }
            result.frames.append(quantised(damaged))
            result.painted.append(paint)
            result.visible.append(visible)
        }
        return result
    }

    public struct Weave { public var frames: [RGBImage]; public var dx: [Double]; public var dy: [Double] }

    /// Each frame's picture moved by N(0, sigma) px each way (clipped to ±3σ), Lanczos-3 resampled, edges replicated.
    public static func weave(_ frames: [RGBImage], seed: UInt64, sigma: Double = 0.7,
                             translate: (RGBImage, Double, Double) -> RGBImage) -> Weave {
        var rng = SeededRandom(seed: seed)
        var result = Weave(frames: [], dx: [], dy: [])
        for frame in frames {
            let dx = max(-3 * sigma, min(3 * sigma, sigma * rng.normal())), dy = max(-3 * sigma, min(3 * sigma, sigma * rng.normal()))
            result.frames.append(quantised(translate(frame, dx, dy)))
            result.dx.append(dx); result.dy.append(dy)
        }
        return result
    }
}
