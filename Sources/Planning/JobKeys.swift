import Foundation

/// Names for what a result depends on, so that a result is reused only for the same input and settings.
public enum JobKeys {
    /// Bytes read from each end of the input for its identity.
    public static let sampledBytes = 1 << 20

    /// The input's identity: its size and a SHA-256 of its first and last MiB. Survives renames and copies,
    /// changes when the file is replaced or edited at either end (where containers keep their index).
    public static func inputIdentity(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw PlanningError.io(path: path, operation: "open", errno: errno) }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        var hash = SHA256()
        hash.update(Data("lumiere-input-v1 \(size)\n".utf8))
        try handle.seek(toOffset: 0)
        hash.update(try handle.read(upToCount: sampledBytes) ?? Data())
        if size > UInt64(sampledBytes) {
            try handle.seek(toOffset: size - UInt64(min(UInt64(sampledBytes), size - UInt64(sampledBytes))))
            hash.update(try handle.read(upToCount: sampledBytes) ?? Data())
        }
        return "\(size)-" + SHA256.hex(hash.finalize())
    }

    /// An image sequence's identity: how many files, each one's name and size, and the first MiB of the first and
    /// the last file (a sequence of a thousand DPX scans is read in milliseconds, not hashed whole).
    public static func sequenceIdentity(files: [String]) throws -> String {
        var hash = SHA256()
        hash.update(Data("lumiere-sequence-v1 \(files.count)\n".utf8))
        for file in files {
            let size = ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.int64Value ?? -1
            hash.update(Data("\(URL(fileURLWithPath: file).lastPathComponent) \(size)\n".utf8))
        }
        for file in [files.first, files.last].compactMap({ $0 }) {
            guard let handle = FileHandle(forReadingAtPath: file) else { throw PlanningError.io(path: file, operation: "open", errno: errno) }
            defer { try? handle.close() }
            hash.update(try handle.read(upToCount: sampledBytes) ?? Data())
        }
        return "seq\(files.count)-" + SHA256.hex(hash.finalize())
    }

    /// A segment result's key: input identity + everything that changes the result (the caller's canonical
    /// settings text: recipe, rate, …) + the segment's input frames. 32 hex digits (128 bits of SHA-256).
    /// `interior`: the frames a worker encodes in the final codec (they depend on the neighbours, not only on `frames`).
    public static func segmentKey(input: String, settings: String, frames: Range<Int>, interior: Range<Int>? = nil) -> String {
        var text = "lumiere-segment-v1\n\(input)\n\(settings)\n\(frames.lowerBound)..<\(frames.upperBound)"
        if let interior { text += "\ninterior \(interior.lowerBound)..<\(interior.upperBound)" }
        return String(SHA256.hex(SHA256.hash(Data(text.utf8))).prefix(32))
    }

    /// SHA-256 of a whole file, streamed.
    public static func checksum(of url: URL) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw PlanningError.io(path: url.path, operation: "open", errno: errno) }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hash.update(chunk) }
        return SHA256.hex(hash.finalize())
    }
}
