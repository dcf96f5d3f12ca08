import Foundation

/// Text renderings of a `FarmSnapshot`: pure functions, so they are tested without a terminal.
/// `lines` is the in-place view for a terminal; `logLines` the plain form for logs (CI, systemd).
public enum LiveView {
    /// "[██████░░░░]": `width` cells, partial cells in eighths.
    public static func progressBar(fraction: Double, width: Int) -> String {
        let cells = max(1, width)
        let clamped = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let eighths = Int((clamped * Double(cells * 8)).rounded(.down))
        let full = eighths / 8
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var bar = String(repeating: "█", count: full)
        if full < cells { bar += partials[eighths % 8] }
        bar += String(repeating: "░", count: cells - full - (full < cells && eighths % 8 > 0 ? 1 : 0))
        return "[" + bar + "]"
    }

    /// "0:42", "1:02:03"; "--:--" when unknown.
    public static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    /// Overall numbers in one line (shared by both forms).
    public static func summary(_ s: FarmSnapshot) -> String {
        let done = s.framesDone
        let percent = s.framesTotal > 0 ? 100 * Double(done) / Double(s.framesTotal) : 0
        var text = "\(done)/\(s.framesTotal) frames (\(String(format: "%.1f", percent))%)  \(String(format: "%.1f", s.outputFPS)) fps"
        text += s.finished ? "  took \(duration(s.elapsedSeconds))" : "  ETA \(duration(s.etaSeconds))"
        text += "  segments \(s.segments.done)/\(s.segments.total) done, \(s.segments.running) running, "
        if s.segments.ahead > 0 { text += "\(s.segments.ahead) next at workers, " }
        text += "\(s.segments.pending) queued"
        if s.retries > 0 { text += ", \(s.retries) retried" }
        if s.segments.failed > 0 { text += ", \(s.segments.failed) FAILED" }
        return text
    }

    static let columns = ["worker", "host", "device", "state", "segment", "frames", "fps(1m)", "failures"]

    static func row(_ w: WorkerSnapshot) -> [String] {
        let segment = w.segment.map { "#\($0)" } ?? "-"
        let frames = w.segment == nil ? "-" : "\(w.segmentFramesDone)/\(w.segmentFramesTotal)"
        return [w.name, w.host, deviceLabel(w.device), w.state.rawValue, segment, frames, String(format: "%.1f", w.fpsLastMinute), "\(w.failures)"]
    }

    /// The device column: `cpu`, or `gpu:N` and the device's name clipped to keep the table narrow (the log lines,
    /// `status --json` and the metrics have it whole).
    static func deviceLabel(_ device: String?) -> String {
        guard let device else { return "-" }
        return device.count > 24 ? String(device.prefix(23)) + "…" : device
    }

    /// The terminal view: a progress line, then a table with one line per worker; no line longer than `width`.
    public static func lines(_ s: FarmSnapshot, label: String = "farm", width: Int = 100) -> [String] {
        let fraction = s.framesTotal > 0 ? Double(s.framesDone) / Double(s.framesTotal) : 0
        let head = "\(label) \(progressBar(fraction: fraction, width: 24)) " + summary(s)
        var out = [clip(head, width)]
        guard !s.workers.isEmpty else { return out + [clip("  no workers connected yet", width)] }
        for line in table([columns] + s.workers.map(row)) { out.append(clip("  " + line, width)) }
        return out
    }

    /// The log form: one summary line and one line per worker, each self-contained (grep-able).
    public static func logLines(_ s: FarmSnapshot, label: String = "farm") -> [String] {
        var out = ["\(label): " + summary(s)]
        for w in s.workers {
            var line = "\(label): worker \(w.name)@\(w.host) on \(w.device ?? "-") \(w.state.rawValue)"
            if let segment = w.segment { line += " segment \(segment) \(w.segmentFramesDone)/\(w.segmentFramesTotal)" }
            line += String(format: " %.1f fps (1 min), %d failures", w.fpsLastMinute, w.failures)
            out.append(line)
        }
        return out
    }

    /// ANSI text that replaces the `previous` lines drawn last time with `lines` (cursor up, clear, draw).
    public static func redraw(_ lines: [String], previous: Int) -> String {
        var text = previous > 0 ? "\u{1B}[\(previous)F" : ""
        for line in lines { text += "\u{1B}[2K" + line + "\n" }
        if previous > lines.count { // the view shrank: clear the leftover lines below
            for _ in 0..<(previous - lines.count) { text += "\u{1B}[2K\n" }
            text += "\u{1B}[\(previous - lines.count)F"
        }
        return text
    }

    /// Left-aligned columns, two spaces apart.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    static func clip(_ line: String, _ width: Int) -> String {
        line.count <= width ? line : String(line.prefix(max(1, width - 1))) + "…"
    }
}
