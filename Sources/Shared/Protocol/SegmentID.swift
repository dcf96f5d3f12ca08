/// A segment's id on the farm and on the wire: its job (high 32 bits) and its `SegmentIndex` in that job's plan (low 32
/// bits). `restore`'s one job is job 0, so its ids are its segment indices; a standing farm (`serve --running-jobs`)
/// tells the jobs' segments apart by the job. Sent as one u64 (docs/protocol.md): every u64 is some (job, index), so a
/// decoded id is always valid; making one from a job and an index checks that the job fits (an index always does).
public struct SegmentID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// Job ids that fit the high 32 bits.
    public static let jobs = 0...Int(UInt32.max)

    /// The u64 on the wire.
    public let wireValue: UInt64

    /// As decoded from a message: any value is some (job, index).
    public init(wireValue: UInt64) { self.wireValue = wireValue }

    /// `segment` of job `job`; throws for a job id outside `jobs`.
    public init(job: Int, segment: SegmentIndex) throws {
        guard SegmentID.jobs.contains(job) else { throw SegmentIDError.jobOutOfRange(job: job, segment: segment) }
        wireValue = UInt64(job) << 32 | UInt64(segment.position)
    }

    /// `segment` of job 0 (`restore`'s own job, and every job's own numbering before the farm adds the job).
    public init(_ segment: SegmentIndex) { wireValue = UInt64(segment.position) }

    /// Job 0's segment `value` (tests, simulated jobs).
    public init(integerLiteral value: Int) { self.init(SegmentIndex(value)) }

    public var job: Int { Int(wireValue >> 32) }
    public var segment: SegmentIndex { SegmentIndex(Int(wireValue & 0xFFFF_FFFF)) }

    public static func < (a: SegmentID, b: SegmentID) -> Bool { a.wireValue < b.wireValue }
    /// The wire value in decimal (log lines and scratch file names are what they were when the id was a bare u64).
    public var description: String { "\(wireValue)" }
}

/// A (job, segment) pair that no `SegmentID` can carry.
public enum SegmentIDError: Error, Equatable, Sendable, CustomStringConvertible {
    case jobOutOfRange(job: Int, segment: SegmentIndex)

    public var description: String {
        switch self {
        case .jobOutOfRange(let job, let segment):
            return "job \(job)'s segment \(segment) has no farm id: job ids must be 0…\(UInt32.max); remove the job and add it again to get a smaller id"
        }
    }
}
