import ArgumentParser
import CommandLineSupport
import Foundation
import Logging
import Transport

/// `lumiere-coordinator serve`: the head node's long-lived coordinator with a job queue (docs/operations.md,
/// "Running a service").
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the head node's coordinator as a service: a persistent job queue, workers kept between jobs.",
        discussion: """
        Jobs come from `lumiere-coordinator submit FILM -o OUT [restore options] --state-dir DIR` and run on the connected \
        workers, up to --running-jobs at once (highest priority first, then in submission order): their segments are \
        interleaved, a strictly higher priority first, equal priorities sharing the workers fairly; `jobs`, `cancel`, \
        `pause`, `resume` and `priority` manage them. They reach the service through a Unix socket in the state directory (0700, socket 0600: \
        only this user), or from other machines through --control-bind: a second endpoint, CURVE only, that accepts only \
        the client keys in --control-allow-keys (it refuses to start without them: never an open port) and logs each \
        request with the client's key. The queue is kept in DIR/queue.json and survives kill -9: after a restart \
        the jobs that were running resume from their own journals, without redoing a finished segment. Workers connect once \
        (`lumiere-worker --connect ENDPOINT`) and stay connected between jobs. SIGTERM or Ctrl-C stops the running jobs \
        at the end of the segments in hand (they stay queued) and exits with status 0; a second one exits at once (130).

        Example:
          lumiere-coordinator keygen --name coordinator && lumiere-coordinator keygen --name worker1
          lumiere-coordinator serve --state-dir /var/lib/lumiere --bind tcp://*:5555 --key coordinator.key --allow-keys worker1.pub
          lumiere-coordinator submit reel1.mkv -o reel1-4x.mp4 --scale 4 --state-dir /var/lib/lumiere
        From other machines (keygen --name alice there; alice.pub copied to clients/ on the head node):
          lumiere-coordinator serve … --control-bind tcp://*:5556 --control-allow-keys clients/
          lumiere-coordinator submit /srv/films/reel2.mkv -o /srv/restored/reel2.mp4 --service tcp://head:5556 \\
              --server-key coordinator.pub --key alice.key
        """)

    @Option(help: ArgumentHelp("The service's state directory (created 0700): queue, control socket, lock.", valueName: "dir"))
    var stateDir: String

    @Option(help: ArgumentHelp("Where workers connect, e.g. tcp://*:5555 (with --key) or tcp://127.0.0.1:5555.", valueName: "endpoint"))
    var bind: String

    @Option(help: "Serve the web page (/), Prometheus metrics (/metrics) and the farm status (/farm.json, /status.json) on this HTTP port for the life of the service: the queue, the running job and the workers (0: a free port, printed at start).")
    var metricsPort: UInt16?

    @Option(help: "Address for --metrics-port: 127.0.0.1 (this machine only) or 0.0.0.0.")
    var metricsHost: String = "127.0.0.1"

    @Option(help: "The coordinator's CURVE secret key file (NAME.key, with NAME.pub beside it); enables encryption and authentication.")
    var key: String?

    @Option(help: "Worker public keys (.pub files, or a directory of them) allowed to join; required with --key.")
    var allowKeys: [String] = []

    @Option(help: ArgumentHelp("A control endpoint for other machines, e.g. tcp://*:5556: CURVE with the service's --key; needs --control-allow-keys.",
                               valueName: "endpoint"))
    var controlBind: String?

    @Option(help: ArgumentHelp("Client public keys (.pub files, or a directory of them) allowed to submit and manage jobs through --control-bind.",
                               valueName: "file|dir"))
    var controlAllowKeys: [String] = []

    @Flag(help: "Allow --bind on a non-loopback address without keys (traffic unencrypted, anyone may join).")
    var insecure = false

    @Option(help: "Jobs on the farm at once; their segments are interleaved (a higher priority first, equal ones share the workers). Each running job also analyses, cuts and encodes its film on this machine.")
    var runningJobs: Int = 2

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .notice

    @Option(help: "Log lines on stderr: text or json.")
    var logFormat: LogFormat = .text

    func validate() throws {
        guard runningJobs >= 1 else { throw ValidationError("--running-jobs must be at least 1 (one job on the farm at a time)") }
    }

    func run() throws {
        logFormat.bootstrap()
        try failing {
            var options = ServiceOptions(stateDirectory: stateDir, bind: bind)
            options.metricsPort = metricsPort
            options.metricsHost = metricsHost
            options.insecure = insecure
            options.runningJobs = runningJobs
            options.curve = try RestoreCommand.curve(key: key, allowKeys: allowKeys)
            if let controlBind {
                options.remoteControl = try RemoteControlOptions(endpoint: controlBind, keys: options.curve?.keys,
                                                                 allowedClients: try RestoreCommand.namedPublicKeys(controlAllowKeys))
            } else if !controlAllowKeys.isEmpty {
                throw ValidationFailure("--control-allow-keys is for --control-bind tcp://HOST:PORT (the endpoint other machines submit through)")
            }
            var logger = Logger(label: "lumiere-coordinator")
            logger.logLevel = logLevel
            try FarmService(options: options, logger: logger).run()
        }
    }
}
