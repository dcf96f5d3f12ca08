import Foundation

/// The service's job queue as a pure state machine (issue 18 item 1): events in (submit, cancel, pause, resume,
/// priority, a job's end), directives out (start a job, stop the running one), time passed in. No files, no sockets:
/// `JobQueueStore` persists it after every change, `FarmService` carries out the directives, tests drive it directly.
///
/// Up to `slots` jobs run on the farm at once, picked by priority (higher first) and then by submission order, so
/// equal priorities are served first come, first served; the farm interleaves their segments (strictly higher priority
/// first, equal ones sharing the workers: `FarmScheduler.jobsByPolicy`). When every slot is taken, a queued job of
/// higher priority than the lowest running one asks that one to make way. A job that is stopped (pause, a higher
/// priority, the service stopping) resumes later from its own job journal: no finished segment is redone.
public struct JobQueue: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable, CaseIterable {
        /// Waiting for the farm (also a job that was running when the service stopped: it resumes from its journal).
        case queued
        case running
        /// Asked to pause while running: finishing the segments in hand, then `paused`.
        case pausing
        case paused
        /// Asked to cancel while running: finishing the segments in hand, then `cancelled`.
        case cancelling
        case done, failed, cancelled

        public var isFinal: Bool { self == .done || self == .failed || self == .cancelled }
    }

    public struct Job: Codable, Equatable, Sendable {
        public var id: Int
        /// The film and output as the submitter gave them, made absolute against `directory`.
        public var film: String
        public var output: String
        /// The `restore` command line (without the subcommand name), as validated at submission.
        public var arguments: [String]
        /// The submitter's working directory: relative paths in `arguments` are resolved against it.
        public var directory: String
        public var priority: Int
        public var state: State
        /// Submission order: the tie-break between equal priorities.
        public var sequence: Int
        public var submittedAt: Double
        public var startedAt: Double?
        public var finishedAt: Double?
        /// Why a job failed, or what it wrote.
        public var message: String?
        /// Times the job was started (1 on a first run; more after pauses, preemption or a service restart).
        public var runs = 0
    }

    public enum Directive: Equatable, Sendable {
        /// Run this job now (a slot on the farm is free).
        case start(Int)
        /// Stop this running job at the end of the segments in hand (pause, cancel or a higher priority).
        case stop(Int)
    }

    public enum Outcome: Equatable, Sendable {
        case completed(String)
        case failed(String)
        /// Stopped on request: finished segments are journaled, the job can resume.
        case stopped
    }

    public static let formatVersion = 1
    public var formatVersion = JobQueue.formatVersion
    public private(set) var jobs: [Job] = []
    private var nextID = 1
    private var nextSequence = 0
    /// How many jobs may be on the farm at once (the service's `--running-jobs`; not kept in the file: a restart
    /// with another value applies it). Each running job analyses, cuts and encodes its film on the head node.
    public var slots = 1 {
        didSet { precondition(slots >= 1, "JobQueue: at least one job must be able to run") }
    }

    private enum CodingKeys: String, CodingKey { case formatVersion, jobs, nextID, nextSequence }

    public init(slots: Int = 1) {
        precondition(slots >= 1, "JobQueue: at least one job must be able to run")
        self.slots = slots
    }

    public func job(_ id: Int) -> Job? { jobs.first { $0.id == id } }
    /// The jobs on the farm: running, or finishing the segments in hand before a pause or cancel takes effect.
    public var onFarm: [Job] { jobs.filter { $0.state == .running || $0.state == .pausing || $0.state == .cancelling } }

    // MARK: Events

    /// A new job, queued; returns its id and the directives (it may start at once).
    public mutating func submit(film: String, output: String, arguments: [String], directory: String, priority: Int = 0,
                                now: Double) -> (id: Int, directives: [Directive]) {
        let id = nextID
        nextID += 1
        nextSequence += 1
        jobs.append(Job(id: id, film: film, output: output, arguments: arguments, directory: directory, priority: priority,
                        state: .queued, sequence: nextSequence, submittedAt: now))
        return (id, schedule())
    }

    public mutating func cancel(_ id: Int, now: Double) throws -> [Directive] {
        let index = try indexOf(id)
        switch jobs[index].state {
        case .queued, .paused:
            jobs[index].state = .cancelled
            jobs[index].finishedAt = now
            return schedule()
        case .running, .pausing:
            jobs[index].state = .cancelling
            return [.stop(id)]
        case .cancelling:
            return []
        case .done, .failed, .cancelled:
            throw JobQueueError.finished(id: id, state: jobs[index].state)
        }
    }

    public mutating func pause(_ id: Int) throws -> [Directive] {
        let index = try indexOf(id)
        switch jobs[index].state {
        case .queued:
            jobs[index].state = .paused
            return []
        case .running:
            jobs[index].state = .pausing
            return [.stop(id)]
        case .pausing, .paused:
            return []
        case .cancelling, .done, .failed, .cancelled:
            throw JobQueueError.finished(id: id, state: jobs[index].state)
        }
    }

    public mutating func resume(_ id: Int) throws -> [Directive] {
        let index = try indexOf(id)
        switch jobs[index].state {
        case .paused:
            jobs[index].state = .queued
            return schedule()
        case .pausing:
            // Not stopped yet: it simply keeps running (the stop already asked for ends it; it is queued again then).
            jobs[index].state = .running
            return []
        case .queued, .running:
            return []
        case .cancelling, .done, .failed, .cancelled:
            throw JobQueueError.finished(id: id, state: jobs[index].state)
        }
    }

    public mutating func setPriority(_ id: Int, _ priority: Int) throws -> [Directive] {
        let index = try indexOf(id)
        guard !jobs[index].state.isFinal else { throw JobQueueError.finished(id: id, state: jobs[index].state) }
        jobs[index].priority = priority
        return schedule()
    }

    /// The farm took the job (after a `.start` directive).
    public mutating func started(_ id: Int, now: Double) {
        guard let index = jobs.firstIndex(where: { $0.id == id }) else { return }
        jobs[index].startedAt = now
        jobs[index].runs += 1
    }

    /// The running job ended: completed, failed, or stopped on request (then paused, cancelled or queued again).
    public mutating func ended(_ id: Int, _ outcome: Outcome, now: Double) -> [Directive] {
        guard let index = jobs.firstIndex(where: { $0.id == id }) else { return schedule() }
        switch (outcome, jobs[index].state) {
        case (.completed(let message), _):
            jobs[index].state = .done
            jobs[index].message = message
            jobs[index].finishedAt = now
        case (.failed(let message), .cancelling):
            jobs[index].state = .cancelled
            jobs[index].message = message
            jobs[index].finishedAt = now
        case (.failed(let message), _):
            jobs[index].state = .failed
            jobs[index].message = message
            jobs[index].finishedAt = now
        case (.stopped, .pausing):
            jobs[index].state = .paused
        case (.stopped, .cancelling):
            jobs[index].state = .cancelled
            jobs[index].finishedAt = now
        case (.stopped, _):
            jobs[index].state = .queued // preempted, or the service is stopping: it resumes from its journal
        }
        return schedule()
    }

    /// After a restart (the service was killed or stopped): the job that was running resumes first from its journal,
    /// a pause or cancel that was under way takes effect now.
    public mutating func recover() -> [Directive] {
        for index in jobs.indices {
            switch jobs[index].state {
            case .running: jobs[index].state = .queued
            case .pausing: jobs[index].state = .paused
            case .cancelling: jobs[index].state = .cancelled
            default: break
            }
        }
        return schedule()
    }

    /// Forgets finished jobs beyond the newest `keep` of them (the queue file stays small on a long-lived service).
    public mutating func prune(keepFinished keep: Int) {
        let finished = jobs.filter { $0.state.isFinal }.map(\.id)
        guard finished.count > keep else { return }
        let drop = Set(finished.prefix(finished.count - keep))
        jobs.removeAll { drop.contains($0.id) }
    }

    // MARK: Scheduling

    /// The job to run next: the highest priority, then the earliest submitted.
    public var next: Job? {
        jobs.filter { $0.state == .queued }.min { ($1.priority, $0.sequence) < ($0.priority, $1.sequence) }
    }

    /// Starts the next jobs while slots are free; when none is, asks the lowest-priority running job (the latest
    /// submitted among equals) to make way for a queued one of higher priority (it stops at the end of the segments
    /// in hand and resumes from its journal later).
    private mutating func schedule() -> [Directive] {
        var out: [Directive] = []
        var taken = onFarm.count
        while taken < slots, let next, let index = jobs.firstIndex(where: { $0.id == next.id }) {
            jobs[index].state = .running
            out.append(.start(next.id))
            taken += 1
        }
        if taken >= slots, let next,
           let lowest = jobs.filter({ $0.state == .running }).min(by: { ($0.priority, $1.sequence) < ($1.priority, $0.sequence) }),
           next.priority > lowest.priority {
            out.append(.stop(lowest.id))
        }
        return out
    }

    /// What JSON alone does not promise (a queue file edited or damaged): nil when consistent, else what is wrong.
    func inconsistency() -> String? {
        let ids = jobs.map(\.id)
        if Set(ids).count != ids.count { return "two jobs share an id" }
        if let highest = ids.max(), highest >= nextID { return "job \(highest) is not below the next id \(nextID)" }
        return nil
    }

    private func indexOf(_ id: Int) throws -> Int {
        guard let index = jobs.firstIndex(where: { $0.id == id }) else { throw JobQueueError.unknownJob(id) }
        return index
    }
}

public enum JobQueueError: Error, Equatable, CustomStringConvertible {
    case unknownJob(Int)
    case finished(id: Int, state: JobQueue.State)
    /// The queue file cannot be read: the service refuses to start rather than forget jobs.
    case corrupt(path: String, reason: String)
    case unsupportedVersion(path: String, version: Int)

    public var description: String {
        switch self {
        case .unknownJob(let id): return "no job \(id) in the queue; `lumiere-coordinator jobs` lists them"
        case .finished(let id, let state): return "job \(id) is \(state.rawValue) already; submit it again to run it again"
        case .corrupt(let path, let reason):
            return "the job queue \(path) is damaged (\(reason)). Move it aside (the jobs' own directories are untouched and resume when submitted again) and start the service again"
        case .unsupportedVersion(let path, let version):
            return "the job queue \(path) has format \(version), this Lumière reads \(JobQueue.formatVersion): run the Lumière version that wrote it, or move the file aside"
        }
    }
}
