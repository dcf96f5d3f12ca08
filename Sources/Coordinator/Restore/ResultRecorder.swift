import Foundation
import Planning

/// Records finished segments in the job journal without blocking the farm's loop: the result is moved into
/// the job directory at once (a rename), then checksummed and journaled on a background queue. A crash
/// before the journal entry is written only means the segment is redone; `wait()` reports any failure
/// (a full disk, say) once the farm is finished.
final class ResultRecorder: @unchecked Sendable {
    private let job: JobDirectory
    private let queue = DispatchQueue(label: "lumiere.journal")
    private let lock = NSLock()
    private var failure: Error?

    init(job: JobDirectory) { self.job = job }

    /// `recorded`: called with the result's place in the job directory once it is journaled and its input deleted (the
    /// film's writer takes it). `settled`: called after that, or after the record failed (the input gate lets the
    /// analysis go on either way: a failure ends the job with its own error at `wait`).
    func record(key: String, resultFile: URL, frames: Int, input: URL?, inputFrames: String?, recorded: @escaping (URL) -> Void = { _ in },
                settled: @escaping () -> Void = {}) throws {
        let staged = job.resultsURL.appendingPathComponent("staged-\(key).mkv")
        try? FileManager.default.removeItem(at: staged)
        try FileManager.default.moveItem(at: resultFile, to: staged)
        queue.async { [self] in
            defer { settled() }
            do {
                let entry = try job.record(key: key, resultFile: staged, frames: frames, inputFrames: inputFrames)
                if let input { try? FileManager.default.removeItem(at: input) }
                recorded(job.resultsURL.appendingPathComponent(entry.file))
            } catch {
                lock.lock(); if failure == nil { failure = error }; lock.unlock()
            }
        }
    }

    /// Waits for pending records, their failures left to `wait`. On a job's way out with an error or a stop: a result
    /// that came in is journaled before the job returns, not after (`serve` may start the same job again at once, and
    /// `restore` exits: either way it would be redone, and a late write could land beside the next run's).
    func drain() { queue.sync {} }

    /// Waits for pending records; throws the first failure.
    func wait() throws {
        queue.sync {}
        lock.lock(); defer { lock.unlock() }
        if let failure { throw failure }
    }
}
