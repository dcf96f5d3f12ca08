import ArgumentParser
import CommandLineSupport
import Foundation
import Media

/// `lumiere-coordinator`: restores films, alone or with a farm of workers.
public struct CoordinatorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lumiere-coordinator",
        abstract: "Restore old film: neural super-resolution and frame interpolation, spread over a farm of workers.",
        discussion: """
        Start with `lumiere-coordinator restore FILM -o OUT.mp4 --scale 4`.
        `lumiere-coordinator probe FILM` shows what a file holds; `lumiere-coordinator shots FILM` lists its shots; `lumiere-coordinator models` lists the models; `lumiere-coordinator compare FILM --at 5 --models a,b` shows them side by side.
        A head node with a job queue: `lumiere-coordinator serve --state-dir DIR --bind tcp://*:5555`, then `submit FILM -o OUT --state-dir DIR`, `jobs`, `pause`, `resume`, `cancel`, `priority`.
        """,
        version: BuildInfo.versionLine,
        subcommands: [RestoreCommand.self, CompareCommand.self, ProbeCommand.self, ShotsCommand.self, ModelsCommand.self, KeygenCommand.self, StatusCommand.self,
                      ServeCommand.self, SubmitCommand.self, JobsCommand.self, CancelCommand.self, PauseCommand.self, ResumeCommand.self,
                      PriorityCommand.self],
        defaultSubcommand: nil)

    @Flag(help: DeviceListingCommand.help)
    var listDevices = false

    public init() {}

    /// The command line as ArgumentParser needs it: options with an optional value (`restore --deflicker[=S]`) spelled out.
    public static func arguments(_ arguments: [String]) -> [String] { FilmRestorationOptions.expandingBareOptions(arguments) }

    /// Only `--list-devices` runs without a subcommand; otherwise the help.
    public func run() throws {
        guard listDevices else { throw CleanExit.helpRequest(self) }
        DeviceListingCommand.print()
    }
}

/// Exit statuses beyond 0 (documented in the README, "Exit status"); a stop on request exits with
/// `StopSignal.interruptedExitCode` (130) or `terminatedExitCode` (143). Schedulers retry those, never these.
public enum ExitStatus {
    /// An error (one sentence on stderr): running the same command again would fail the same way.
    public static let failure: Int32 = 1
    /// EX_USAGE: the command line cannot be run as given — a value not in an option's list (ArgumentParser), a trim
    /// that cannot be cut (`TrimFailure`, or `--start` past the film's end found while decoding), or an output that
    /// exists without --overwrite. Nothing was written. (Other refused values, `ValidationFailure`, still exit 1.) For `compare`, also a time beyond the
    /// film's end or a crop outside its picture (found from the film's header, before any frame is processed).
    public static let usage: Int32 = 64
}

/// Prints a failure as one sentence (a JSON record with `--log-format json`) and exits non-zero. `stop`: the job's
/// stop signal, whose first signal picks a stop's status (130 Ctrl-C, 143 SIGTERM).
func failing<T>(stop: StopSignal? = nil, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        ConsoleLine.write(.error, "error", failureMessage(error), label: "lumiere-coordinator")
        // The stop's status is read when the stop is reported.
        throw ExitCode(exitStatus(of: error, stopped: stop?.requestedExitCode ?? StopSignal.exitCode))
    }
}

/// The sentence `failing` prints for an error.
func failureMessage(_ error: Error) -> String { String(describing: error) }

/// The exit status `failing` gives an error; the service gives a remote `submit` the same for what it checks there.
func exitStatus(of error: Error, stopped: Int32 = StopSignal.exitCode) -> Int32 {
    switch error {
    case let error as RestoreError:
        switch error {
        case .interrupted: return stopped
        case .outputExists: return ExitStatus.usage
        default: return ExitStatus.failure
        }
    case is TrimFailure, is CompareError:
        return ExitStatus.usage
    case let error as MediaError:
        if case .trimBeyondEnd = error { return ExitStatus.usage }
        return ExitStatus.failure
    case let error as FarmError:
        if case .interrupted = error { return stopped }
        return ExitStatus.failure
    default:
        return ExitStatus.failure
    }
}
