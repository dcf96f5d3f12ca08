import CommandLineSupport
import Foundation
import Logging

/// Progress on stderr: frames done of total, frames per second, the phase's ETA and, within a restore, the whole
/// job's (`JobETA`). On a terminal it redraws one line; otherwise (CI, systemd) it prints a line every few seconds;
/// with `--log-format json` each line is a JSON record whose `progress` object holds the same numbers.
public final class ProgressReporter {
    private let label: String
    private let total: Int64?
    private let clock: () -> Date
    private let started: Date
    private var lastPrint = Date.distantPast
    private let isTerminal: Bool
    private let format: LogFormat
    private let quiet: Bool
    private let job: JobETA?
    private let write: (String) -> Void

    /// `job`: the restore's whole-job ETA, which this phase feeds and shows; `clock` and `write` are for tests.
    public init(label: String, total: Int64?, quiet: Bool = false, job: JobETA? = nil, format: LogFormat = LogFormat.current,
                isTerminal: Bool = isatty(STDERR_FILENO) == 1, clock: @escaping () -> Date = Date.init,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.total = total
        self.quiet = quiet
        self.job = job
        self.format = format
        self.isTerminal = isTerminal && format == .text
        self.clock = clock
        self.write = write
        started = clock()
    }

    public func update(done: Int64, force: Bool = false) {
        guard !quiet else { return }
        let now = clock()
        let interval: TimeInterval = isTerminal ? 0.25 : 5
        guard force || now.timeIntervalSince(lastPrint) >= interval else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(started)
        let jobRemaining = job?.remaining(phase: label, done: done, total: total, elapsed: elapsed)
        let line = ProgressReporter.format(label: label, done: done, total: total, elapsed: elapsed, jobRemaining: job == nil ? .none : .some(jobRemaining))
        switch format {
        case .text: write(isTerminal ? "\r\u{1B}[K" + line : line + "\n")
        case .json:
            write(JSONLogHandler.record(time: now, level: .info, label: "lumiere-coordinator", message: line,
                                        fields: ["progress": ProgressReporter.fields(label: label, done: done, total: total, elapsed: elapsed,
                                                                                     jobRemaining: jobRemaining)]))
        }
    }

    public func finish(done: Int64) {
        guard !quiet else { return }
        update(done: done, force: true)
        if isTerminal { write("\n") }
    }

    /// "restore: 120/288 frames (41.7%)  12.3 fps  ETA 0:14  job ETA 3:20" (the job's part only within a restore:
    /// `jobRemaining` is nil outside one, `.some(nil)` while it is not known yet, shown "--:--" as the live view does).
    public static func format(label: String, done: Int64, total: Int64?, elapsed: TimeInterval, jobRemaining: Double?? = nil) -> String {
        var line = "\(label): \(done)"
        if let total, total > 0 {
            line += "/\(total) frames (\(String(format: "%.1f", 100 * Double(done) / Double(total)))%)"
        } else {
            line += " frames"
        }
        if let fps = rate(done: done, elapsed: elapsed) { line += String(format: "  %.1f fps", fps) }
        if let remaining = remaining(done: done, total: total, elapsed: elapsed) {
            line += "  ETA " + LiveView.duration(remaining)
        } else {
            line += "  elapsed " + LiveView.duration(elapsed)
        }
        if case .some(let job) = jobRemaining { line += "  job ETA " + LiveView.duration(job) }
        return line
    }

    /// Frames per second so far; nil over less than `minimumRateSeconds`. A phase whose frames were nearly all done
    /// before it began (the join, when the film was written while the farm ran) printed "288/288 frames 15586574.9 fps".
    static func rate(done: Int64, elapsed: TimeInterval) -> Double? {
        elapsed >= minimumRateSeconds ? Double(done) / elapsed : nil
    }

    static let minimumRateSeconds = 0.5

    /// Seconds left in the phase at the speed so far; nil when done, or when the total or the speed is not known.
    static func remaining(done: Int64, total: Int64?, elapsed: TimeInterval) -> Double? {
        guard let total, done > 0, elapsed > 0, done < total else { return nil }
        return Double(total - done) / (Double(done) / elapsed)
    }

    /// The JSON record's `progress` object: phase, done, total, fps, eta_seconds, job_eta_seconds (the last three
    /// absent while unknown; numbers, not strings).
    static func fields(label: String, done: Int64, total: Int64?, elapsed: TimeInterval, jobRemaining: Double?) -> [String: Any] {
        var fields: [String: Any] = ["phase": label, "done": done, "elapsed_seconds": (elapsed * 10).rounded() / 10]
        if let total { fields["total"] = total }
        if let fps = rate(done: done, elapsed: elapsed) { fields["fps"] = (fps * 10).rounded() / 10 }
        if let eta = remaining(done: done, total: total, elapsed: elapsed) { fields["eta_seconds"] = eta.rounded() }
        if let jobRemaining { fields["job_eta_seconds"] = jobRemaining.rounded() }
        return fields
    }
}
