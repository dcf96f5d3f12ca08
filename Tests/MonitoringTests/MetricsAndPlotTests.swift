import Coordinator
import Foundation
import Media
import Shared
import XCTest

/// Prometheus text from a snapshot, and the throughput plot as pixels and as a PNG.
final class MetricsAndPlotTests: XCTestCase {
    /// `name{labels} value` lines of a Prometheus text exposition, keyed by everything before the value.
    static func parsePrometheus(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }

    static func value(_ metrics: [String: Double], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        metrics.first { key, _ in
            let base = key.split(separator: "{").first.map(String.init) ?? key
            return base == name && labels.allSatisfy { key.contains("\($0.key)=\"\($0.value)\"") }
        }?.value
    }

    func testMetricsExposeEverySeriesAndCountersOnlyGrow() {
        let metrics = FarmMetrics()
        var snapshot = LiveViewTests.sampleSnapshot()
        snapshot.workers[0].processingSeconds = 30
        snapshot.workers[0].transferSeconds = 4
        let text = metrics.render(snapshot)
        let m = Self.parsePrometheus(text)
        XCTAssertEqual(Self.value(m, "lumiere_frames_processed_total"), 1200)
        XCTAssertEqual(Self.value(m, "lumiere_job_frames"), 2880)
        XCTAssertEqual(Self.value(m, "lumiere_segments", ["state": "pending"]), 12)
        XCTAssertEqual(Self.value(m, "lumiere_segments", ["state": "done"]), 10)
        XCTAssertEqual(Self.value(m, "lumiere_queue_depth"), 12)
        XCTAssertEqual(Self.value(m, "lumiere_retries_total"), 1)
        XCTAssertEqual(Self.value(m, "lumiere_bytes_transferred_total", ["direction": "from_workers"]), 2_000_000)
        XCTAssertEqual(Self.value(m, "lumiere_worker_fps", ["worker": "gpu-node-1"]), 3.25)
        XCTAssertEqual(Self.value(m, "lumiere_worker_fps", ["worker": "gpu-node-1", "device": "gpu:0 NVIDIA H100 80GB HBM3 (discrete)"]), 3.25)
        XCTAssertEqual(Self.value(m, "lumiere_worker_segments_completed_total", ["worker": "gpu-node-2", "device": "cpu"]), 4)
        XCTAssertEqual(Self.value(m, "lumiere_worker_failures_total", ["worker": "gpu-node-2"]), 2)
        XCTAssertEqual(Self.value(m, "lumiere_worker_busy_seconds_total", ["worker": "gpu-node-1", "activity": "processing"]), 30)
        XCTAssertEqual(Self.value(m, "lumiere_worker_busy_seconds_total", ["worker": "gpu-node-1", "activity": "transfer"]), 4)
        XCTAssertEqual(Self.value(m, "lumiere_workers", ["state": "processing"]), 1)
        XCTAssertTrue(text.contains("# TYPE lumiere_frames_processed_total counter"), text)
        XCTAssertTrue(text.contains("# TYPE lumiere_queue_depth gauge"), text)

        snapshot.framesDone = 1500
        snapshot.retries = 0 // a smaller value must not make a counter go down
        let again = Self.parsePrometheus(metrics.render(snapshot))
        XCTAssertEqual(Self.value(again, "lumiere_frames_processed_total"), 1500)
        XCTAssertEqual(Self.value(again, "lumiere_retries_total"), 1)
    }

    func testPlotDrawsOneColouredLinePerWorkerWithAxesAndLegend() {
        let fast = ThroughputPlot.Series(name: "fast", points: (0...20).map { (Double($0) * 3, 12) })
        let slow = ThroughputPlot.Series(name: "slow", points: (0...20).map { (Double($0) * 3, 4) })
        let layout = ThroughputPlot.Layout()
        let canvas = ThroughputPlot.render([fast, slow], width: 800, height: 400, layout: layout)
        func count(_ c: RGBCanvas.Color) -> Int {
            var n = 0
            for y in 0..<canvas.height { for x in 0..<canvas.width where canvas.color(x: x, y: y) == c { n += 1 } }
            return n
        }
        let blue = ThroughputPlot.palette[0], orange = ThroughputPlot.palette[1]
        XCTAssertGreaterThan(count(blue), 500, "the first worker's line")
        XCTAssertGreaterThan(count(orange), 500, "the second worker's line")
        // The fast line lies above the slow one (smaller y) in the middle of the plot.
        let x = layout.left + (800 - layout.left - layout.right) / 2
        let blueY = (0..<400).first { canvas.color(x: x, y: $0) == blue }
        let orangeY = (0..<400).first { canvas.color(x: x, y: $0) == orange }
        XCTAssertLessThan(try XCTUnwrap(blueY), try XCTUnwrap(orangeY))
        // Axes in black along the left and bottom of the plot area.
        XCTAssertEqual(canvas.color(x: layout.left, y: 200), .black)
        XCTAssertEqual(canvas.color(x: 400, y: 400 - layout.bottom), .black)
        // Legend swatches at the right.
        let legendX = 800 - layout.right + 20 + 10
        XCTAssertEqual(canvas.color(x: legendX, y: layout.top + 10 + 7), blue)
        XCTAssertEqual(canvas.color(x: legendX, y: layout.top + 34 + 7), orange)
    }

    func testPNGFromFFmpegEncoderHasTheRightHeaderAndDecodesBack() throws {
        let canvas = ThroughputPlot.render([ThroughputPlot.Series(name: "w", points: [(0, 1), (10, 5)])], width: 320, height: 200)
        let png = try ImageWriter.encodePNG(rgb24: canvas.pixels, width: canvas.width, height: canvas.height)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let bytes = Array(png)
        XCTAssertEqual(String(bytes: bytes[12..<16], encoding: .ascii), "IHDR")
        XCTAssertEqual(bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }, 320)
        XCTAssertEqual(bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }, 200)
        XCTAssertThrowsError(try ImageWriter.encodePNG(rgb24: [0, 0], width: 10, height: 10))
        XCTAssertThrowsError(try ImageWriter.encodePNG(rgb24: [], width: 0, height: 10))
        // FFmpeg reads it back as a 320x200 picture.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("plot-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: file) }
        try ImageWriter.writePNG(rgb24: canvas.pixels, width: canvas.width, height: canvas.height, to: file.path)
        let info = try MediaInput(path: file.path)
        XCTAssertEqual(try info.primaryVideoStream().size, PixelSize(width: 320, height: 200))
    }
}
