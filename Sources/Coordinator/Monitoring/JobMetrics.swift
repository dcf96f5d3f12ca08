import Foundation

/// One job as `/metrics` shows it beside the farm's own series: what it restores (`lumiere_job_info`), the phase it is
/// in (`lumiere_phase`) and its job directory's disk (`lumiere_job_dir_bytes`, `lumiere_job_dir_free_bytes`).
public struct JobInfo: Sendable, Equatable {
    /// Names the job in every series (`job_id`: Prometheus's own `job` label is the scrape job's).
    public var id: String
    public var film: String
    public var output: String
    public var model: String
    public var device: String
    /// One of `JobInfo.phases`.
    public var phase: String
    /// The job directory, once known (nil: no disk series yet).
    public var directory: String?
    /// This job's frames on a farm it shares with other jobs (`serve`); nil: the farm's snapshot is the job's.
    public var frames: JobFrames?

    public init(id: String, film: String, output: String, model: String, device: String, phase: String = "starting", directory: String? = nil) {
        self.id = id
        self.film = film
        self.output = output
        self.model = model
        self.device = device
        self.phase = phase
        self.directory = directory
    }

    /// Every phase a job reports, in order: `starting` (probing, checks) before the first of `StopSignal`'s phases.
    /// With streaming analysis the farm already runs while the phase says `analysis` or `split` (the phase last begun,
    /// as a stop reports it); `lumiere_segments` says what the farm does meanwhile.
    public static let phases = ["starting", "analysis", "split", "farm", "restore", "encode"]
}

/// The jobs a coordinator holds (`lumiere_jobs{state}`): `restore` runs one and queues none; a long-lived service
/// lists its queue in `queued`.
public struct JobList: Sendable, Equatable {
    public var running: [JobInfo]
    public var queued: [JobInfo]

    public init(running: [JobInfo] = [], queued: [JobInfo] = []) {
        self.running = running
        self.queued = queued
    }
}

/// The size of a job directory and the space left on its filesystem, read at each scrape so an alert fires before
/// the head node's disk fills (a job's segment files are several times the film: docs/operations.md).
public struct DiskUsage: Sendable, Equatable {
    /// Bytes the directory's files occupy (allocated blocks, as `du` counts).
    public var bytes: UInt64
    /// Bytes an unprivileged process may still write on its filesystem (statvfs f_bavail, as `df` shows).
    public var freeBytes: UInt64

    /// Most entries walked per measurement: a job directory holds a few files per segment (thousands for a feature);
    /// beyond this the size is a lower bound rather than a scrape that takes seconds.
    static let maxEntries = 200_000

    /// nil when the directory does not exist (yet) or its filesystem cannot be asked.
    public static func measure(_ path: String) -> DiskUsage? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        var total: UInt64 = 0
        var seen = 0
        if let walk = FileManager.default.enumerator(atPath: path) {
            var entry = stat()
            for case let relative as String in walk {
                seen += 1
                if seen > maxEntries { break }
                // lstat: a link counts as itself, never as what it points to (outside the job, perhaps).
                if lstat(path + "/" + relative, &entry) == 0 { total += UInt64(entry.st_blocks) * 512 }
            }
        }
        return DiskUsage(bytes: total, freeBytes: UInt64(fs.f_bavail) * UInt64(fs.f_frsize))
    }
}

/// A job's output frames accepted and known so far on a farm it shares (`serve`), and its own pace there (`JobPace`).
public struct JobFrames: Sendable, Equatable {
    public var done: Int64
    public var total: Int64
    /// This job's output frames per second; nil until it has one.
    public var fps: Double?
    public var etaSeconds: Double?

    public init(done: Int64, total: Int64, fps: Double? = nil, etaSeconds: Double? = nil) {
        self.done = done
        self.total = total
        self.fps = fps
        self.etaSeconds = etaSeconds
    }
}
