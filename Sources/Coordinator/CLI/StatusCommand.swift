import ArgumentParser
import Foundation

/// `lumiere-coordinator status --connect HOST:PORT`: the live view of a running coordinator, from anywhere
/// that can reach its `--metrics-port`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running coordinator's farm: progress, ETA and one line per worker.",
        discussion: """
        The coordinator must run with --metrics-port (and --metrics-host 0.0.0.0 to be reached from another machine).

        Examples:
          lumiere-coordinator status --connect head:9090
          lumiere-coordinator status --connect head:9090 --watch
          lumiere-coordinator status --connect http://head:9090 --json | jq .workers
        """)

    @Option(help: ArgumentHelp("The coordinator's status endpoint: HOST:PORT or http://HOST:PORT (its --metrics-port).", valueName: "endpoint"))
    var connect: String

    @Flag(help: "Print the status as JSON (the same document as http://HOST:PORT/status.json).")
    var json = false

    @Flag(help: "Keep redrawing until the job finishes or Ctrl-C.")
    var watch = false

    @Option(help: "Seconds between refreshes with --watch.")
    var interval: Double = 1

    func run() throws {
        try failing {
            let endpoint = try StatusClient.Endpoint(parsing: connect)
            guard interval >= 0.1 else { throw ValidationFailure("--interval must be at least 0.1 s") }
            if json {
                let snapshot = try StatusClient.fetchStatus(endpoint)
                FileHandle.standardOutput.write(try snapshot.jsonData() + Data("\n".utf8))
                return
            }
            let terminal = isatty(STDOUT_FILENO) == 1
            var drawn = 0
            while true {
                let snapshot = try StatusClient.fetchStatus(endpoint)
                let lines = LiveView.lines(snapshot, label: "farm", width: terminal ? LiveViewPrinter.terminalWidth() : 200)
                let text = terminal && watch ? LiveView.redraw(lines, previous: drawn) : lines.joined(separator: "\n") + "\n"
                FileHandle.standardOutput.write(Data(text.utf8))
                drawn = lines.count
                if !watch || snapshot.finished { return }
                Thread.sleep(forTimeInterval: interval)
            }
        }
    }
}

/// The monitoring options of `restore`.
struct MonitoringCommandOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Farm view on stderr: auto (live on a terminal, log lines otherwise), live, log, off.", valueName: "mode"))
    var status: LiveViewMode = .auto

    @Option(help: "Serve Prometheus metrics (/metrics) and the farm status (/status.json, for `status --connect`) on this HTTP port.")
    var metricsPort: UInt16?

    @Option(help: "Address for --metrics-port: 127.0.0.1 (this machine only) or 0.0.0.0 (Prometheus and `status` from other hosts).")
    var metricsHost: String = "127.0.0.1"

    func settings(quiet: Bool) throws -> MonitoringOptions {
        let mode = status
        var options = MonitoringOptions()
        options.liveView = quiet ? .off : mode
        options.report = !quiet
        options.metricsPort = metricsPort
        options.metricsHost = metricsHost
        return options
    }
}
