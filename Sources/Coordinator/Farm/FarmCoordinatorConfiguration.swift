import Foundation
import Shared
import Transport

public struct FarmCoordinatorConfiguration: Sendable {
    /// Where workers connect: `tcp://*:5555`, `tcp://127.0.0.1:*` (ephemeral port), `ipc:///path`.
    public var bindEndpoint: String
    /// CURVE: the coordinator's key pair and the Z85 public keys of the workers it accepts.
    public var curve: (keys: CurveKeyPair, allowedWorkerKeys: [String])?
    /// Permits a non-loopback bind without keys (`--insecure`).
    public var insecure = false
    /// Scratch space for received results before they go to the sink.
    public var workDirectory: URL
    /// The heartbeat interval of a small farm; it grows with the farm's size to keep the heartbeats a second bounded
    /// (`SchedulerConfiguration.heartbeat`, `HeartbeatPolicy`).
    public var heartbeatInterval = 1.0
    public var liveness = 3
    public var scheduler = SchedulerConfiguration()
    /// After `requestDrain`, how long to wait for segments in flight before giving up on them.
    public var drainTimeoutSeconds = 30.0

    public init(bindEndpoint: String, workDirectory: URL, curve: (keys: CurveKeyPair, allowedWorkerKeys: [String])? = nil) {
        self.bindEndpoint = bindEndpoint
        self.workDirectory = workDirectory
        self.curve = curve
    }

    /// The scheduler settings with this heartbeat interval and liveness as the farm's base.
    var effectiveScheduler: SchedulerConfiguration {
        var s = scheduler
        s.heartbeat.baseInterval = heartbeatInterval
        s.heartbeat.liveness = liveness
        return s
    }
}

/// Produces the input file of a segment (the FFV1/MKV intermediate). Called on the coordinator's loop
/// thread the first time the segment is assigned; retries reuse the file.
public typealias SegmentInputProvider = @Sendable (SegmentSpec) throws -> URL

/// Receives a verified result file; must move or copy it before returning (it is deleted afterwards).
public typealias SegmentResultSink = @Sendable (SegmentSpec, SegmentResultInfo, URL) throws -> Void

public enum FarmError: Error, CustomStringConvertible {
    case jobFailed(JobReport)
    case inputUnavailable(segment: SegmentID, underlying: String)
    case resultSinkFailed(segment: SegmentID, underlying: String)
    case notBound
    /// A standing farm (`serve`) was handed a job whose id is on it already.
    case duplicateJob(FarmJobID)
    /// The job was drained (graceful stop) before all segments were done; finished results were delivered.
    case interrupted(JobReport)

    public var description: String {
        switch self {
        case .jobFailed(let report): return "farm job failed: \(report)"
        case .inputUnavailable(let segment, let error): return "cannot produce the input of segment \(segment): \(error)"
        case .resultSinkFailed(let segment, let error):
            return "cannot store the result of segment \(segment): \(error). Free disk space and run the command again"
        case .notBound: return "the coordinator must bind() before run()"
        case .duplicateJob(let id): return "job \(id) is on the farm already; a job runs once at a time"
        case .interrupted(let report): return "farm job stopped before completion: \(report). Run the same command again to resume"
        }
    }
}

/// Counters readable from any thread while a job runs (tests, progress display, soak checks).
public struct FarmStatistics: Sendable, Equatable {
    public var registrations = 0
    public var rejectedMessages = 0
    public var lastRejection: String?
    public var authenticationDenials = 0
    public var segmentsAccepted = 0
    /// Sampled at each scheduler tick (20 Hz): registered workers, those holding a lease, segments done.
    public var liveWorkers = 0
    public var busyWorkers = 0
    public var segmentsDone = 0
    public var bytesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    /// The heartbeat interval in force (it grows with the farm: `HeartbeatPolicy`), sampled at each tick.
    public var heartbeatInterval = 0.0
}
