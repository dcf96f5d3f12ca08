import Foundation

/// What `restore` shows and serves while the farm runs.
public struct MonitoringOptions: Sendable {
    public var liveView: LiveViewMode = .auto
    /// Serve `/metrics` (Prometheus) and `/status.json` on this port; nil: no HTTP server.
    public var metricsPort: UInt16?
    /// Address the HTTP server listens on: loopback by default; `0.0.0.0` lets Prometheus or `status` on other hosts in.
    public var metricsHost = "127.0.0.1"
    /// Seconds between plain log lines when stderr is not a terminal.
    public var logInterval: Double = 10
    /// Summary table on stderr and throughput plot at the end.
    public var report = true

    public init() {}
}

/// Runs the monitoring around one farm job: live view, HTTP endpoint, and the report at the end.
public final class FarmMonitoringSession {
    public let monitor: FarmMonitor
    public let options: MonitoringOptions
    private let printer: LiveViewPrinter
    private let server: StatusServer?
    private let write: @Sendable (String) -> Void
    /// The port actually served (nil without `metricsPort`).
    public let port: UInt16?

    /// `job`: what the web page names the job (film, output, phase); nil lists no job.
    public init(monitor: FarmMonitor, options: MonitoringOptions, label: String = "restore", job: JobDescription? = nil,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) throws {
        self.monitor = monitor
        self.options = options
        self.write = write
        let mode = options.liveView.resolved()
        printer = LiveViewPrinter(mode: mode, label: label, interval: mode == .log ? options.logInterval : nil, write: write) {
            monitor.snapshot()
        }
        if let port = options.metricsPort {
            let jobs = job.map { [$0] } ?? []
            let server = try StatusServer(host: options.metricsHost, port: port, snapshot: { monitor.snapshot() }, web: {
                WebStatus(snapshot: monitor.snapshot(), history: monitor.histories().job, jobs: jobs)
            })
            self.port = try server.start()
            self.server = server
            write("monitoring: http://\(options.metricsHost):\(self.port!)/ (web page), /metrics (Prometheus), /status.json (lumiere-coordinator status --connect \(options.metricsHost):\(self.port!))\n")
        } else {
            server = nil
            port = nil
        }
        printer.start()
    }

    /// Whether the live view replaces the plain progress line on stderr.
    public var showsProgress: Bool { options.liveView.resolved() != .off }

    /// Stops the live view and the server; with `plotPath`, writes the summary table and the plot.
    public func finish(plotPath: String?) {
        printer.stop()
        server?.stop()
        guard options.report else { return }
        let snapshot = monitor.snapshot()
        var text = ThroughputReport.table(snapshot).joined(separator: "\n") + "\n"
        if let plotPath {
            do {
                try ThroughputReport.writePlot(monitor, to: plotPath)
                text += "throughput plot: \(plotPath)\n"
            } catch {
                text += "warning: \(error)\n"
            }
        }
        write(text)
    }
}
