import Foundation

/// Frames per second over time, one line per worker, drawn into an `RGBCanvas` (axes, grid, ticks, legend).
public enum ThroughputPlot {
    public struct Series: Sendable {
        public var name: String
        public var points: [(time: Double, fps: Double)]
        public init(name: String, points: [(time: Double, fps: Double)]) { self.name = name; self.points = points }
    }

    /// Distinct, colour-blind-friendly line colours (Okabe–Ito), cycled when there are more workers.
    public static let palette: [RGBCanvas.Color] = [
        .init(0, 114, 178), .init(230, 159, 0), .init(0, 158, 115), .init(204, 121, 167),
        .init(213, 94, 0), .init(86, 180, 233), .init(120, 120, 120), .init(240, 228, 66),
    ]

    public struct Layout: Equatable, Sendable {
        public var left = 90, right = 220, top = 50, bottom = 60
        public init() {}
    }

    /// Series from the monitor's histories, each averaged over buckets of about 1/60 of the job (at least 1 s).
    public static func series(from histories: [(name: String, history: ThroughputHistory)]) -> [Series] {
        let end = histories.compactMap { $0.history.samples.last?.time }.max() ?? 0
        return histories.map { item in
            let bucket = max(item.history.interval, end / 60, 1)
            return Series(name: item.name, points: item.history.ratePoints(bucket: bucket))
        }
    }

    public static func render(_ series: [Series], width: Int = 960, height: Int = 540, title: String = "FRAMES PER SECOND PER WORKER",
                              layout: Layout = Layout()) -> RGBCanvas {
        var canvas = RGBCanvas(width: width, height: height)
        let plotWidth = width - layout.left - layout.right, plotHeight = height - layout.top - layout.bottom
        let maxTime = max(1, series.flatMap { $0.points.map(\.time) }.max() ?? 1)
        let yStep = niceStep(max(0.1, series.flatMap { $0.points.map(\.fps) }.max() ?? 1) / 5)
        let maxFPS = yStep * (((series.flatMap { $0.points.map(\.fps) }.max() ?? 1) / yStep).rounded(.up)).clamped(min: 1)
        let minutes = maxTime > 180
        let xUnit = minutes ? 60.0 : 1.0
        let xStep = niceStep(maxTime / xUnit / 8) * xUnit
        func px(_ t: Double) -> Int { layout.left + Int((t / maxTime * Double(plotWidth)).rounded()) }
        func py(_ f: Double) -> Int { layout.top + plotHeight - Int((f / maxFPS * Double(plotHeight)).rounded()) }

        canvas.text(title, x: layout.left, y: 16, .black, scale: 2)
        // Grid and ticks.
        var f = 0.0
        while f <= maxFPS + yStep / 2 {
            let y = py(f)
            canvas.line(from: (layout.left, y), to: (layout.left + plotWidth, y), .grid)
            let label = formatTick(f)
            canvas.text(label, x: layout.left - 10 - RGBCanvas.textWidth(label), y: y - 7, .black)
            f += yStep
        }
        var t = 0.0
        while t <= maxTime + xStep / 100 {
            let x = px(t)
            canvas.line(from: (x, layout.top), to: (x, layout.top + plotHeight), .grid)
            let label = formatTick(t / xUnit)
            canvas.text(label, x: x - RGBCanvas.textWidth(label) / 2, y: layout.top + plotHeight + 10, .black)
            t += xStep
        }
        canvas.text(minutes ? "TIME (MIN)" : "TIME (S)", x: layout.left + plotWidth / 2 - 50, y: height - 24, .black)
        canvas.text("FPS", x: 16, y: layout.top - 24, .black)
        // Axes.
        canvas.line(from: (layout.left, layout.top), to: (layout.left, layout.top + plotHeight), .black, thickness: 2)
        canvas.line(from: (layout.left, layout.top + plotHeight), to: (layout.left + plotWidth, layout.top + plotHeight), .black, thickness: 2)
        // One line per worker, then its legend entry.
        for (index, s) in series.enumerated() {
            let color = palette[index % palette.count]
            var previous: (x: Int, y: Int)?
            for point in s.points {
                let p = (x: px(point.time), y: py(point.fps))
                if let previous { canvas.line(from: previous, to: p, color, thickness: 3) }
                previous = p
            }
            if s.points.count == 1, let p = previous { canvas.fill(x: p.x - 2, y: p.y - 2, width: 5, height: 5, color) }
            let legendY = layout.top + 10 + index * 24
            guard legendY + 14 < height else { continue }
            let legendX = layout.left + plotWidth + 20
            canvas.fill(x: legendX, y: legendY + 5, width: 24, height: 5, color)
            canvas.text(String(s.name.prefix(14)), x: legendX + 32, y: legendY, .black)
        }
        return canvas
    }

    /// 1, 2 or 5 × a power of ten, at least `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let power = pow(10, floor(log10(rough)))
        for m in [1.0, 2, 5, 10] where m * power >= rough { return m * power }
        return 10 * power
    }

    static func formatTick(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}

private extension Double {
    func clamped(min lower: Double) -> Double { Swift.max(self, lower) }
}
