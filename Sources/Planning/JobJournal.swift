import Foundation

/// One finished segment: which file holds its result and how to know the file is intact.
public struct JournalEntry: Codable, Sendable, Equatable {
    public var key: String
    /// File name inside the job's results folder.
    public var file: String
    public var bytes: Int64
    public var sha256: String
    public var frames: Int
    /// Fingerprint of the decoded frames the segment was made from (`FrameHash.combined`): the result is reused
    /// only when the input's frames hash the same today. nil in journals written before it existed (redone).
    public var inputFrames: String?

    public init(key: String, file: String, bytes: Int64, sha256: String, frames: Int, inputFrames: String? = nil) {
        self.key = key
        self.file = file
        self.bytes = bytes
        self.sha256 = sha256
        self.frames = frames
        self.inputFrames = inputFrames
    }
}

/// The finished segments of a job, by segment key. Rewritten whole (atomically) after each segment.
public struct JobJournal: Codable, Sendable, Equatable {
    public static let formatVersion = 1
    /// Thousands of segments fit in well under this; a larger file is not a journal.
    public static let maxEncodedBytes = 64 << 20

    public var version = JobJournal.formatVersion
    public var entries: [String: JournalEntry] = [:]

    public init() {}

    public static func decode(_ data: Data, path: String) throws -> JobJournal {
        guard data.count <= maxEncodedBytes else { throw PlanningError.corruptFile(path: path, why: "\(data.count) bytes is too large for a journal") }
        let journal: JobJournal
        do {
            journal = try JSONDecoder().decode(JobJournal.self, from: data)
        } catch {
            throw PlanningError.corruptFile(path: path, why: "not a journal: \(error)")
        }
        guard journal.version == formatVersion else { throw PlanningError.corruptFile(path: path, why: "journal version \(journal.version)") }
        for (key, entry) in journal.entries {
            // File names come from disk: only our own plain names, never a path.
            guard entry.key == key, isSafeFileName(entry.file), entry.bytes >= 0, entry.frames >= 0 else {
                throw PlanningError.corruptFile(path: path, why: "entry \(key.prefix(40)) is malformed")
            }
        }
        return journal
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    static func isSafeFileName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 200 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "." || $0 == "_" }
    }
}
