/// How different two thumbnails are, measured two ways that fail differently:
/// a luma histogram distance (blind to motion, but fooled by fades and brightness changes) and the mean
/// absolute pixel difference (blind to brightness-only changes' cause, but raised by fast motion).
/// A cut raises both; the pair score is the smaller of the two (the motion term scaled to match), so
/// neither motion alone nor a fade alone looks like a cut.
public enum FrameChange {
    public static let histogramBins = 32
    /// Scales mean absolute difference to the histogram distance's range (cuts: MAD ≈ 0.18–0.32, see docs/segments.md).
    public static let differenceScale: Float = 3

    public static func histogram(_ t: LumaThumbnail) -> [Float] {
        var h = [Float](repeating: 0, count: histogramBins)
        for v in t.values { h[min(histogramBins - 1, Int(v * Float(histogramBins)))] += 1 }
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

    /// Mean absolute difference after matching `a`'s brightness to `b`'s (a gain, as in a fade or an
    /// exposure change). Near black the gain is meaningless, so the plain difference is used there.
    public static func gainCompensatedDifference(_ a: LumaThumbnail, _ b: LumaThumbnail) -> Float {
        let ma = a.mean, mb = b.mean
        guard ma > 0.02, mb > 0.02 else { return meanAbsoluteDifference(a, b) }
        let gain = min(max(mb / ma, 0.25), 4)
        var sum: Float = 0
        for i in a.values.indices { sum += abs(a.values[i] * gain - b.values[i]) }
        return sum / Float(a.values.count)
    }

    /// The content-change score of a frame pair, 0 … 1. A fade step changes the histogram a lot but the
    /// gain-compensated picture hardly at all, so it scores low.
    public static func score(_ a: LumaThumbnail, histogramA: [Float], _ b: LumaThumbnail, histogramB: [Float]) -> Float {
        let difference = min(meanAbsoluteDifference(a, b), gainCompensatedDifference(a, b))
        return min(histogramDistance(histogramA, histogramB), min(1, differenceScale * difference))
    }

    public static func score(_ a: LumaThumbnail, _ b: LumaThumbnail) -> Float {
        score(a, histogramA: histogram(a), b, histogramB: histogram(b))
    }
}
