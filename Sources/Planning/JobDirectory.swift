import Foundation

/// A job's folder: `plan.json` (what is being made), `journal.json` (which segments are finished),
/// `results/` (their files) and `inputs/` (segment inputs waiting for a worker). Everything needed to
/// resume after a crash; nothing else is trusted without checking.
public final class JobDirectory: @unchecked Sendable {
    public let url: URL
    public var planURL: URL { url.appendingPathComponent("plan.json") }
    public var journalURL: URL { url.appendingPathComponent("journal.json") }
    public var resultsURL: URL { url.appendingPathComponent("results") }
    public var inputsURL: URL { url.appendingPathComponent("inputs") }

    private let lock = NSLock()
    private var journal = JobJournal()
    private let writer: AtomicFile.Writer

    /// Opens (creating if needed) the job folder and reads its journal, if any.
    public init(url: URL, writer: @escaping AtomicFile.Writer = { fd, p, n in systemWrite(fd, p, n) }) throws {
        self.url = url
        self.writer = writer
        for dir in [url, resultsURL, inputsURL] {
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            } catch {
                throw PlanningError.io(path: dir.path, operation: "create directory", errno: (error as NSError).code == 0 ? EIO : Int32((error as NSError).code))
            }
        }
        if FileManager.default.fileExists(atPath: journalURL.path) {
            let data = try Data(contentsOf: journalURL)
            journal = try JobJournal.decode(data, path: journalURL.path)
        }
    }

    public var entries: [String: JournalEntry] { lock.lock(); defer { lock.unlock() }; return journal.entries }

    public func resultURL(_ entry: JournalEntry) -> URL { resultsURL.appendingPathComponent(entry.file) }

    /// Checks every journal entry against the disk (file present, same size, same SHA-256); entries that fail
    /// are dropped (their segments will be redone) and the journal is rewritten. Returns the dropped keys.
    @discardableResult
    public func verify(keeping wanted: Set<String>? = nil) throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        var dropped: [String] = []
        for (key, entry) in journal.entries.sorted(by: { $0.key < $1.key }) {
            let file = resultsURL.appendingPathComponent(entry.file)
            let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value
            var intact = size == entry.bytes
            if intact { intact = (try? JobKeys.checksum(of: file)) == entry.sha256 }
            if !intact || (wanted.map { !$0.contains(key) } ?? false) {
                journal.entries[key] = nil
                dropped.append(key)
            }
        }
        if !dropped.isEmpty { try saveLocked() }
        return dropped
    }

    /// Moves a finished segment's file into `results/`, checksums it and records it in the journal (atomically).
    @discardableResult
    public func record(key: String, resultFile: URL, frames: Int) throws -> JournalEntry {
        let name = "segment-\(key).mkv"
        let destination = resultsURL.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: destination)
        if rename(resultFile.path, destination.path) != 0 {
            let e = errno
            if e == EXDEV { // another file system: copy, then the copy is ours
                do { try FileManager.default.copyItem(at: resultFile, to: destination) } catch {
                    try? FileManager.default.removeItem(at: destination) // no half-copied result
                    throw AtomicFile.failure(JobDirectory.posixCode(of: error), destination.path, "copy result")
                }
                try? FileManager.default.removeItem(at: resultFile)
            } else {
                throw AtomicFile.failure(e, destination.path, "move result")
            }
        }
        // The result is durable (file and its name) before the journal names it.
        let fd = open(destination.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.failure(errno, destination.path, "open result") }
        let synced = fsync(fd) == 0 ? 0 : errno
        close(fd)
        if synced != 0 { throw AtomicFile.failure(synced, destination.path, "fsync result") }
        try AtomicFile.syncDirectory(resultsURL.path)
        guard let size = ((try? FileManager.default.attributesOfItem(atPath: destination.path))?[.size] as? NSNumber)?.int64Value else {
            throw PlanningError.io(path: destination.path, operation: "stat result", errno: EIO)
        }
        let entry = JournalEntry(key: key, file: name, bytes: size, sha256: try JobKeys.checksum(of: destination), frames: frames)
        lock.lock(); defer { lock.unlock() }
        let previous = journal.entries[key]
        journal.entries[key] = entry
        do {
            try saveLocked()
        } catch {
            journal.entries[key] = previous // memory matches the journal on disk
            throw error
        }
        return entry
    }

    /// Writes `data` as `name` in the job folder, atomically (plan.json, shots.json).
    public func writeFile(_ name: String, _ data: Data) throws {
        try AtomicFile.write(data, to: url.appendingPathComponent(name), writer: writer)
    }

    /// The errno behind a Foundation file error (a full disk is reported as a Cocoa error, not always as POSIX).
    static func posixCode(of error: Error) -> Int32 {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return Int32(ns.code) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain { return Int32(underlying.code) }
        if ns.domain == NSCocoaErrorDomain, ns.code == CocoaError.fileWriteOutOfSpace.rawValue { return ENOSPC }
        return EIO
    }

    private func saveLocked() throws {
        try AtomicFile.write(try journal.encoded(), to: journalURL, writer: writer)
    }
}
