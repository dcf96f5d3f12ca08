import CommandLineSupport
import Foundation
import Inference
import Processors

/// Worker processes that `restore` starts on this machine when no `--bind` is given: the farm in miniature,
/// speaking the same protocol over an ipc:// socket.
final class LocalWorkers {
    private var processes: [Process] = []

    /// The `lumiere-worker` executable: `$LUMIERE_WORKER`, else beside the running executable.
    static func workerExecutable() throws -> URL {
        if let env = ProcessInfo.processInfo.environment["LUMIERE_WORKER"], !env.isEmpty { return URL(fileURLWithPath: env) }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let candidates = [me.deletingLastPathComponent().appendingPathComponent("lumiere-worker"),
                          URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("lumiere-worker")]
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        throw LocalWorkerError.executableMissing(candidates.map(\.path))
    }

    enum LocalWorkerError: Error, CustomStringConvertible {
        case executableMissing([String])
        var description: String {
            switch self {
            case .executableMissing(let paths):
                return "cannot find lumiere-worker (looked at \(paths.joined(separator: ", "))); build it with `swift build -c release` or set LUMIERE_WORKER"
            }
        }
    }

    /// Starts `count` workers with `threads` threads each, `--device device` and `--precision precision`, logging to
    /// `logDirectory`.
    func start(count: Int, threads: Int, device: DeviceRequest = .auto, precision: GPUPrecision = .fp32, endpoint: String, workDirectory: URL,
               logDirectory: URL) throws {
        let executable = try LocalWorkers.workerExecutable()
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        for index in 0..<count {
            let process = Process()
            process.executableURL = executable
            let name = "local-\(index + 1)"
            process.arguments = ["--connect", endpoint, "--threads", "\(threads)", "--device", device.description, "--precision", precision.rawValue, "--name", name, "--exit-with-parent",
                                 "--work-dir", workDirectory.appendingPathComponent(name).path, "--log-level", "warning",
                                 "--log-format", LogFormat.current.rawValue]
                + (ModelLocator.commandLineDirectory.map { ["--models-dir", $0] } ?? [])
            let log = logDirectory.appendingPathComponent("\(name).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            processes.append(process)
        }
    }

    /// Asks every worker to leave (SIGTERM) and waits a little; stragglers are killed.
    func stop() {
        for p in processes where p.isRunning { p.terminate() }
        let deadline = Date().addingTimeInterval(5)
        while processes.contains(where: \.isRunning) && Date() < deadline { usleep(20_000) }
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in processes { p.waitUntilExit() }
        processes.removeAll()
    }

    /// Kills every worker at once (second interrupt); safe from a signal handler's queue.
    func killAll() {
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}
