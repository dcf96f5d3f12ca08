import Foundation
import Media

/// The end-of-job summary: a table on stderr and a PNG plot of each worker's fps over time.
public enum ThroughputReport {
    /// The summary table: the job's totals, then one row per worker.
    public static func table(_ s: FarmSnapshot) -> [String] {
        let percent = s.framesTotal > 0 ? 100 * Double(s.framesDone) / Double(s.framesTotal) : 0
        var out = ["throughput: \(s.framesDone)/\(s.framesTotal) frames (\(String(format: "%.0f", percent))%) in \(LiveView.duration(s.elapsedSeconds)), "
            + String(format: "%.2f fps", s.averageFPS) + "; \(s.segments.done)/\(s.segments.total) segments, \(s.retries) retried, "
            + "\(s.speculativeCopies) speculative; \(megabytes(s.bytesSent)) MB out, \(megabytes(s.bytesReceived)) MB back"]
        guard !s.workers.isEmpty else { return out }
        let header = ["worker", "host", "segments", "frames", "fps", "failures", "processing", "transfer", "MB out", "MB back"]
        let rows = s.workers.map { w -> [String] in
            let busy = w.processingSeconds + w.transferSeconds
            let fps = w.processingSeconds > 0 ? Double(w.framesProcessed) / w.processingSeconds : 0
            let share = busy > 0 ? " (\(Int((100 * w.transferSeconds / busy).rounded()))%)" : ""
            return [w.name, w.host, "\(w.segmentsCompleted)", "\(w.framesProcessed)", String(format: "%.2f", fps), "\(w.failures)",
                    LiveView.duration(w.processingSeconds), LiveView.duration(w.transferSeconds) + share,
                    megabytes(w.bytesSent), megabytes(w.bytesReceived)]
        }
        out += LiveView.table([header] + rows).map { "  " + $0 }
        out.append("  fps: frames per second while processing; transfer: moving segment files (share of busy time)")
        return out
    }

    /// Renders the plot and writes it as PNG (FFmpeg's PNG encoder) at `path`.
    public static func writePlot(_ monitor: FarmMonitor, to path: String, width: Int = 960, height: Int = 540) throws {
        let canvas = ThroughputPlot.render(ThroughputPlot.series(from: monitor.histories().workers), width: width, height: height)
        do {
            try ImageWriter.writePNG(rgb24: canvas.pixels, width: canvas.width, height: canvas.height, to: path)
        } catch {
            throw MonitoringError.plotFailed("\(path): \(error)")
        }
    }

    static func megabytes(_ bytes: UInt64) -> String { String(format: "%.1f", Double(bytes) / 1_000_000) }
}
