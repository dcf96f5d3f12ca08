import Shared

/// Seam-aware blending of two versions of the same frames (the overlap of two segments).
///
/// The two versions differ most where either segment lacked temporal context (its first and last
/// frames) and wherever a temporal processor drifted; they agree best somewhere inside. So the
/// crossfade is a short window placed where the per-frame difference between the versions is smallest
/// (the sum over the window; ties go to the middle of the overlap), kept `margin` frames away from the
/// overlap's ends when the overlap is long enough. Before the window the left segment's frames are used
/// as they are, after it the right one's; inside, the weight of the right version rises linearly
/// ((k + ½) / width for the k-th frame), so no frame is one version's alone by surprise.
public enum Crossfade {
    public static let defaultWidth = 4
    public static let defaultMargin = 1

    /// The crossfade window (positions within the overlap) for per-frame differences `differences`.
    public static func window(differences: [Double], width: Int = defaultWidth, margin: Int = defaultMargin) -> Range<Int> {
        let count = differences.count
        guard count > 0 else { return 0..<0 }
        var margin = max(0, margin)
        if count - 2 * margin < 1 { margin = 0 }
        let width = max(1, min(width, count - 2 * margin))
        var best = margin, bestCost = Double.infinity, bestDistance = Int.max
        let centre2 = count // twice the overlap's centre, to compare window centres in integers
        for start in margin...(count - margin - width) {
            let cost = differences[start..<(start + width)].reduce(0, +)
            let distance = abs(2 * start + width - centre2)
            if cost < bestCost - 1e-12 || (abs(cost - bestCost) <= 1e-12 && distance < bestDistance) {
                best = start
                bestCost = cost
                bestDistance = distance
            }
        }
        return best..<(best + width)
    }

    /// The right-hand version's weight at position `position` of the overlap.
    public static func rightWeight(_ position: Int, window: Range<Int>) -> Float {
        if position < window.lowerBound { return 0 }
        if position >= window.upperBound { return 1 }
        return (Float(position - window.lowerBound) + 0.5) / Float(window.count)
    }

    /// `left·(1−w) + right·w`, pixel by pixel.
    public static func blend(_ left: RGBImage, _ right: RGBImage, rightWeight w: Float) -> RGBImage {
        precondition(left.size == right.size, "blending \(left.size) with \(right.size)")
        var out = left
        let a = 1 - w
        out.pixels.withUnsafeMutableBufferPointer { o in
            right.pixels.withUnsafeBufferPointer { r in
                for i in 0..<o.count { o[i] = o[i] * a + r[i] * w }
            }
        }
        return out
    }

    /// Mean absolute difference of two pictures (what "agree" means above).
    public static func difference(_ a: RGBImage, _ b: RGBImage) -> Double {
        precondition(a.size == b.size, "comparing \(a.size) with \(b.size)")
        var sum: Double = 0
        a.pixels.withUnsafeBufferPointer { x in
            b.pixels.withUnsafeBufferPointer { y in
                var partial: Float = 0
                for i in 0..<x.count {
                    partial += abs(x[i] - y[i])
                    if i & 0xFFFF == 0xFFFF { sum += Double(partial); partial = 0 }
                }
                sum += Double(partial)
            }
        }
        return sum / Double(max(1, a.pixels.count))
    }
}
