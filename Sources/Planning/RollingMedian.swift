/// Median and median absolute deviation of the last `capacity` values: a robust "what is normal here",
/// which one outlier (a cut) does not move.
struct RollingMedian {
    let capacity: Int
    private(set) var values: [Float] = []
    private var next = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func add(_ v: Float) {
        if values.count < capacity { values.append(v) } else { values[next] = v }
        next = (next + 1) % capacity
    }

    var count: Int { values.count }

    /// (median, MAD × 1.4826 — the normal-distribution scale).
    func medianAndDeviation() -> (median: Float, deviation: Float) {
        guard !values.isEmpty else { return (0, 0) }
        let median = RollingMedian.median(values)
        return (median, 1.4826 * RollingMedian.median(values.map { abs($0 - median) }))
    }

    static func median(_ v: [Float]) -> Float {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
