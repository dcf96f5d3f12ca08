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
        return FileManager.default.fileExists(atPath: path) ? path : nil
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
        return String(decoding: outData, as: UTF8.self)
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
