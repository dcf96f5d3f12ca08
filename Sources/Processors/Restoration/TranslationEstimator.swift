/// Global translation between two frames, to a fraction of a pixel: how far the picture moved from `a` to `b`
/// (b(x) ≈ a(x − d)). Coarse to fine: an integer search on the smallest pyramid level, then robust Lucas–Kanade
/// steps on every level down to full size, each warping `a` with the cubic translate. Moving objects are
/// down-weighted (Tukey weights on the residual), so the estimate follows the background.
public enum TranslationEstimator {
    public struct Shift: Sendable, Equatable, CustomStringConvertible {
        public var dx: Double
        public var dy: Double
        public init(dx: Double, dy: Double) { self.dx = dx; self.dy = dy }
        public static let zero = Shift(dx: 0, dy: 0)
        public var description: String { String(format: "(%.3f, %.3f)", dx, dy) }
    }

    /// Search range on the smallest level, in that level's pixels (×2 per level below: ±32 px at full size for a
    /// 400-px frame with three levels).
    static let coarseSearch = 4

    public static func estimate(from a: Plane, to b: Plane) -> Shift {
        estimate(from: a.pyramid(), to: b.pyramid())
    }

    /// Same, for pyramids built once and reused (the stabiliser compares each frame with two neighbours).
    public static func estimate(from a: [Plane], to b: [Plane]) -> Shift {
        precondition(a.count == b.count && a[0].width == b[0].width && a[0].height == b[0].height, "TranslationEstimator: sizes differ")
        let top = a.count - 1
        var d = integerSearch(a[top], b[top], range: coarseSearch)
        for level in stride(from: top, through: 0, by: -1) {
            if level < top { d = Shift(dx: 2 * d.dx, dy: 2 * d.dy) }
            d = refine(a[level], b[level], start: d, iterations: level == 0 ? 6 : 3)
        }
        return d
    }

    /// The integer shift with the least mean absolute difference (each difference capped so that moving objects
    /// cannot dominate) over the overlap.
    static func integerSearch(_ a: Plane, _ b: Plane, range: Int) -> Shift {
        var best = (cost: Float.infinity, dx: 0, dy: 0)
        for dy in -range...range {
            for dx in -range...range {
                var sum: Float = 0
                var count = 0
                let y0 = max(0, dy), y1 = min(b.height, a.height + dy)
                let x0 = max(0, dx), x1 = min(b.width, a.width + dx)
                guard y1 - y0 > b.height / 2, x1 - x0 > b.width / 2 else { continue }
                for y in y0..<y1 {
                    for x in x0..<x1 { sum += min(0.1, abs(b[x, y] - a[x - dx, y - dy])); count += 1 }
                }
                // A small preference for no motion among equals, so a flat picture stays put.
                let cost = sum / Float(count) + 1e-4 * Float(abs(dx) + abs(dy))
                if cost < best.cost { best = (cost, dx, dy) }
            }
        }
        return Shift(dx: Double(best.dx), dy: Double(best.dy))
    }

    /// Gauss–Newton steps on Σ w (b(x) − a(x − d))², with the gradient of `b` standing in for that of the warped `a`
    /// (they are the same picture once d is right), over the pixels the shift does not push out of the frame.
    static func refine(_ a: Plane, _ b: Plane, start: Shift, iterations: Int) -> Shift {
        var d = start
        let w = b.width, h = b.height
        // Central-difference gradients of b.
        var gx = [Float](repeating: 0, count: w * h), gy = gx
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) {
                gx[y * w + x] = 0.5 * (b[x + 1, y] - b[x - 1, y])
                gy[y * w + x] = 0.5 * (b[x, y + 1] - b[x, y - 1])
            }
        }
        for _ in 0..<iterations {
            let warped = a.translated(dx: d.dx, dy: d.dy)
            let mx = Int(abs(d.dx).rounded(.up)) + 3, my = Int(abs(d.dy).rounded(.up)) + 3
            guard w > 2 * mx + 4, h > 2 * my + 4 else { break }
            // Residual scale for the Huber weights: a robust spread of this iteration's residuals.
            var sample: [Float] = []
            sample.reserveCapacity((w * h) / 16 + 1)
            var y = my
            while y < h - my { var x = mx; while x < w - mx { sample.append(abs(b[x, y] - warped[x, y])); x += 4 }; y += 4 }
            sample.sort()
            // Tukey's biweight with the usual 4.685 σ (σ from the median absolute residual): residuals of moving
            // objects weigh nothing at all, where Huber weights still let a large car pull the estimate.
            let k = 4.685 * max(0.004, 1.4826 * (sample.isEmpty ? 0.02 : sample[sample.count / 2]))
            var hxx = 0.0, hxy = 0.0, hyy = 0.0, bx = 0.0, by = 0.0
            for y in my..<(h - my) {
                var sxx: Float = 0, sxy: Float = 0, syy: Float = 0, sbx: Float = 0, sby: Float = 0
                for x in mx..<(w - mx) {
                    let i = y * w + x
                    let r = b.values[i] - warped.values[i]
                    let q = r / k
                    let weight: Float = abs(q) < 1 ? (1 - q * q) * (1 - q * q) : 0
                    let u = gx[i], v = gy[i]
                    sxx += weight * u * u; sxy += weight * u * v; syy += weight * v * v
                    sbx += weight * u * r; sby += weight * v * r
                }
                hxx += Double(sxx); hxy += Double(sxy); hyy += Double(syy); bx += Double(sbx); by += Double(sby)
            }
            let det = hxx * hyy - hxy * hxy
            guard det > 1e-12 else { break }
            // b ≈ a(x − d − δ) ≈ a(x − d) − ∇·δ  ⇒  r ≈ −∇·δ  ⇒  δ = −H⁻¹ Σ w ∇ r.
            let ddx = -(hyy * bx - hxy * by) / det
            let ddy = -(hxx * by - hxy * bx) / det
            d = Shift(dx: d.dx + ddx, dy: d.dy + ddy)
            if abs(ddx) < 0.002 && abs(ddy) < 0.002 { break }
        }
        return d
    }
}
