import Foundation

/// What the farm is doing at one moment: the model behind the live view, `status --json`, the Prometheus
/// metrics and the end-of-job report. Plain values, Codable, so a remote `status` sees exactly this.
public struct FarmSnapshot: Codable, Equatable, Sendable {
    /// Bumped when a field changes meaning or disappears (new fields may be added without a bump).
    public static let formatVersion = 1

    public var formatVersion = FarmSnapshot.formatVersion
    /// Seconds since the job started on the coordinator.
    public var elapsedSeconds: Double
    public var finished: Bool
    /// Output frames of all segments of this job, and those whose results were accepted.
    public var framesTotal: Int64
    public var framesDone: Int64
    /// Frames workers reported done on segments still in flight (not yet accepted; lost if the try fails).
    public var framesInFlight: Int64
    /// Accepted frames per second over the last minute, and over the whole job.
    public var outputFPS: Double
    public var averageFPS: Double
    /// Remaining frames at the last minute's rate; nil until there is a rate.
    public var etaSeconds: Double?
    public var segments: SegmentCounts
    /// Segments put back in the queue after a failed try or a hand-back, and speculative copies of stragglers.
    public var retries: Int
    public var speculativeCopies: Int
    public var bytesSent: UInt64
    public var bytesReceived: UInt64
    public var workers: [WorkerSnapshot]

    public init(elapsedSeconds: Double, finished: Bool, framesTotal: Int64, framesDone: Int64, framesInFlight: Int64,
                outputFPS: Double, averageFPS: Double, etaSeconds: Double?, segments: SegmentCounts, retries: Int,
                speculativeCopies: Int, bytesSent: UInt64, bytesReceived: UInt64, workers: [WorkerSnapshot]) {
        self.elapsedSeconds = elapsedSeconds
        self.finished = finished
        self.framesTotal = framesTotal
        self.framesDone = framesDone
        self.framesInFlight = framesInFlight
        self.outputFPS = outputFPS
        self.averageFPS = averageFPS
        self.etaSeconds = etaSeconds
        self.segments = segments
        self.retries = retries
        self.speculativeCopies = speculativeCopies
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.workers = workers
    }

    /// An empty snapshot (before a job starts).
    public static let idle = FarmSnapshot(elapsedSeconds: 0, finished: false, framesTotal: 0, framesDone: 0, framesInFlight: 0,
                                          outputFPS: 0, averageFPS: 0, etaSeconds: nil, segments: SegmentCounts(), retries: 0,
                                          speculativeCopies: 0, bytesSent: 0, bytesReceived: 0, workers: [])
}

public struct SegmentCounts: Codable, Equatable, Sendable {
    public var total = 0
    /// Waiting for a worker: the queue depth.
    public var pending = 0
    /// Being rendered by a worker.
    public var running = 0
    /// Held by a worker queued behind the one it renders (lease-ahead), with its input, not started.
    public var ahead = 0
    public var done = 0
    public var failed = 0

    public init(total: Int = 0, pending: Int = 0, running: Int = 0, ahead: Int = 0, done: Int = 0, failed: Int = 0) {
        self.total = total
        self.pending = pending
        self.running = running
        self.ahead = ahead
        self.done = done
        self.failed = failed
    }

    enum CodingKeys: String, CodingKey { case total, pending, running, ahead, done, failed }

    /// `ahead` is absent from a coordinator older than lease-ahead's count (`lumiere-coordinator status` may ask one).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(total: c.decode(Int.self, forKey: .total), pending: c.decode(Int.self, forKey: .pending),
                      running: c.decode(Int.self, forKey: .running),
                      ahead: c.decodeIfPresent(Int.self, forKey: .ahead) ?? 0,
                      done: c.decode(Int.self, forKey: .done), failed: c.decode(Int.self, forKey: .failed))
    }
}

/// One worker as the coordinator sees it, keyed by its name (a reconnect keeps its line and its history).
public struct WorkerSnapshot: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable, CaseIterable {
        case idle
        /// The coordinator is sending the segment's input.
        case receiving
        case processing
        /// The worker is sending its result.
        case sending
        /// Disconnected or declared dead; may come back.
        case gone
        case blocklisted
    }

    public var name: String
    public var host: String
    public var threads: Int
    /// Where the worker runs its models, as it registered: `cpu` or `gpu:N NAME (type)`; nil from a coordinator
    /// older than protocol 4.
    public var device: String?
    public var state: State
    /// The farm-wide id of the segment it works on (`SegmentID.wireValue`: job and segment index).
    public var segment: UInt64?
    public var segmentFramesDone: Int64
    public var segmentFramesTotal: Int64
    /// Frames the worker processed (progress it reported, including tries that later failed).
    public var framesProcessed: Int64
    public var segmentsCompleted: Int
    public var fpsLastMinute: Double
    public var failures: Int
    public var bytesSent: UInt64
    public var bytesReceived: UInt64
    /// Seconds spent moving segment files (input out, result back) and processing (input complete → result announced),
    /// both measured on the coordinator.
    public var transferSeconds: Double
    public var processingSeconds: Double

    public init(name: String, host: String, threads: Int, device: String? = nil, state: State, segment: UInt64? = nil, segmentFramesDone: Int64 = 0,
                segmentFramesTotal: Int64 = 0, framesProcessed: Int64 = 0, segmentsCompleted: Int = 0, fpsLastMinute: Double = 0,
                failures: Int = 0, bytesSent: UInt64 = 0, bytesReceived: UInt64 = 0, transferSeconds: Double = 0, processingSeconds: Double = 0) {
        self.name = name
        self.host = host
        self.threads = threads
        self.device = device
        self.state = state
        self.segment = segment
        self.segmentFramesDone = segmentFramesDone
        self.segmentFramesTotal = segmentFramesTotal
        self.framesProcessed = framesProcessed
        self.segmentsCompleted = segmentsCompleted
        self.fpsLastMinute = fpsLastMinute
        self.failures = failures
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.transferSeconds = transferSeconds
        self.processingSeconds = processingSeconds
    }
}

extension FarmSnapshot {
    /// JSON as `status --json` and `/status.json` serve it (sorted keys: stable for diffs and tests).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    /// Parses what `jsonData` wrote; rejects other format versions with a message naming both.
    public static func decode(_ data: Data) throws -> FarmSnapshot {
        guard data.count <= 16 << 20 else { throw MonitoringError.responseTooLarge(bytes: data.count, limit: 16 << 20) }
        let snapshot: FarmSnapshot
        do { snapshot = try JSONDecoder().decode(FarmSnapshot.self, from: data) } catch {
            throw MonitoringError.malformedStatus("\(error)")
        }
        guard snapshot.formatVersion == formatVersion else {
            throw MonitoringError.incompatibleStatus(theirs: snapshot.formatVersion, ours: formatVersion)
        }
        return snapshot
    }
}
