import Foundation

/// Progress on stderr: frames done of total, frames per second, ETA.
/// On a terminal it redraws one line; otherwise (CI, systemd) it prints a line every few seconds.
public final class ProgressReporter {
    private let label: String
    private let total: Int64?
    private let started = Date()
    private var lastPrint = Date.distantPast
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let quiet: Bool

    public init(label: String, total: Int64?, quiet: Bool = false) {
        self.label = label
        self.total = total
        self.quiet = quiet
    }

    public func update(done: Int64, force: Bool = false) {
        guard !quiet else { return }
        let now = Date()
        let interval: TimeInterval = isTerminal ? 0.25 : 5
        guard force || now.timeIntervalSince(lastPrint) >= interval else { return }
        lastPrint = now
        let line = ProgressReporter.format(label: label, done: done, total: total, elapsed: now.timeIntervalSince(started))
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    public func finish(done: Int64) {
        guard !quiet else { return }
        update(done: done, force: true)
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// "restore: 120/288 frames (41.7%)  12.3 fps  ETA 0:14"
    public static func format(label: String, done: Int64, total: Int64?, elapsed: TimeInterval) -> String {
        let fps = elapsed > 0 ? Double(done) / elapsed : 0
        var line = "\(label): \(done)"
        if let total, total > 0 {
            line += "/\(total) frames (\(String(format: "%.1f", 100 * Double(done) / Double(total)))%)"
        } else {
            line += " frames"
        }
        line += String(format: "  %.1f fps", fps)
        if let total, fps > 0, done < total {
            line += "  ETA " + duration(Double(total - done) / fps)
        } else {
            line += "  elapsed " + duration(elapsed)
        }
        return line
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
