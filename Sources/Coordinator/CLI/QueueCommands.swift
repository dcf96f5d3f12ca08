import ArgumentParser
import CommandLineSupport
import Foundation
import Media
import Processors
import Transport

/// `submit`, `jobs`, `cancel`, `pause`, `resume`, `priority`: the service's queue, through the Unix socket in its
/// state directory, or from another machine through its CURVE control endpoint (docs/operations.md, "Running a service").
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Queue a film on a running service: the same FILM -o OUT and options as `restore`; prints the job's id.",
        discussion: """
        Every restore option is accepted and checked exactly as `restore` checks it (a bad one is refused with the same \
        message and exit status, before anything is queued); relative paths are taken from the current directory. The \
        farm options are the service's (--bind, --workers, --worker-threads, --in-process, --allow-keys, --insecure \
        are refused). Higher --priority runs first; equal priorities run in submission order.

        From another machine (--service, with --server-key and your own --key): the paths are the head node's — the \
        film and the output must be on storage the head node sees, given as absolute paths there — and the service \
        checks them (a missing film is refused with the same message and status as a local submit).

        Examples:
          lumiere-coordinator submit reel1.mkv -o reel1-4x.mp4 --scale 4 --state-dir /var/lib/lumiere --priority 5
          lumiere-coordinator submit /srv/films/reel2.mkv -o /srv/restored/reel2-4x.mp4 --scale 4 \\
              --service tcp://head:5556 --server-key coordinator.pub --key alice.key
        """)

    @OptionGroup var address: ServiceAddress

    @Option(help: "Higher runs first (default 0); a job running at a lower priority makes way at the end of its segments in hand.")
    var priority: Int?

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("FILM -o OUT and any `restore` option.", valueName: "restore arguments"))
    var restoreArguments: [String] = []

    func run() throws {
        // The passthrough argument takes `--help` too: with no film before it, it is a request for this help.
        if restoreArguments.isEmpty || ["--help", "-h", "help"].contains(restoreArguments[0]) { throw CleanExit.helpRequest(self) }
        try failing {
            var rest: [String] = []
            var priority = self.priority
            var addressArguments: [String] = []
            var iterator = restoreArguments.makeIterator()
            // The address options and --priority may also come after FILM (passthrough keeps everything after the first
            // positional); --key there is the client's key for --service, not restore's.
            while let argument = iterator.next() {
                if let option = ServiceAddress.optionNames.first(where: { argument == $0 || argument.hasPrefix($0 + "=") }) {
                    addressArguments.append(argument)
                    if argument == option, let value = iterator.next() { addressArguments.append(value) }
                    continue
                }
                if argument == "--priority" {
                    guard let value = iterator.next(), let number = Int(value) else { throw ValidationFailure("--priority needs a whole number") }
                    priority = number
                    continue
                }
                rest.append(argument)
            }
            var address = self.address
            if !addressArguments.isEmpty {
                let after: ServiceAddress
                do { after = try ServiceAddress.parse(addressArguments) } catch { SubmitCommand.exit(withError: error) }
                address.merge(after)
            }
            try address.check()
            // Parsed as `restore` is, by the same root command: a bad option prints restore's own message and exits 64.
            let parsed: ParsableCommand
            do { parsed = try CoordinatorCommand.parseAsRoot(["restore"] + rest) } catch { CoordinatorCommand.exit(withError: error) }
            guard var command = parsed as? RestoreCommand else { throw ValidationFailure("submit takes FILM -o OUT and restore options") }
            if let option = command.serviceOwnedOption {
                throw ValidationFailure("\(option) is the service's to set (serve --bind … --key …): a submitted job runs on the service's workers; drop \(option)")
            }
            if address.service != nil {
                // The paths are the head node's: the service checks them and the film there (RemoteSubmission).
                let reply = try serviceRequest(ControlRequest(command: .submit, priority: priority, arguments: rest), address)
                guard let id = reply.job else { throw ServiceError.badReply("no job id") }
                print(id)
                return
            }
            let directory = FileManager.default.currentDirectoryPath
            command.resolvePaths(against: directory)
            try command.checkBeforeQueueing()
            let reply = try serviceRequest(ControlRequest(command: .submit, priority: priority, arguments: rest, directory: directory), address)
            guard let id = reply.job else { throw ServiceError.badReply("no job id") }
            print(id)
        }
    }
}

struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the service's jobs: id, state, priority, progress, film, output.")

    @OptionGroup var address: ServiceAddress

    @Flag(help: "One JSON array of jobs (id, state, priority, progress, framesDone, framesTotal, runs, film, output, message).")
    var json = false

    func run() throws {
        try failing {
            let jobs = try serviceRequest(ControlRequest(command: .jobs), address).jobs ?? []
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(jobs), as: UTF8.self))
            } else {
                print(JobsCommand.table(jobs), terminator: "")
            }
        }
    }

    /// The rows as aligned columns (film and output last: long paths do not push the rest around).
    static func table(_ jobs: [JobView]) -> String {
        let header = ["ID", "STATE", "PRIORITY", "PROGRESS", "FILM", "OUTPUT"]
        let rows = [header] + jobs.map { ["\($0.id)", $0.state, "\($0.priority)", $0.progress, $0.film, $0.output] }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

/// `cancel JOB`, `pause JOB`, `resume JOB`: one job, one word.
struct JobControlOptions: ParsableArguments {
    @Argument(help: "The job's id (as `submit` printed it, or `jobs` lists it).")
    var job: Int

    @OptionGroup var address: ServiceAddress
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job; a running one stops at the end of its segments in hand. Its job directory is kept (submitting it again resumes it).")
    @OptionGroup var options: JobControlOptions
    func run() throws { try failing { _ = try serviceRequest(ControlRequest(command: .cancel, job: options.job), options.address) } }
}

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a job; a running one stops at the end of its segments in hand and the next job starts. `resume` continues it from its journal.")
    @OptionGroup var options: JobControlOptions
    func run() throws { try failing { _ = try serviceRequest(ControlRequest(command: .pause, job: options.job), options.address) } }
}

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Queue a paused job again (in its place by priority and submission); it continues from its journal.")
    @OptionGroup var options: JobControlOptions
    func run() throws { try failing { _ = try serviceRequest(ControlRequest(command: .resume, job: options.job), options.address) } }
}

struct PriorityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "priority",
        abstract: "Set a job's priority (higher runs first; a running job makes way for a higher one at the end of its segments in hand).")
    @OptionGroup var options: JobControlOptions
    @Argument(help: "The new priority (any whole number; default of new jobs: 0).")
    var priority: Int
    func run() throws {
        try failing { _ = try serviceRequest(ControlRequest(command: .priority, job: options.job, priority: priority), options.address) }
    }
}

/// Sends a request; a refusal by the service exits with the status it gives (64: the request was wrong).
private func serviceRequest(_ request: ControlRequest, _ address: ServiceAddress) throws -> ControlReply {
    do {
        return try address.send(request)
    } catch ServiceError.refused(let message, let status) {
        ConsoleLine.write(.error, "error", message, label: "lumiere-coordinator")
        throw ExitCode(status)
    }
}

/// Where the service is: its state directory on this machine, or its control endpoint on another (CURVE).
struct ServiceAddress: ParsableArguments {
    @Option(help: ArgumentHelp("The service's state directory on this machine (as given to `serve`); its Unix socket.", valueName: "dir"))
    var stateDir: String?

    @Option(help: ArgumentHelp("A service on another machine: its --control-bind endpoint, e.g. tcp://head:5556 (with --server-key and --key).",
                               valueName: "endpoint"))
    var service: String?

    @Option(help: ArgumentHelp("With --service: the head node's public key (its coordinator.pub, as workers have it).", valueName: "file"))
    var serverKey: String?

    @Option(help: ArgumentHelp("With --service: your own secret key (NAME.key, NAME.pub beside it; the service lists NAME.pub in --control-allow-keys).",
                               valueName: "file"))
    var key: String?

    @Option(help: "Seconds to wait for the service's reply before giving up with a message.")
    var timeout: Double = 15

    /// The options `submit` takes out of its passthrough arguments.
    static let optionNames = ["--state-dir", "--service", "--server-key", "--key", "--timeout"]

    /// Values given after FILM override those before it.
    mutating func merge(_ other: ServiceAddress) {
        stateDir = other.stateDir ?? stateDir
        service = other.service ?? service
        serverKey = other.serverKey ?? serverKey
        key = other.key ?? key
        if other.timeout != 15 { timeout = other.timeout }
    }

    /// Not `validate()`: ArgumentParser would call that before `submit` has read the options given after FILM.
    func check() throws {
        guard timeout > 0 else { throw ValidationFailure("--timeout must be more than 0 seconds") }
        switch (stateDir, service) {
        case (nil, nil):
            throw ValidationFailure("give --state-dir DIR (a service on this machine) or --service tcp://HOST:PORT --server-key coordinator.pub "
                                    + "--key YOU.key (a service on another machine)")
        case (.some, .some):
            throw ValidationFailure("give --state-dir (this machine) or --service (another machine), not both")
        case (.some, nil):
            if let option = key != nil ? "--key" : serverKey != nil ? "--server-key" : nil {
                throw ValidationFailure("\(option) is for --service (another machine); the Unix socket in --state-dir needs no keys")
            }
        case (nil, .some):
            guard serverKey != nil, key != nil else {
                throw ValidationFailure("--service needs --server-key (the head node's coordinator.pub) and --key (your NAME.key; the service lists "
                                        + "NAME.pub in --control-allow-keys): lumiere-coordinator keygen --name NAME")
            }
        }
    }

    func send(_ request: ControlRequest) throws -> ControlReply {
        try check()
        guard let endpoint = service, let serverKey, let key else {
            return try ControlClient.send(request, stateDirectory: stateDir ?? "", timeoutSeconds: timeout)
        }
        let secret = URL(fileURLWithPath: key)
        let keys = try CurveKeyPair.load(secretFile: secret, publicFile: secret.deletingPathExtension().appendingPathExtension("pub"))
        let server = try CurveKeyPair.readKeyFile(URL(fileURLWithPath: serverKey))
        return try ControlClient.send(request, service: RemoteService(endpoint: endpoint, serverPublicKey: server, clientKeys: keys), timeoutSeconds: timeout)
    }
}

extension RestoreCommand {
    /// The farm option a submitted job may not set (the service's), or nil.
    var serviceOwnedOption: String? {
        let owned: [(Bool, String)] = [(bind != nil, "--bind"), (workers != nil, "--workers"), (workerThreads != nil, "--worker-threads"),
                                       (inProcess, "--in-process"), (key != nil, "--key"), (!allowKeys.isEmpty, "--allow-keys"), (insecure, "--insecure")]
        return owned.first { $0.0 }?.1
    }

    /// Everything `restore` checks before any work, for `submit` (here, or on the service for a remote one): the
    /// options, the output, and that the film opens (its header), so a job that cannot start is never queued.
    func checkBeforeQueueing() throws {
        let (settings, _) = try prepared()
        try OutputTarget(settings.output, overwrite: settings.overwrite).validate(input: settings.input)
        _ = try MediaInput(source: settings.source)
    }

    /// The paths on the command line (those `resolvePaths` makes absolute), by option.
    var pathOptions: [(name: String, value: String)] {
        var paths = [("FILM", input), ("-o", output)]
        if let jobDir { paths.append(("--job-dir", jobDir)) }
        if let shots { paths.append(("--shots", shots)) }
        if let modelsDir { paths.append(("--models-dir", modelsDir)) }
        if OwnModel.isPath(processor) { paths.append(("--model", processor)) }
        return paths
    }

    /// Relative paths made absolute against `directory` (the submitter's): the service runs elsewhere.
    mutating func resolvePaths(against directory: String) {
        func absolute(_ path: String) -> String {
            guard !path.hasPrefix("/"), !path.contains("://") else { return path }
            return URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
        }
        input = absolute(input)
        output = absolute(output)
        jobDir = jobDir.map(absolute)
        shots = shots.map(absolute)
        modelsDir = modelsDir.map(absolute)
        if OwnModel.isPath(processor) { processor = absolute(processor) }
    }
}
