import ArgumentParser
import Foundation

/// `lumiere-coordinator`: restores films, alone or with a farm of workers.
public struct CoordinatorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lumiere-coordinator",
        abstract: "Restore old film: neural super-resolution and frame interpolation, spread over a farm of workers.",
        discussion: """
        Start with `lumiere-coordinator restore FILM -o OUT.mp4 --scale 4`.
        `lumiere-coordinator probe FILM` shows what a file holds; `lumiere-coordinator shots FILM` lists its shots; `lumiere-coordinator models` lists the models.
        """,
        subcommands: [RestoreCommand.self, ProbeCommand.self, ShotsCommand.self, ModelsCommand.self, KeygenCommand.self, StatusCommand.self],
        defaultSubcommand: nil)

    public init() {}
}

/// Prints a failure as one sentence and exits non-zero.
func failing<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as RestoreError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        if case .interrupted = error { throw ExitCode(StopSignal.exitCode) }
        throw ExitCode(1)
    } catch let error as FarmError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        if case .interrupted = error { throw ExitCode(StopSignal.exitCode) }
        throw ExitCode(1)
    } catch let error as CustomStringConvertible {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(1)
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
