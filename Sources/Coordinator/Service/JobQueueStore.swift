import Foundation
import Planning

/// `queue.json` in the service's state directory: the whole `JobQueue`, replaced atomically after every change with
/// the job journal's discipline (`AtomicFile`: temporary file, fsync, rename, fsync the directory), so a kill -9 at
/// any moment leaves the old queue or the new one, never a mix.
public struct JobQueueStore: Sendable {
    public let url: URL
    /// A queue file larger than this is not one we wrote (thousands of jobs take well under a megabyte).
    public static let maxBytes = 16 << 20

    public init(url: URL) { self.url = url }

    /// The saved queue; an empty one when there is no file yet. A damaged file is an error, never an empty queue.
    public func load() throws -> JobQueue {
        guard FileManager.default.fileExists(atPath: url.path) else { return JobQueue() }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw JobQueueError.corrupt(path: url.path, reason: "unreadable: \(error.localizedDescription)") }
        guard data.count <= JobQueueStore.maxBytes else {
            throw JobQueueError.corrupt(path: url.path, reason: "\(data.count) bytes, more than the \(JobQueueStore.maxBytes) a queue can hold")
        }
        if let header = try? JSONDecoder().decode(Header.self, from: data), header.formatVersion != JobQueue.formatVersion {
            throw JobQueueError.unsupportedVersion(path: url.path, version: header.formatVersion)
        }
        do {
            let queue = try JSONDecoder().decode(JobQueue.self, from: data)
            if let problem = queue.inconsistency() { throw JobQueueError.corrupt(path: url.path, reason: problem) }
            return queue
        } catch let error as JobQueueError {
            throw error
        } catch {
            throw JobQueueError.corrupt(path: url.path, reason: "not a job queue: \(error)")
        }
    }

    public func save(_ queue: JobQueue) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(queue), to: url)
    }

    private struct Header: Decodable { var formatVersion: Int }
}
