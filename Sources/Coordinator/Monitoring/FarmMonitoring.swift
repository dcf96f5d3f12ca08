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

    /// `endpoint`: the job's own HTTP endpoint, already serving (it shows this farm from now on); without one, and with
    /// `options.metricsPort`, the session serves the farm phase itself.
    public init(monitor: FarmMonitor, options: MonitoringOptions, label: String = "restore", endpoint: JobEndpoint? = nil,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) throws {
        self.monitor = monitor
        self.options = options
        self.write = write
        let mode = options.liveView.resolved()
        printer = LiveViewPrinter(mode: mode, label: label, interval: mode == .log ? options.logInterval : nil, write: write) {
            monitor.snapshot()
        }
        if let endpoint {
            endpoint.attach(monitor)
            server = nil
            port = endpoint.port
        } else if let port = options.metricsPort {
            let server = try StatusServer(host: options.metricsHost, port: port, snapshot: { monitor.snapshot() })
            self.port = try server.start()
            self.server = server
            write(JobEndpoint.announcement(host: options.metricsHost, port: self.port!))
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

/// One job's HTTP endpoint for its whole life (`restore --metrics-port`): started before the film is even probed,
/// stopped when the job ends, so Prometheus sees the analysis, split and encode too, not only the farm. The farm's
/// monitor is attached when the farm phase starts; before that the farm's series read as an idle farm.
public final class JobEndpoint: @unchecked Sendable {
    private let lock = NSLock()
    private var monitor: FarmMonitor?
    private let server: StatusServer
    /// The port actually served (`metricsPort` 0 picks a free one).
    public let port: UInt16

    /// Listens on `options.metricsHost`:`port` now; `jobs` is read at each scrape (`lumiere_phase`, `lumiere_job_info` …).
    public init(options: MonitoringOptions, port: UInt16, jobs: @escaping @Sendable () -> JobList,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) throws {
        let box = Box()
        server = try StatusServer(host: options.metricsHost, port: port, snapshot: { box.endpoint?.snapshot() ?? .idle },
                                  metrics: FarmMetrics(jobs: jobs), web: { box.endpoint?.webStatus(jobs()) ?? WebStatus(jobs: jobs()) })
        self.port = try server.start()
        box.endpoint = self
        write(JobEndpoint.announcement(host: options.metricsHost, port: self.port))
    }

    /// The farm whose state is served from now on (it stays served after the farm phase, finished, until `stop`).
    public func attach(_ monitor: FarmMonitor) { lock.withLock { self.monitor = monitor } }

    public func snapshot() -> FarmSnapshot { lock.withLock { monitor }?.snapshot() ?? .idle }

    /// The web page's model: `jobs` with the attached farm's progress and throughput (none before the farm phase).
    public func webStatus(_ jobs: JobList) -> WebStatus {
        guard let monitor = lock.withLock({ monitor }) else { return WebStatus(jobs: jobs) }
        return WebStatus(snapshot: monitor.snapshot(), history: monitor.histories().job, jobs: jobs)
    }

    public func stop() { server.stop() }

    /// The line that tells the user where to point Prometheus (tests read the port from it).
    public static func announcement(host: String, port: UInt16) -> String {
        "monitoring: http://\(host):\(port)/ (web page), /metrics (Prometheus), /status.json (lumiere-coordinator status --connect \(host):\(port))\n"
    }

    /// The endpoint, set once it exists (the server's routes are made before `self` is).
    private final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private weak var _endpoint: JobEndpoint?
        var endpoint: JobEndpoint? {
            get { lock.withLock { _endpoint } }
            set { lock.withLock { _endpoint = newValue } }
        }
    }
}
