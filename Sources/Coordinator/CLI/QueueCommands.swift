import ArgumentParser
import CommandLineSupport
import Foundation
import Processors

/// `submit`, `jobs`, `cancel`, `pause`, `resume`, `priority`: the service's queue, through the Unix socket in its
/// state directory (docs/operations.md, "Running a service").
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Queue a film on a running service: the same FILM -o OUT and options as `restore`; prints the job's id.",
        discussion: """
        Every restore option is accepted and checked exactly as `restore` checks it (a bad one is refused with the same \
        message and exit status, before anything is queued); relative paths are taken from the current directory. The \
        farm options are the service's (--bind, --workers, --worker-threads, --in-process, --key, --allow-keys, --insecure \
        are refused). Higher --priority runs first; equal priorities run in submission order.

        Example:
          lumiere-coordinator submit reel1.mkv -o reel1-4x.mp4 --scale 4 --state-dir /var/lib/lumiere --priority 5
        """)

    @Option(help: ArgumentHelp("The service's state directory (as given to `serve`).", valueName: "dir"))
    var stateDir: String?

    @Option(help: "Higher runs first (default 0); a job running at a lower priority makes way at the end of its segments in hand.")
    var priority: Int?

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("FILM -o OUT and any `restore` option.", valueName: "restore arguments"))
    var restoreArguments: [String] = []

    func run() throws {
        // The passthrough argument takes `--help` too: with no film before it, it is a request for this help.
        if restoreArguments.isEmpty || ["--help", "-h", "help"].contains(restoreArguments[0]) { throw CleanExit.helpRequest(self) }
        try failing {
            var rest: [String] = []
            var stateDir = self.stateDir, priority = self.priority
            var iterator = restoreArguments.makeIterator()
            // --state-dir and --priority may also come after FILM (passthrough keeps everything after the first positional).
            while let argument = iterator.next() {
                if argument == "--state-dir" { stateDir = iterator.next(); continue }
                if argument.hasPrefix("--state-dir=") { stateDir = String(argument.dropFirst("--state-dir=".count)); continue }
                if argument == "--priority" {
                    guard let value = iterator.next(), let number = Int(value) else { throw ValidationFailure("--priority needs a whole number") }
                    priority = number
                    continue
                }
                rest.append(argument)
            }
            guard let stateDir else { throw ValidationFailure("submit needs --state-dir DIR (the service's, as given to `serve`)") }
            // Parsed as `restore` is, by the same root command: a bad option prints restore's own message and exits 64.
            let parsed: ParsableCommand
            do { parsed = try CoordinatorCommand.parseAsRoot(["restore"] + rest) } catch { CoordinatorCommand.exit(withError: error) }
            guard var command = parsed as? RestoreCommand else { throw ValidationFailure("submit takes FILM -o OUT and restore options") }
            let refused: [(Bool, String)] = [(command.bind != nil, "--bind"), (command.workers != nil, "--workers"),
                                             (command.workerThreads != nil, "--worker-threads"), (command.inProcess, "--in-process"),
                                             (command.key != nil, "--key"), (!command.allowKeys.isEmpty, "--allow-keys"),
                                             (command.insecure, "--insecure")]
            if let option = refused.first(where: { $0.0 })?.1 {
                throw ValidationFailure("\(option) is the service's to set (serve --bind … --key …): a submitted job runs on the service's workers; drop \(option)")
            }
            let directory = FileManager.default.currentDirectoryPath
            command.resolvePaths(against: directory)
            // Everything `restore` checks before any work, here and now: the options, the source's header, the output.
            let (settings, _) = try command.prepared()
            try OutputTarget(settings.output, overwrite: settings.overwrite).validate(input: settings.input)
            let reply = try serviceRequest(ControlRequest(command: .submit, priority: priority, arguments: rest, directory: directory), stateDir)
            guard let id = reply.job else { throw ServiceError.badReply("no job id") }
            print(id)
        }
    }
}

struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the service's jobs: id, state, priority, progress, film, output.")

    @Option(help: ArgumentHelp("The service's state directory.", valueName: "dir"))
    var stateDir: String

    @Flag(help: "One JSON array of jobs (id, state, priority, progress, framesDone, framesTotal, runs, film, output, message).")
    var json = false

    func run() throws {
        try failing {
            let jobs = try serviceRequest(ControlRequest(command: .jobs), stateDir).jobs ?? []
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

    @Option(help: ArgumentHelp("The service's state directory.", valueName: "dir"))
    var stateDir: String
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job; a running one stops at the end of its segments in hand. Its job directory is kept (submitting it again resumes it).")
    @OptionGroup var options: JobControlOptions
    func run() throws { try failing { _ = try serviceRequest(ControlRequest(command: .cancel, job: options.job), options.stateDir) } }
}

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a job; a running one stops at the end of its segments in hand and the next job starts. `resume` continues it from its journal.")
    @OptionGroup var options: JobControlOptions
    func run() throws { try failing { _ = try serviceRequest(ControlRequest(command: .pause, job: options.job), options.stateDir) } }
}

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Queue a paused job again (in its place by priority and submission); it continues from its journal.")
    @OptionGroup var options: JobControlOptions
    func run() throws { try failing { _ = try serviceRequest(ControlRequest(command: .resume, job: options.job), options.stateDir) } }
}

struct PriorityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "priority",
        abstract: "Set a job's priority (higher runs first; a running job makes way for a higher one at the end of its segments in hand).")
    @OptionGroup var options: JobControlOptions
    @Argument(help: "The new priority (any whole number; default of new jobs: 0).")
    var priority: Int
    func run() throws {
        try failing { _ = try serviceRequest(ControlRequest(command: .priority, job: options.job, priority: priority), options.stateDir) }
    }
}

/// Sends a request; a refusal by the service exits with the status it gives (64: the request was wrong).
private func serviceRequest(_ request: ControlRequest, _ stateDir: String) throws -> ControlReply {
    do {
        return try ControlClient.send(request, stateDirectory: stateDir)
    } catch ServiceError.refused(let message, let status) {
        ConsoleLine.write(.error, "error", message, label: "lumiere-coordinator")
        throw ExitCode(status)
    }
}

extension RestoreCommand {
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
