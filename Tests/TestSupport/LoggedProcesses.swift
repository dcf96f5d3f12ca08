import Foundation

/// Long-running products a test starts and talks to while they run (a service, its workers, a coordinator under
/// fault), each writing stdout and stderr to its own log file in the test's directory. `stopAll` (the test's
/// tearDown) SIGKILLs whatever still runs and reaps it, so a failed test leaves no process behind.
public final class LoggedProcesses {
    public let directory: URL
    /// Every process started, in order (running or not).
    public private(set) var all: [Process] = []

    public init(in directory: URL) { self.directory = directory }

    /// Starts the built product `name` (see `Fixtures.product`), logging to `log` in the directory.
    @discardableResult
    public func launch(_ name: String, _ arguments: [String], log: String) throws -> Process {
        try launch(executable: try Fixtures.product(name), arguments, log: log)
    }

    @discardableResult
    public func launch(executable: URL, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let logURL = directory.appendingPathComponent(log)
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        all.append(process)
        return process
    }

    /// What the log file `name` holds so far ("" before it exists).
    public func log(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    public func stopAll() {
        for process in all where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in all { process.waitUntilExit() }
        all.removeAll()
    }
}

extension Fixtures {
    /// Polls `condition` every `poll` seconds until it holds or `seconds` have passed; one last look at the end.
    public static func waitFor(_ seconds: Double, every poll: Double = 0.05, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: poll)
        }
        return condition()
    }
}
