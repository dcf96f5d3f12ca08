import Foundation

/// A job's folder: `plan.json` (what is being made), `journal.json` (which segments are finished),
/// `results/` (their files) and `inputs/` (segment inputs waiting for a worker). Everything needed to
/// resume after a crash; nothing else is trusted without checking.
///
/// Lumière deletes only what it created: the folder carries a marker, `lumiere-job.json`, which is also the
/// manifest of what the job wrote (see `JobManifest`). A folder that is neither new, empty nor marked is refused,
/// and clean-up removes manifest entries only — never a name it does not know.
public final class JobDirectory: @unchecked Sendable {
    public let url: URL
    public var planURL: URL { url.appendingPathComponent("plan.json") }
    public var journalURL: URL { url.appendingPathComponent("journal.json") }
    public var resultsURL: URL { url.appendingPathComponent("results") }
    public var inputsURL: URL { url.appendingPathComponent("inputs") }
    public var markerURL: URL { url.appendingPathComponent(JobManifest.fileName) }

    private let lock = NSLock()
    private var journal = JobJournal()
    private var manifest: JobManifest
    private let writer: AtomicFile.Writer

    /// Opens (creating if needed) the job folder and reads its journal, if any. Refuses a path that is a file,
    /// and a folder that holds anything but is not a Lumière job directory.
    public init(url: URL, writer: @escaping AtomicFile.Writer = { fd, p, n in systemWrite(fd, p, n) }) throws {
        self.url = url.standardizedFileURL
        self.writer = writer
        let path = self.url.path
        var isDirectory: ObjCBool = false
        let marker = self.url.appendingPathComponent(JobManifest.fileName)
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw PlanningError.unsafeJobDirectory(path: path, why: "it is a file, not a folder") }
            if let data = FileManager.default.contents(atPath: marker.path) {
                guard let decoded = try? JobManifest.decode(data) else {
                    throw PlanningError.unsafeJobDirectory(path: path, why: "its \(JobManifest.fileName) is damaged, so Lumière cannot tell its files from yours")
                }
                manifest = decoded
            } else {
                let contents: [String]
                do { contents = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                    throw PlanningError.io(path: path, operation: "list", errno: JobDirectory.posixCode(of: error))
                }
                guard contents.isEmpty else {
                    throw PlanningError.unsafeJobDirectory(path: path, why: "it is not empty and not a Lumière job directory (it holds \(JobDirectory.sample(contents)))")
                }
                manifest = JobManifest(createdFolder: false)
            }
        } else {
            try JobDirectory.makeDirectories(self.url)
            manifest = JobManifest(createdFolder: true)
        }
        // The marker goes first: from here on, every name the job creates is in it before the name exists.
        try saveManifestLocked()
        _ = try ownedDirectory("results")
        _ = try ownedDirectory("inputs")
        if FileManager.default.fileExists(atPath: journalURL.path) {
            let data = try Data(contentsOf: journalURL)
            journal = try JobJournal.decode(data, path: journalURL.path)
        }
    }

    public var entries: [String: JournalEntry] { lock.lock(); defer { lock.unlock() }; return journal.entries }

    public func resultURL(_ entry: JournalEntry) -> URL { resultsURL.appendingPathComponent(entry.file) }

    /// A sub-folder of the job that Lumière's own processes fill (`incoming`, `workers`, `logs`, …): recorded in the
    /// manifest, then created. Only names the manifest knows are accepted.
    public func ownedDirectory(_ name: String) throws -> URL {
        guard JobManifest.kind(of: name) == .tree || JobManifest.kind(of: name) == .segments else {
            throw PlanningError.invalidSetting("\(name) is not a job sub-folder Lumière knows")
        }
        try note(name)
        let dir = url.appendingPathComponent(name)
        try JobDirectory.makeDirectories(dir)
        return dir
    }

    /// Records a top-level name the job is about to write (`throughput.png`).
    public func note(_ name: String) throws {
        lock.lock(); defer { lock.unlock() }
        guard JobManifest.kind(of: name) != nil else { throw PlanningError.invalidSetting("\(name) is not a job file Lumière knows") }
        guard !manifest.entries.contains(name) else { return }
        manifest.entries.append(name)
        try saveManifestLocked()
    }

    /// The hidden file the final encode writes beside the output (removed by `removeOwnFiles` if a run dies mid-encode).
    public func notePartialOutput(_ file: URL) throws {
        lock.lock(); defer { lock.unlock() }
        guard JobManifest.isPartialOutputName(file.lastPathComponent) else { throw PlanningError.invalidSetting("\(file.path) is not a partial output name") }
        manifest.partialOutputs.append(file.standardizedFileURL.path)
        try saveManifestLocked()
    }

    /// Deletes partial outputs left by earlier runs of this job that were killed mid-encode (except `keeping`).
    public func removeStalePartialOutputs(keeping: URL? = nil) throws {
        lock.lock(); defer { lock.unlock() }
        let keep = keeping?.standardizedFileURL.path
        let stale = manifest.partialOutputs.filter { $0 != keep }
        guard !stale.isEmpty else { return }
        for path in stale where JobManifest.isPartialOutputName(URL(fileURLWithPath: path).lastPathComponent) { JobDirectory.removeNoFollow(path) }
        manifest.partialOutputs.removeAll { $0 != keep }
        try saveManifestLocked()
    }

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

    /// Forgets the entries whose key is not in `wanted` (results of other settings or an older plan) and deletes their
    /// files, without checksumming the others (`verify` did at the start). Called once the whole plan is known.
    @discardableResult
    public func prune(keeping wanted: Set<String>) throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        let stale = journal.entries.filter { !wanted.contains($0.key) }
        guard !stale.isEmpty else { return [] }
        for key in stale.keys { journal.entries[key] = nil }
        try saveLocked()
        for entry in stale.values where JobManifest.isSegmentFileName(entry.file) { unlink(resultsURL.appendingPathComponent(entry.file).path) }
        return stale.keys.sorted()
    }

    /// Result files of ours that no journal entry names (a crash between the move and the journal update, or old
    /// settings). Files with other names are not Lumière's and stay.
    public func removeUnlistedResults() {
        let listed = Set(entries.values.map(\.file))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: resultsURL.path)) ?? []
        where !listed.contains(name) && JobManifest.isSegmentFileName(name) {
            unlink(resultsURL.appendingPathComponent(name).path)
        }
    }

    /// Segment inputs a run before this one wrote (a stop, a crash, a restart with lossless inputs): every segment
    /// still to do gets its input written again when it is released, so these would only count against the input
    /// bound (`InputBacklog`) and the disk. Files with other names are not Lumière's and stay.
    public func removeInputs() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: inputsURL.path)) ?? [] where JobManifest.isSegmentFileName(name) {
            unlink(inputsURL.appendingPathComponent(name).path)
        }
    }

    /// Moves a finished segment's file into `results/`, checksums it and records it in the journal (atomically).
    @discardableResult
    public func record(key: String, resultFile: URL, frames: Int, inputFrames: String? = nil) throws -> JournalEntry {
        let name = "segment-\(key).mkv"
        guard JobManifest.isSegmentFileName(name) else { throw PlanningError.invalidSetting("segment key \(key) is not 1…64 letters and digits") }
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
        let entry = JournalEntry(key: key, file: name, bytes: size, sha256: try JobKeys.checksum(of: destination), frames: frames,
                                 inputFrames: inputFrames)
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

    /// Forgets a finished segment (its input changed): the entry leaves the journal, its file is deleted.
    public func forget(key: String) throws {
        lock.lock(); defer { lock.unlock() }
        guard let entry = journal.entries[key] else { return }
        journal.entries[key] = nil
        try saveLocked()
        if JobManifest.isSegmentFileName(entry.file) { unlink(resultsURL.appendingPathComponent(entry.file).path) }
    }

    /// Writes `data` as `name` in the job folder, atomically (plan.json, shots.json).
    public func writeFile(_ name: String, _ data: Data) throws {
        try note(name)
        try AtomicFile.write(data, to: url.appendingPathComponent(name), writer: writer)
    }

    /// Clean-up after success (or a failure with nothing worth resuming): deletes exactly the manifest's entries,
    /// then the marker, then the folder itself if Lumière created it and nothing else is left in it.
    /// Returns the names left behind because they are not Lumière's.
    @discardableResult
    public func removeOwnFiles() -> [String] {
        lock.lock(); defer { lock.unlock() }
        let fm = FileManager.default
        for name in manifest.entries {
            let path = url.appendingPathComponent(name).path
            switch JobManifest.kind(of: name) {
            case .file?:
                unlink(path)
            case .segments?:
                for child in (try? fm.contentsOfDirectory(atPath: path)) ?? [] where JobManifest.isSegmentFileName(child) || JobManifest.isTemporaryName(child) {
                    unlink(path + "/" + child)
                }
                rmdir(path)
            case .tree?:
                JobDirectory.removeNoFollow(path) // filled by Lumière's own processes only
            case nil:
                continue // a hand-edited manifest naming something else: not ours to delete
            }
        }
        for path in manifest.partialOutputs where JobManifest.isPartialOutputName(URL(fileURLWithPath: path).lastPathComponent) { JobDirectory.removeNoFollow(path) }
        for child in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] where JobManifest.isTemporaryName(child) {
            unlink(url.appendingPathComponent(child).path)
        }
        unlink(markerURL.path)
        if manifest.createdFolder { rmdir(url.path) }
        manifest.entries.removeAll()
        manifest.partialOutputs.removeAll()
        return ((try? fm.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    /// mkdir -p with the kernel's own errno on failure (Foundation reports some failures as Cocoa codes such as 642,
    /// or as a bare I/O error, which says nothing to the user).
    static func makeDirectories(_ url: URL) throws {
        var path = ""
        for component in url.standardizedFileURL.pathComponents where component != "/" {
            path += "/" + component
            if mkdir(path, 0o755) != 0 {
                let code = errno
                var isDirectory: ObjCBool = false
                if code == EEXIST, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { continue }
                throw PlanningError.io(path: url.path, operation: "create directory", errno: code == EEXIST ? ENOTDIR : code)
            }
        }
    }

    /// Removes a file or a folder of Lumière's (a partial output, a sub-folder its processes filled); a symbolic
    /// link is removed itself, never followed.
    static func removeNoFollow(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR { try? FileManager.default.removeItem(atPath: path) } else { unlink(path) }
    }

    /// The errno behind a Foundation file error (a full disk is reported as a Cocoa error, not always as POSIX).
    public static func posixCode(of error: Error) -> Int32 {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return Int32(ns.code) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain { return Int32(underlying.code) }
        if ns.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileWriteOutOfSpace: return ENOSPC
            case .fileWriteNoPermission, .fileReadNoPermission: return EACCES
            case .fileWriteVolumeReadOnly: return EROFS
            case .fileNoSuchFile, .fileReadNoSuchFile: return ENOENT
            case .fileWriteFileExists: return EEXIST
            default: return EIO
            }
        }
        return EIO
    }

    static func sample(_ names: [String]) -> String {
        let sorted = names.sorted()
        return sorted.prefix(3).joined(separator: ", ") + (sorted.count > 3 ? " and \(sorted.count - 3) more" : "")
    }

    private func saveLocked() throws {
        try note(unlocked: "journal.json")
        try AtomicFile.write(try journal.encoded(), to: journalURL, writer: writer)
    }

    private func note(unlocked name: String) throws {
        guard !manifest.entries.contains(name) else { return }
        manifest.entries.append(name)
        try saveManifestLocked()
    }

    private func saveManifestLocked() throws {
        try AtomicFile.write(try manifest.encoded(), to: markerURL, writer: writer)
    }
}
