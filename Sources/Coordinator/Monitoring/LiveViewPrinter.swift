import Foundation

/// How the coordinator shows farm progress on stderr.
public enum LiveViewMode: String, CaseIterable, Sendable {
    /// `live` on a terminal, `log` otherwise.
    case auto
    /// Redrawn in place (terminal).
    case live
    /// Plain lines every few seconds (CI, systemd, files).
    case log
    case off

    /// `auto` decided for the actual stderr.
    public func resolved(isTerminal: Bool = isatty(STDERR_FILENO) == 1) -> LiveViewMode {
        self == .auto ? (isTerminal ? .live : .log) : self
    }
}

/// Draws the live view from a snapshot source on its own thread until `stop`.
public final class LiveViewPrinter: @unchecked Sendable {
    private let source: @Sendable () -> FarmSnapshot
    private let mode: LiveViewMode
    private let label: String
    private let interval: Double
    private let write: @Sendable (String) -> Void
    private let condition = NSCondition()
    private var stopped = false
    private var finished = false
    private var drawnLines = 0
    private var thread: Thread?

    /// `interval`: seconds between redraws (live, default 0.5) or log lines (log, default 10).
    public init(mode: LiveViewMode, label: String = "farm", interval: Double? = nil,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) },
                source: @escaping @Sendable () -> FarmSnapshot) {
        self.mode = mode.resolved()
        self.label = label
        self.interval = interval ?? (self.mode == .live ? 0.5 : 10)
        self.write = write
        self.source = source
    }

    public func start() {
        guard mode != .off, thread == nil else { return }
        let thread = Thread { [self] in loop() }
        thread.name = "lumiere-live-view"
        self.thread = thread
        thread.start()
    }

    /// Draws the final state once more and stops the thread.
    public func stop() {
        condition.lock()
        let wasRunning = thread != nil && !stopped
        stopped = true
        condition.broadcast()
        while wasRunning && !finished { condition.wait() }
        thread = nil // the thread's closure holds self: drop it so printer and monitor are freed after the job
        condition.unlock()
        if wasRunning { draw() }
    }

    private func loop() {
        condition.lock()
        while !stopped {
            condition.unlock()
            draw()
            condition.lock()
            if !stopped { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func draw() {
        let snapshot = source()
        switch mode {
        case .live:
            let width = LiveViewPrinter.terminalWidth()
            let lines = LiveView.lines(snapshot, label: label, width: width)
            write(LiveView.redraw(lines, previous: drawnLines))
            drawnLines = lines.count
        case .log:
            let stamp = ISO8601DateFormatter().string(from: Date())
            write(LiveView.logLines(snapshot, label: label).map { "\(stamp) \($0)\n" }.joined())
        case .auto, .off:
            break
        }
    }

    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 100
    }
}
