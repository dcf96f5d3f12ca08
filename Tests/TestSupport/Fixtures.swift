import Foundation

/// Where tests find real footage and models, and how they make small synthetic clips.
public enum Fixtures {
    /// The repository root (tests live two levels below it).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$LUMIERE_FOOTAGE`, else `../shared/footage` beside the repository.
    public static var footage: URL {
        if let env = ProcessInfo.processInfo.environment["LUMIERE_FOOTAGE"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/footage")
    }

    /// A real footage file, or nil when the footage folder is not there (the test then skips).
    public static func footage(_ relative: String) -> String? {
        let path = footage.appendingPathComponent(relative).path
        if FileManager.default.fileExists(atPath: path) { return path }
        // Without ../shared, scripts/setup.sh still puts the 1906 film in footage/ (from a Debian package).
        let local = repositoryRoot.appendingPathComponent("footage").appendingPathComponent(URL(fileURLWithPath: relative).lastPathComponent).path
        return relative.hasPrefix("oldfilm/") && FileManager.default.fileExists(atPath: local) ? local : nil
    }

    /// A real footage file (or folder) a test cannot run without. Missing: a skip naming it on a developer's machine
    /// or a clone without ../shared (scripts/test.sh says once why so many skip), a failure in CI (`strict`).
    public static func requireFootage(_ relative: String) throws -> String {
        if let path = footage(relative) { return path }
        let path = footage.appendingPathComponent(relative).path
        if FileManager.default.fileExists(atPath: path) { return path } // a folder
        throw missing("needs ../shared/footage (\(relative)); set LUMIERE_FOOTAGE or put the shared footage beside the repository")
    }

    /// A fresh temporary directory for one test.
    public static func temporaryDirectory(_ name: String = "lumiere-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a tool (ffmpeg/ffprobe/python3 — test fixtures and oracles only, never the product). Returns stdout.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String]) throws -> String {
        String(decoding: try runData(tool, arguments), as: UTF8.self)
    }

    /// `run`, returning stdout's bytes (raw frames from `ffmpeg -f rawvideo -`, say).
    public static func runData(_ tool: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError.toolFailed("\(tool) \(arguments.joined(separator: " ")): \(String(decoding: errData, as: UTF8.self).suffix(800))")
        }
        return outData
    }

    /// Makes a clip with FFmpeg's lavfi sources: `testsrc2` video (+ optional sine audio).
    public static func syntheticClip(at path: String, seconds: Double = 1, size: String = "160x120", rate: String = "25",
                                     videoCodec: [String] = ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
                                     audioCodec: [String]? = nil, extra: [String] = []) throws {
        var args = ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(seconds)"]
        if audioCodec != nil { args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(seconds)"] }
        args += videoCodec
        if let audioCodec { args += audioCodec } else { args += ["-an"] }
        args += extra + [path]
        try run("ffmpeg", args)
    }

    /// ffprobe's view of a stream, as key=value pairs (decoded frame count included).
    public static func probe(_ path: String, stream: String) throws -> [String: String] {
        let out = try run("ffprobe", ["-v", "error", "-count_frames", "-select_streams", stream,
                                      "-show_entries", "stream=codec_name,width,height,nb_read_frames,duration,r_frame_rate,start_time,pix_fmt",
                                      "-of", "default=noprint_wrappers=1", path])
        var result: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }
}

public enum FixtureError: Error, CustomStringConvertible {
    case toolFailed(String)
    public var description: String {
        switch self { case .toolFailed(let s): return "fixture tool failed: \(s)" }
    }
}

extension Fixtures {
    /// Points `LUMIERE_WORKER` (the binary `restore` starts as local workers) at the built `lumiere-worker`;
    /// nil when it is not built (the caller skips).
    public static func useBuiltWorker() -> String? {
        let worker = productsDirectory.appendingPathComponent("lumiere-worker").path
        guard FileManager.default.isExecutableFile(atPath: worker) else { return nil }
        setenv("LUMIERE_WORKER", worker, 1)
        return worker
    }

    /// The build products folder (where `swift build` put the executables next to the test bundle).
    public static var productsDirectory: URL {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = executable.deletingLastPathComponent()
        // Inside an .xctest bundle on macOS; directly in the products folder on Linux.
        while dir.pathExtension == "xctest" || dir.lastPathComponent == "MacOS" || dir.lastPathComponent == "Contents" {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }
}

extension Fixtures {
    /// What a finished command left: its exit status and what it printed on stderr.
    public struct CommandResult {
        public var status: Int32
        public var stderr: String
        /// What it printed on stdout, when `runProduct(captureStdout: true)`; empty otherwise.
        public var stdout = ""
    }

    /// A built product (`lumiere-coordinator`, `lumiere-worker`); a missing one is an error, not a skip: the test
    /// command builds both first.
    public static func product(_ name: String) throws -> URL {
        let url = productsDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw FixtureError.toolFailed("\(url.path) is not built; run `swift build -c release` first")
        }
        return url
    }

    /// A product that ran past its time limit: a hung job is a failure, never a test that waits forever.
    public struct TimedOut: Error, CustomStringConvertible {
        public let command: String, seconds: Double, stderr: String
        public var description: String { "\(command) still running after \(Int(seconds)) s (killed); stderr: \(stderr.suffix(1500))" }
    }

    /// Runs a built product in `directory` and waits, at most `timeout` seconds (then kills it and throws
    /// `TimedOut`); `whenStderr` sees stderr as it arrives (to send a signal at the right moment, say). `environment`
    /// is added to this process's (e.g. a fault hook for the product and the workers it starts).
    public static func runProduct(_ name: String, _ arguments: [String], in directory: URL? = nil, timeout: Double = 600,
                                  captureStdout: Bool = false, environment: [String: String] = [:],
                                  whenStderr: ((String, Process) -> Void)? = nil) throws -> CommandResult {
        _ = useBuiltWorker()
        let process = Process()
        process.executableURL = try product(name)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let directory { process.currentDirectoryURL = directory }
        let err = Pipe()
        process.standardError = err
        let out = Pipe()
        let outText = LockedText()
        if captureStdout {
            process.standardOutput = out
            // Read as it comes: a full pipe would block the product.
            out.fileHandleForReading.readabilityHandler = { handle in _ = outText.append(String(decoding: handle.availableData, as: UTF8.self)) }
        } else {
            process.standardOutput = FileHandle.nullDevice
        }
        let text = LockedText()
        err.fileHandleForReading.readabilityHandler = { handle in
            let all = text.append(String(decoding: handle.availableData, as: UTF8.self))
            whenStderr?(all, process)
        }
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            err.fileHandleForReading.readabilityHandler = nil
            out.fileHandleForReading.readabilityHandler = nil
            throw TimedOut(command: "\(name) \(arguments.joined(separator: " "))", seconds: timeout, stderr: text.append(""))
        }
        process.waitUntilExit()
        err.fileHandleForReading.readabilityHandler = nil
        let rest = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        var result = CommandResult(status: process.terminationStatus, stderr: text.append(rest))
        if captureStdout {
            out.fileHandleForReading.readabilityHandler = nil
            result.stdout = outText.append(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        return result
    }

    /// Every file under `directory` (relative paths), to show that a run touched nothing it should not.
    public static func tree(_ directory: URL) -> Set<String> {
        var result: Set<String> = []
        let base = directory.standardizedFileURL.resolvingSymlinksInPath().path
        if let e = FileManager.default.enumerator(atPath: base) { for case let p as String in e { result.insert(p) } }
        return result
    }
}

/// Text appended from a reader thread.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    /// Appends and returns everything so far.
    func append(_ more: String) -> String { lock.lock(); defer { lock.unlock() }; text += more; return text }
}

import XCTest

extension Fixtures {
    /// Set by `.ci/run`: CI has every prerequisite (root, ../shared, the built binaries, CURVE), so a missing one
    /// there is a failure, never a skip (issue 14).
    public static var strict: Bool { ProcessInfo.processInfo.environment["LUMIERE_STRICT"] == "1" }

    /// A test's prerequisite (a built binary, footage, CURVE, /dev/full …): on a developer's machine a missing one
    /// skips the test with `reason`; under `strict` it fails it.
    public static func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
        guard !condition else { return }
        throw missing(reason())
    }

    /// The error for a missing prerequisite: XCTSkip, or under `strict` a failure.
    public static func missing(_ reason: String) -> Error {
        strict ? FixtureError.toolFailed("missing prerequisite in CI: \(reason)") : XCTSkip(reason)
    }

    /// A benchmark or soak test runs only when `variable` is set (and not 0). These are the only skips CI allows:
    /// scripts/test.sh fails when more tests were skipped than there are gates (it counts `Fixtures.gate(` calls).
    public static func gate(_ variable: String, _ reason: String) throws {
        let value = ProcessInfo.processInfo.environment[variable] ?? ""
        guard !value.isEmpty, value != "0" else { throw XCTSkip("gated (\(variable)=1 to run): \(reason)") }
    }

    /// A test that needs hardware CI does not have by design (a GPU with cooperative matrices: no lavapipe offers
    /// them) skips unless `available`, also under LUMIERE_STRICT=1. Call it once per test, in the test: scripts/test.sh
    /// counts these calls with the gates.
    public static func hardware(_ available: Bool, _ reason: @autoclosure () -> String) throws {
        guard available else { throw XCTSkip("needs hardware CI lacks: \(reason())") }
    }
}
