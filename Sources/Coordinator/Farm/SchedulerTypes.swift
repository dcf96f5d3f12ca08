import Shared

/// A worker connection as the coordinator's ROUTER socket names it. A reconnecting worker is a new peer,
/// so anything the old connection sends after being declared dead is recognisably stale.
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var description: String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}

/// One unit of work for the farm, as the planner produced it.
public struct SegmentSpec: Equatable, Sendable {
    public var id: SegmentID
    public var inputFrameCount: UInt32
    /// Frames the result must contain (after interpolation this differs from the input count).
    public var expectedOutputFrames: UInt32
    /// Output frame size the result must report; nil when the planner cannot know it in advance.
    public var expectedFrameSize: (width: UInt32, height: UInt32)?
    /// What the worker does with it (recipe, timing), sent with the assignment.
    public var work: SegmentWork
    /// Relative cost, used to hand out the longest segments first; defaults to the input frame count.
    public var cost: UInt64

    public init(id: SegmentID, inputFrameCount: UInt32, expectedOutputFrames: UInt32,
                expectedFrameSize: (width: UInt32, height: UInt32)? = nil, work: SegmentWork = SegmentWork(), cost: UInt64? = nil) {
        self.id = id
        self.inputFrameCount = inputFrameCount
        self.expectedOutputFrames = expectedOutputFrames
        self.expectedFrameSize = expectedFrameSize
        self.work = work
        self.cost = cost ?? UInt64(inputFrameCount)
    }

    public static func == (a: SegmentSpec, b: SegmentSpec) -> Bool {
        a.id == b.id && a.inputFrameCount == b.inputFrameCount && a.expectedOutputFrames == b.expectedOutputFrames
            && a.expectedFrameSize?.width == b.expectedFrameSize?.width && a.expectedFrameSize?.height == b.expectedFrameSize?.height
            && a.work == b.work && a.cost == b.cost
    }
}

public struct SchedulerConfiguration: Sendable {
    /// Tries per segment before the whole job fails.
    public var maxAttemptsPerSegment = 3
    /// Heartbeat interval and liveness: a worker silent for interval × liveness (3 s on a small farm) is dead. The
    /// interval grows with the farm (`HeartbeatPolicy`), and the scheduler tells the workers (`welcome`).
    public var heartbeat = HeartbeatPolicy()
    /// A lease with no activity (transfer, progress) this long is taken back: the worker is stalled.
    public var leaseTimeoutSeconds = 60.0
    /// Distinct segments a worker (by name) may fail before it gets no more work in this job. Not applied
    /// to the last usable worker: then the per-segment retry cap ends the job instead of a silent hang.
    public var blocklistAfterFailures = 2
    /// Speculative re-issue: when workers are idle and nothing is pending, a lease running longer than this
    /// factor × the median completion time gets a copy on another worker; the first valid result wins.
    /// Nil disables it.
    public var speculateAfterMedianFactor: Double? = 3
    public var minimumCompletionsBeforeSpeculating = 3
    /// Fail the job when no worker has been registered for this long (nil: wait forever for workers to join).
    /// Useful for the local default, whose workers start with the job.
    public var noWorkerTimeoutSeconds: Double?
    /// Segments a worker may hold beyond the one it renders (lease-ahead), at most: each worker asks for its own
    /// (`WorkerCapabilities.segmentsAhead`, 1 for `lumiere-worker`), this caps it; 0 hands out one segment at a time.
    /// One is enough to hide the result's return, the next assignment and its input behind the render (10,000
    /// simulated workers: BENCHMARKS.md, swarm simulator).
    public var maxSegmentsAhead = 1

    public init() {}
}

/// What the shell must do after an event. The scheduler never performs I/O itself.
public enum FarmDirective: Equatable, Sendable {
    /// Welcome the worker, announcing the heartbeat interval in force (also to every registered worker when it changes).
    case welcome(PeerID, heartbeatInterval: Double)
    /// The peer sent something but is not registered (e.g. the coordinator restarted): it must register again.
    case askToRegister(PeerID)
    case rejectWorker(PeerID, reason: String)
    /// Send the assignment, then the input file under the receiver's credit.
    case assign(PeerID, LeaseRef, SegmentSpec)
    case cancel(PeerID, LeaseRef, reason: String)
    /// The announced result looks right: grant credit and receive its bytes.
    case receiveResult(PeerID, LeaseRef)
    /// The result is verified: hand the received file to the result sink.
    case acceptResult(PeerID, LeaseRef, SegmentResultInfo)
    case discardResult(PeerID, LeaseRef, reason: String)
    /// Drop every transfer with this peer; it is gone.
    case workerDeclaredDead(PeerID, reason: String)
    case jobCompleted(JobReport)
    case jobFailed(JobReport)
}

/// The outcome of a job, written for a person: what finished, what failed and why.
public struct JobReport: Equatable, Sendable, CustomStringConvertible {
    public struct SegmentFailure: Equatable, Sendable {
        public var segment: SegmentID
        public var attempts: [String]
    }

    public var segmentCount: Int
    public var completedSegments: Int
    public var failed: SegmentFailure?
    public var completedByWorker: [String: Int]
    public var blocklistedWorkers: [String]
    public var discardedResults: Int
    public var requeues: Int
    public var speculativeCopies: Int
    /// Why the job stopped without a failed segment (e.g. no workers), if it did.
    public var abandonedReason: String?
    /// Which job on the farm (0 for `restore`'s one job; the queue's id under `serve`).
    public var job: FarmJobID = 0

    public init(segmentCount: Int, completedSegments: Int, failed: SegmentFailure?, completedByWorker: [String: Int],
                blocklistedWorkers: [String], discardedResults: Int, requeues: Int, speculativeCopies: Int, abandonedReason: String? = nil) {
        self.segmentCount = segmentCount
        self.completedSegments = completedSegments
        self.failed = failed
        self.completedByWorker = completedByWorker
        self.blocklistedWorkers = blocklistedWorkers
        self.discardedResults = discardedResults
        self.requeues = requeues
        self.speculativeCopies = speculativeCopies
        self.abandonedReason = abandonedReason
    }

    public var succeeded: Bool { failed == nil && abandonedReason == nil && completedSegments == segmentCount }

    public var description: String {
        var text = "\(completedSegments)/\(segmentCount) segments done, \(requeues) re-queued, \(speculativeCopies) speculative copies, "
            + "\(discardedResults) stale results discarded"
        if let abandonedReason { text += ". Job stopped: \(abandonedReason)" }
        if !blocklistedWorkers.isEmpty { text += "; blocklisted: \(blocklistedWorkers.sorted().joined(separator: ", "))" }
        if let failed {
            text += ". Job failed: segment \(failed.segment) failed \(failed.attempts.count) times: "
                + failed.attempts.enumerated().map { "(\($0.offset + 1)) \($0.element)" }.joined(separator: "; ")
                + ". Check the worker logs for that segment; the input may be damaged."
        }
        return text
    }
}
