import Shared

/// `--stabilise`: removes gate weave, the fast jitter of the picture in the projector or scanner gate, and keeps the
/// camera's own moves. The translation between consecutive frames (`TranslationEstimator`, sub-pixel) is chained into
/// the picture's path across the window; a straight line fitted to that path is where the centre frame's picture
/// should be, and the frame is moved there (cubic resampling, edges replicated: every frame of the film gets the same
/// border treatment, and the border is at most the weave's amplitude wide). A pan or a tilt is a straight path and is
/// kept; a jitter of a frame against its neighbours is not. At a shot's ends the window is one-sided and the line is
/// fitted to what there is.
public final class Stabiliser: TemporalFilter {
    public let name = "stabilise"
    public let radius: Int
    /// 0 < strength ≤ 1: the fraction of the correction applied.
    public let strength: Double
    private var pyramids: AnalysisCache<UInt64, [Plane]>
    private var shifts: AnalysisCache<Pair, TranslationEstimator.Shift>

    struct Pair: Hashable { var from: UInt64; var to: UInt64 }

    public let pathDegree: Int

    public init(strength: Double = 1, radius: Int = 30, pathDegree: Int = 2) throws {
        self.pathDegree = pathDegree
        guard strength > 0, strength <= 1 else { throw RestorationError.invalidStrength(stage: "stabilise", value: strength, range: "0 < s ≤ 1") }
        precondition(radius >= 1, "Stabiliser: radius must be positive")
        self.strength = strength
        self.radius = radius
        pyramids = AnalysisCache(capacity: 2 * radius + 2)
        shifts = AnalysisCache(capacity: 2 * radius + 2)
    }

    /// How far the centre frame's picture is moved (already scaled by the strength).
    public func correction(window: [RGBImage], centre: Int) throws -> TranslationEstimator.Shift {
        guard !window.isEmpty else { throw RestorationError.emptyWindow }
        for f in window where f.size != window[centre].size { throw RestorationError.sizeMismatch(window[centre].size, f.size) }
        guard window.count > 2 else { return .zero }
        let keys = window.map(\.fingerprint)
        func pyramid(_ i: Int) -> [Plane] { pyramids.value(for: keys[i]) { Plane(luma: window[i]).pyramid() } }
        func step(_ i: Int) -> TranslationEstimator.Shift {   // frame i → i + 1
            shifts.value(for: Pair(from: keys[i], to: keys[i + 1])) { TranslationEstimator.estimate(from: pyramid(i), to: pyramid(i + 1)) }
        }
        // The picture's position in each frame, relative to the centre frame.
        var x = [Double](repeating: 0, count: window.count), y = x
        for i in stride(from: centre + 1, to: window.count, by: 1) { let s = step(i - 1); x[i] = x[i - 1] + s.dx; y[i] = y[i - 1] + s.dy }
        for i in stride(from: centre - 1, through: 0, by: -1) { let s = step(i); x[i] = x[i + 1] - s.dx; y[i] = y[i + 1] - s.dy }
        let t = (0..<window.count).map { Double($0 - centre) }
        return TranslationEstimator.Shift(dx: strength * fitAtZero(t, x, degree: pathDegree), dy: strength * fitAtZero(t, y, degree: pathDegree))
    }

    public func apply(window: [RGBImage], centre: Int) throws -> RGBImage {
        let c = try correction(window: window, centre: centre)
        return window[centre].translated(dx: c.dx, dy: c.dy)
    }
}
