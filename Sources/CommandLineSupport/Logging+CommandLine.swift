import ArgumentParser
import Foundation
import Logging

/// `--log-level` takes swift-log's levels only (trace, debug, info, notice, warning, error, critical): a wrong value is
/// refused at parse time with the list (exit 64), not taken silently as the default (issue 19). Shell completion
/// lists them. Declared once here for both executables.
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--log-format`: `text` for people (swift-log's own line format), `json` for machines — one JSON object per line
/// on stderr (`JSONLogHandler`), for a log shipper or `jq`.
public enum LogFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    case text
    case json

    /// The format the process chose, for what it passes on to the workers it starts and for the lines it writes
    /// outside a logger (warnings, the final error). Set once by `bootstrap`, before any thread is started.
    public nonisolated(unsafe) private(set) static var current: LogFormat = .text

    /// Installs the handler for this format on stderr; call once, first thing in `run()`.
    public func bootstrap() {
        LogFormat.current = self
        switch self {
        case .text: LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        case .json: LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
        }
    }
}

/// A swift-log handler writing one JSON object per line to stderr:
/// `{"label":"lumiere-coordinator","level":"info","message":"…","metadata":{"worker":"local-1"},"time":"2026-12-05T14:03:07.412Z"}`.
/// Keys sorted, no pretty-printing (a newline in a message is escaped, so a line is always one whole record); time in
/// UTC, ISO 8601 with milliseconds; metadata values keep their shape (string, array, object). Each record is one
/// `write` under a lock, so lines from several threads never interleave.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.writeToStandardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if let error = event.error { merged["error"] = .string("\(error)") }
        write(JSONLogHandler.record(time: Date(), level: event.level, label: label, message: event.message.description, metadata: merged))
    }

    /// One line (with its newline) for a record; also used for lines written outside a logger in JSON mode.
    /// `fields`: more top-level keys with JSON values of their own (numbers stay numbers), e.g. the `progress` object
    /// of a progress line; they cannot replace the five above.
    public static func record(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata = [:],
                              fields: [String: Any] = [:]) -> String {
        var object: [String: Any] = fields
        object.merge(["time": timestamp(time), "level": level.rawValue, "label": label, "message": message]) { _, own in own }
        if !metadata.isEmpty { object["metadata"] = metadata.mapValues(json) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            // Cannot happen with strings, arrays and objects; never lose the message if it does.
            return "{\"level\":\"\(level.rawValue)\",\"message\":\"unencodable log record\"}\n"
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// 2026-12-05T14:03:07.412Z (UTC, milliseconds), without a shared formatter (thread-safe by construction).
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        let millis = min(999, Int((seconds - seconds.rounded(.down)) * 1000))
        var parts = tm()
        gmtime_r(&whole, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let items): return items.map(json)
        case .dictionary(let d): return d.mapValues(json)
        }
    }

    private static let lock = NSLock()
    public static let writeToStandardError: @Sendable (String) -> Void = { line in
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// A line for the person at the terminal or, with `--log-format json`, the same as a JSON record: the warnings, notes
/// and the final error that the commands print outside a logger, so that in JSON mode every line on stderr parses.
public enum ConsoleLine {
    public static func write(_ level: Logger.Level, _ prefix: String, _ message: String, label: String) {
        switch LogFormat.current {
        case .text: FileHandle.standardError.write(Data("\(prefix): \(message)\n".utf8))
        case .json: JSONLogHandler.writeToStandardError(JSONLogHandler.record(time: Date(), level: level, label: label, message: message))
        }
    }
}
