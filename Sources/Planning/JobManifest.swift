import Foundation

/// `lumiere-job.json`: marks a folder as a Lumière job directory and lists what the job wrote there, so that
/// clean-up deletes exactly that. The names a job may create are fixed here; anything else in the folder is the
/// user's, whatever the manifest on disk says.
public struct JobManifest: Codable, Sendable, Equatable {
    public static let fileName = "lumiere-job.json"
    static let format = "lumiere-job"
    static let maxEncodedBytes = 1 << 20

    public enum Kind: Sendable { case file, segments, tree }
    /// Top-level names a job writes: files, folders of `segment-KEY.mkv` files, and folders that Lumière's own
    /// processes fill (the farm's incoming transfers, the local workers' scratch space and logs).
    static let layout: [String: Kind] = [
        "plan.json": .file, "journal.json": .file, "shots.json": .file, "throughput.png": .file,
        "results": .segments, "inputs": .segments,
        "incoming": .tree, "workers": .tree, "logs": .tree, "seams": .tree,
    ]

    public var format = JobManifest.format
    public var version = 1
    /// False when the user gave an existing empty folder: it stays after clean-up.
    public var createdFolder: Bool
    /// Names from `layout` that exist because of this job, in the order they were made.
    public var entries: [String] = []
    /// Absolute paths of the final encode's hidden file while it is being written (`.NAME.partial-PID.EXT`).
    public var partialOutputs: [String] = []

    public init(createdFolder: Bool) { self.createdFolder = createdFolder }

    public static func kind(of name: String) -> Kind? { layout[name] }

    /// `segment-<key>.mkv` (and `staged-<key>.mkv` while being journaled): the only names Lumière gives
    /// results and segment inputs.
    public static func isSegmentFileName(_ name: String) -> Bool {
        guard let prefix = ["segment-", "staged-"].first(where: name.hasPrefix), name.hasSuffix(".mkv") else { return false }
        let key = name.dropFirst(prefix.count).dropLast(".mkv".count)
        return !key.isEmpty && key.count <= 64 && key.unicodeScalars.allSatisfy { $0.isASCII && CharacterSet.alphanumerics.contains($0) }
    }

    /// An AtomicFile temporary (`.NAME.tmp-PID-RANDOM`) of one of the job's own files.
    public static func isTemporaryName(_ name: String) -> Bool {
        guard name.hasPrefix("."), let range = name.range(of: ".tmp-") else { return false }
        let base = String(name[name.index(after: name.startIndex)..<range.lowerBound])
        return base == fileName || layout[base] == .file || isSegmentFileName(base)
    }

    /// `.NAME.partial-PID.EXT`, the hidden name a restore writes its output under, or `.lumiere-partial-PID`, the
    /// hidden folder an image sequence is written into.
    public static func isPartialOutputName(_ name: String) -> Bool {
        if name.hasPrefix(".lumiere-partial-") { return name.dropFirst(".lumiere-partial-".count).allSatisfy(\.isNumber) && name.count > 17 }
        guard name.hasPrefix("."), let range = name.range(of: ".partial-", options: .backwards) else { return false }
        let tail = name[range.upperBound...].split(separator: ".", maxSplits: 1)
        return tail.count == 2 && tail[0].allSatisfy(\.isNumber) && ["mp4", "mkv", "mov"].contains(tail[1].lowercased())
    }

    public static func decode(_ data: Data) throws -> JobManifest {
        guard data.count <= maxEncodedBytes else { throw PlanningError.corruptFile(path: fileName, why: "too large") }
        let manifest = try JSONDecoder().decode(JobManifest.self, from: data)
        guard manifest.format == format, manifest.version == 1 else { throw PlanningError.corruptFile(path: fileName, why: "not a job marker") }
        return manifest
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
