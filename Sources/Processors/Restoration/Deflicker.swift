import Shared

/// `--deflicker`: brings each frame's brightness and contrast to a temporally smoothed target. Per region of a
/// `columns`×`rows` grid (1×1: one correction for the frame; more: uneven flicker, a print exposed more on one side),
/// the luma mean and standard deviation of every frame in the window are fitted with a straight line in time, and
/// the centre frame gets the gain and offset that move its own mean and deviation onto the line at its time. A line
/// (not a plain average) follows a real fade, which changes the statistics steadily, and stays unbiased at a shot's
/// ends, where the window is one-sided. Gains and offsets are interpolated bilinearly between region centres and
/// applied to R, G and B alike.
public final class Deflicker: TemporalFilter {
    public let name = "deflicker"
    public let radius: Int
    /// 0 < strength ≤ 1: the fraction of the correction applied.
    public let strength: Double
    public let columns: Int
    public let rows: Int
    private var cache: AnalysisCache<UInt64, [Stat]>

    struct Stat { var mean: Double; var deviation: Double }

    public init(strength: Double = 1, radius: Int = 7, columns: Int = 1, rows: Int = 1) throws {
        guard strength > 0, strength <= 1 else { throw RestorationError.invalidStrength(stage: "deflicker", value: strength, range: "0 < s ≤ 1") }
        precondition(radius >= 1 && columns >= 1 && rows >= 1, "Deflicker: radius and grid must be positive")
        self.strength = strength
        self.radius = radius
        self.columns = columns
        self.rows = rows
        cache = AnalysisCache(capacity: 2 * radius + 2)
    }

    /// Gain and offset per region for the centre frame (row-major regions).
    public func corrections(window: [RGBImage], centre: Int) throws -> [(gain: Double, offset: Double)] {
        guard !window.isEmpty else { throw RestorationError.emptyWindow }
        for f in window where f.size != window[centre].size { throw RestorationError.sizeMismatch(window[centre].size, f.size) }
        let stats = window.map { frame in cache.value(for: frame.fingerprint) { regionStats(frame) } }
        let times = (0..<window.count).map { Double($0 - centre) }
        return (0..<(columns * rows)).map { k in
            let own = stats[centre][k]
            let mean = fitAtZero(times, stats.map { $0[k].mean })
            let deviation = fitAtZero(times, stats.map { $0[k].deviation })
            // A flat region (deviation near 0) has no contrast to correct: offset only.
            var gain = own.deviation > 0.004 ? min(2, max(0.5, deviation / own.deviation)) : 1
            gain = 1 + strength * (gain - 1)
            let offset = strength * mean + (1 - strength) * own.mean - gain * own.mean
            return (gain, offset)
        }
    }

    public func apply(window: [RGBImage], centre: Int) throws -> RGBImage {
        let table = try corrections(window: window, centre: centre)
        let frame = window[centre]
        let w = frame.width, h = frame.height, n = frame.planeCount
        // Bilinear weights between region centres, per column and per row.
        func axis(_ size: Int, _ cells: Int) -> [(Int, Int, Double)] {
            (0..<size).map { p in
                let u = (Double(p) + 0.5) / Double(size) * Double(cells) - 0.5
                let i0 = max(0, min(cells - 1, Int(u.rounded(.down))))
                let i1 = min(cells - 1, i0 + 1)
                return (i0, i1, max(0, min(1, u - Double(i0))))
            }
        }
        let ax = axis(w, columns), ay = axis(h, rows)
        var out = frame
        for y in 0..<h {
            let (r0, r1, fy) = ay[y]
            for x in 0..<w {
                let (c0, c1, fx) = ax[x]
                func mix(_ pick: ((gain: Double, offset: Double)) -> Double) -> Double {
                    let top = (1 - fx) * pick(table[r0 * columns + c0]) + fx * pick(table[r0 * columns + c1])
                    let bottom = (1 - fx) * pick(table[r1 * columns + c0]) + fx * pick(table[r1 * columns + c1])
                    return (1 - fy) * top + fy * bottom
                }
                let g = Float(mix { $0.gain }), o = Float(mix { $0.offset })
                let i = y * w + x
                for c in 0..<3 { out.pixels[c * n + i] = min(1, max(0, g * frame.pixels[c * n + i] + o)) }
            }
        }
        return out
    }

    /// Mean and deviation of luma per region, from every second pixel each way (plenty for two moments).
    private func regionStats(_ frame: RGBImage) -> [Stat] {
        let luma = Plane(luma: frame)
        var sum = [Double](repeating: 0, count: columns * rows), squares = sum, count = sum
        for y in stride(from: 0, to: luma.height, by: 2) {
            let r = min(rows - 1, y * rows / luma.height)
            for x in stride(from: 0, to: luma.width, by: 2) {
                let k = r * columns + min(columns - 1, x * columns / luma.width)
                let v = Double(luma[x, y])
                sum[k] += v; squares[k] += v * v; count[k] += 1
            }
        }
        return (0..<(columns * rows)).map { k in
            let m = sum[k] / max(1, count[k])
            return Stat(mean: m, deviation: (max(0, squares[k] / max(1, count[k]) - m * m)).squareRoot())
        }
    }
}

/// The least-squares polynomial of `degree` (1 or 2) through (t, v), evaluated at t = 0; with too few points for
/// the degree, the line (or the mean).
func fitAtZero(_ t: [Double], _ v: [Double], degree: Int) -> Double {
    guard degree == 2, t.count >= 5 else { return fitAtZero(t, v) }
    // Normal equations for v ≈ c0 + c1 t + c2 t², solved by Cramer's rule for c0 (t is centred on the frame, so
    // the sums stay small).
    var s = [Double](repeating: 0, count: 5), r = [Double](repeating: 0, count: 3)
    for i in t.indices {
        var p = 1.0
        for k in 0..<5 { s[k] += p; if k < 3 { r[k] += p * v[i] }; p *= t[i] }
    }
    func det(_ m: [[Double]]) -> Double {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    }
    let a = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]]
    let d = det(a)
    guard abs(d) > 1e-9 else { return fitAtZero(t, v) }
    return det([[r[0], s[1], s[2]], [r[1], s[2], s[3]], [r[2], s[3], s[4]]]) / d
}

/// The least-squares line through (t, v), evaluated at t = 0 (a single point: its value).
func fitAtZero(_ t: [Double], _ v: [Double]) -> Double {
    let n = Double(t.count)
    let mt = t.reduce(0, +) / n, mv = v.reduce(0, +) / n
    var stt = 0.0, stv = 0.0
    for i in t.indices { stt += (t[i] - mt) * (t[i] - mt); stv += (t[i] - mt) * (v[i] - mv) }
    guard stt > 0 else { return mv }
    return mv - (stv / stt) * mt
}
