import Foundation
import Shared

/// One segment as the worker's processor sees it: a local input file and what to do with it.
public struct SegmentJob: Sendable {
    public var lease: LeaseRef
    public var inputFile: URL
    public var inputFrameCount: UInt32
    /// Recipe and timing, already validated against each other when the assignment was decoded.
    public var work: SegmentWork
    /// A private scratch directory for this lease; write the output here. Deleted after the result is sent.
    public var workDirectory: URL

    public init(lease: LeaseRef, inputFile: URL, inputFrameCount: UInt32, work: SegmentWork, workDirectory: URL) {
        self.lease = lease
        self.inputFile = inputFile
        self.inputFrameCount = inputFrameCount
        self.work = work
        self.workDirectory = workDirectory
    }
}

/// What a processor produced. The worker shell computes size and checksum of `file` itself, so a processor
/// cannot announce a checksum that does not match its bytes.
public struct SegmentOutput: Sendable {
    public var file: URL
    public var frameCount: UInt32
    public var frameWidth: UInt32
    public var frameHeight: UInt32

    public init(file: URL, frameCount: UInt32, frameWidth: UInt32, frameHeight: UInt32) {
        self.file = file
        self.frameCount = frameCount
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
    }
}

/// The work a worker does on one segment (decode → restore → encode, or a simulation of it).
/// Called on a background thread; must poll `isCancelled` now and then and stop by throwing when it is true.
public protocol SegmentProcessor: Sendable {
    func process(_ job: SegmentJob, progress: @escaping @Sendable (_ framesDone: UInt32) -> Void,
                 isCancelled: @escaping @Sendable () -> Bool) throws -> SegmentOutput
    /// Frames the job will produce, for progress reports (a retimed segment makes more or fewer than it reads).
    func expectedOutputFrames(_ job: SegmentJob) -> UInt32
}

extension SegmentProcessor {
    public func expectedOutputFrames(_ job: SegmentJob) -> UInt32 { job.inputFrameCount }
}

public struct SegmentCancelled: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "segment processing cancelled" }
}
