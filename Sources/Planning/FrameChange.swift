/// How different two thumbnails are. The main measure is a contrast-normalised mean absolute difference:
/// each picture is shifted to mean 0 and scaled to unit spread first, so a fade step, a flickering old
/// print or an auto-exposure jump hardly counts, while a new picture does (fast motion raises it too; the
/// detector's adaptive threshold deals with that). The luma histogram distance is a second opinion that
/// may only discount the score, by at most `histogramDiscount`, when the tonal distribution stays the
/// same (as it does under motion); it cannot veto a cut between two shots of similar exposure.
/// Measured separation on the reference footage: docs/segments.md.
public enum FrameChange {
    public static let histogramBins = 32
    /// Scales the normalised difference to the histogram distance's range (cuts: 0.22–0.31, see docs/segments.md).
    public static let differenceScale: Float = 1.2
    /// Spread below which a picture counts as flat: near-black or near-uniform frames are not stretched
    /// (that would turn their noise into "content").
    public static let minimumSpread: Float = 0.05
    /// The most the histogram may take off the difference score (a fraction).
    public static let histogramDiscount: Float = 0.2

    public static func histogram(_ t: LumaThumbnail) -> [Float] {
        var h = [Float](repeating: 0, count: histogramBins)
        for v in t.values { h[min(histogramBins - 1, max(0, Int(v * Float(histogramBins))))] += 1 }
        let n = Float(t.values.count)
        return h.map { $0 / n }
    }

    /// Half the L1 distance of two normalised histograms: 0 (same distribution) … 1 (disjoint).
    public static func histogramDistance(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        var sum: Float = 0
        for i in a.indices { sum += abs(a[i] - b[i]) }
        return sum / 2
    }

    public static func meanAbsoluteDifference(_ a: LumaThumbnail, _ b: LumaThumbnail) -> Float {
        precondition(a.values.count == b.values.count, "thumbnails of different sizes")
        var sum: Float = 0
        for i in a.values.indices { sum += abs(a.values[i] - b.values[i]) }
        return sum / Float(a.values.count)
    }

    /// Mean and standard deviation of a thumbnail's values.
    public static func meanAndSpread(_ t: LumaThumbnail) -> (mean: Float, spread: Float) {
        let n = Float(t.values.count)
        let mean = t.values.reduce(0, +) / n
        var squares: Float = 0
        for v in t.values { squares += (v - mean) * (v - mean) }
        return (mean, (squares / n).squareRoot())
    }

    /// Mean absolute difference of the two pictures after each is normalised to mean 0 and unit spread
    /// (spread floored at `minimumSpread`), divided by 4 so that unrelated pictures score about 0.2–0.35.
    /// Invariant to gain and offset: fades, flicker and exposure changes score near 0.
    public static func normalizedDifference(_ a: LumaThumbnail, _ b: LumaThumbnail) -> Float {
        precondition(a.values.count == b.values.count, "thumbnails of different sizes")
        let (ma, sa) = meanAndSpread(a), (mb, sb) = meanAndSpread(b)
        let ia = 1 / max(sa, minimumSpread), ib = 1 / max(sb, minimumSpread)
        var sum: Float = 0
        for i in a.values.indices { sum += abs((a.values[i] - ma) * ia - (b.values[i] - mb) * ib) }
        return sum / Float(a.values.count) / 4
    }

    /// The content-change score of a frame pair, 0 … 1.
    public static func score(_ a: LumaThumbnail, histogramA: [Float], _ b: LumaThumbnail, histogramB: [Float]) -> Float {
        let difference = min(1, differenceScale * normalizedDifference(a, b))
        return min(difference, max(histogramDistance(histogramA, histogramB), (1 - histogramDiscount) * difference))
    }

    public static func score(_ a: LumaThumbnail, _ b: LumaThumbnail) -> Float {
        score(a, histogramA: histogram(a), b, histogramB: histogram(b))
    }
}
