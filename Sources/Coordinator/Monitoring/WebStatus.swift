import Foundation

/// What the web page (`GET /`, WebPage.swift) shows, served as `/farm.json`: the jobs, the workers and the farm's
/// output rate over time for the chart. `jobs` is a list although `restore` runs one: a head-node service with a queue
/// lists several in the same shape. `/status.json` stays as it was (the `status --connect` format).
public struct WebStatus: Codable, Equatable, Sendable {
    /// Bumped when a field changes meaning or disappears (new fields may be added without a bump).
    public static let formatVersion = 1

    public var formatVersion = WebStatus.formatVersion
    /// Seconds since the farm started (the chart's time axis ends here).
    public var elapsedSeconds: Double
    /// Accepted output frames per second over the last minute, all jobs together.
    public var outputFPS: Double
    public var jobs: [Job]
    public var workers: [WorkerSnapshot]
    /// The farm's output rate over time, oldest first: what the chart draws.
    public var throughput: [ThroughputPoint]

    public struct Job: Codable, Equatable, Sendable {
        public var id: String
        /// The input film and the output, as given on the command line.
        public var film: String
        public var output: String
        /// The processor (model) that restores it.
        public var model: String
        /// One of `JobInfo.phases`, or `queued`.
        public var phase: String
        public var finished: Bool
        public var framesDone: Int64
        /// Grows while shots are still being found (streaming analysis).
        public var framesTotal: Int64
        /// 0…100.
        public var percent: Double
        public var outputFPS: Double
        /// nil until there is a rate.
        public var etaSeconds: Double?
        public var segments: SegmentCounts

        public init(id: String, film: String, output: String, model: String, phase: String, finished: Bool, framesDone: Int64,
                    framesTotal: Int64, percent: Double, outputFPS: Double, etaSeconds: Double?, segments: SegmentCounts) {
            self.id = id
            self.film = film
            self.output = output
            self.model = model
            self.phase = phase
            self.finished = finished
            self.framesDone = framesDone
            self.framesTotal = framesTotal
            self.percent = percent
            self.outputFPS = outputFPS
            self.etaSeconds = etaSeconds
            self.segments = segments
        }

        /// A running job with its progress from the farm's `snapshot` (`restore`: one job, the whole farm). `finished`
        /// is the farm's: the phase goes on to the encode after it. A job that shares the farm (`serve`) brings its own
        /// frames, rate and ETA (`info.frames`, `JobPace`); the segment counts stay the farm's. Its ETA is never the
        /// farm's: that rate is shared with the other jobs, so remaining frames over it would promise too early an end.
        public init(running info: JobInfo, snapshot s: FarmSnapshot) {
            let done = info.frames?.done ?? s.framesDone, total = info.frames?.total ?? s.framesTotal
            let percent = total > 0 ? min(100, 100 * Double(done) / Double(total)) : 0
            self.init(id: info.id, film: info.film, output: info.output, model: info.model, phase: info.phase, finished: s.finished,
                      framesDone: done, framesTotal: total, percent: percent,
                      outputFPS: info.frames == nil ? s.outputFPS : info.frames?.fps ?? 0,
                      etaSeconds: info.frames == nil ? s.etaSeconds : info.frames?.etaSeconds, segments: s.segments)
        }

        /// A job waiting its turn: nothing done yet.
        public init(queued info: JobInfo) {
            self.init(id: info.id, film: info.film, output: info.output, model: info.model, phase: "queued", finished: false,
                      framesDone: 0, framesTotal: 0, percent: 0, outputFPS: 0, etaSeconds: nil, segments: SegmentCounts())
        }
    }

    public struct ThroughputPoint: Codable, Equatable, Sendable {
        /// Seconds since the farm started.
        public var t: Double
        /// Output frames per second over the `WebStatus.rateWindow` seconds before `t`.
        public var fps: Double

        public init(t: Double, fps: Double) {
            self.t = t
            self.fps = fps
        }
    }

    public init(elapsedSeconds: Double, outputFPS: Double, jobs: [Job], workers: [WorkerSnapshot], throughput: [ThroughputPoint]) {
        self.elapsedSeconds = elapsedSeconds
        self.outputFPS = outputFPS
        self.jobs = jobs
        self.workers = workers
        self.throughput = throughput
    }

    /// The page's model for one farm: the running `jobs` with the farm's progress, then the queued ones; the chart from
    /// the farm's history.
    public init(snapshot: FarmSnapshot, history: ThroughputHistory, jobs: JobList) {
        self.init(elapsedSeconds: snapshot.elapsedSeconds, outputFPS: snapshot.outputFPS,
                  jobs: jobs.running.map { Job(running: $0, snapshot: snapshot) } + jobs.queued.map { Job(queued: $0) },
                  workers: snapshot.workers,
                  throughput: WebStatus.throughput(history, until: snapshot.elapsedSeconds, framesNow: snapshot.framesDone))
    }

    /// Before a farm runs (a `restore` still analysing the film): the jobs, no workers, no chart.
    public init(jobs: JobList) {
        self.init(snapshot: .idle, history: ThroughputHistory(), jobs: jobs)
    }

    /// Seconds each chart point averages over. Results are accepted a whole segment at a time (12-250 frames at once
    /// with 0.5-10 s segments), so a rate over a second or two is a comb of spikes and zeros; ten seconds shows the trend
    /// and still moves within a few seconds of a change.
    public static let rateWindow = 10.0
    /// Most points one answer carries: the page polls every second, and 300 points draw a smooth line at any width a
    /// browser window has; a long job's points are spread over its whole length.
    public static let maxPoints = 300

    /// The rate at evenly spaced times from 0 to `until` (at least a second apart), each over the `rateWindow` seconds
    /// before it, or the spacing when that is longer (a long job's points then cover all of its time between them).
    /// Cumulative frames between two samples are interpolated: a long job's history keeps a sample every few seconds
    /// (ThroughputHistory thins it), and reading the last sample instead would alias the window against that spacing.
    static func throughput(_ history: ThroughputHistory, until end: Double, framesNow: Int64) -> [ThroughputPoint] {
        guard end > 0, !history.samples.isEmpty else { return [] }
        let step = max(1, end / Double(maxPoints - 1))
        let window = max(rateWindow, step)
        // Both ends of the window only move forward: two cursors, one walk over the samples each.
        var start = Cursor(samples: history.samples), stop = Cursor(samples: history.samples)
        var points: [ThroughputPoint] = []
        var t = min(step, end)
        while true {
            let from = max(0, t - window)
            let framesThen = t >= end ? Double(framesNow) : stop.frames(at: t)
            let rate = t > from ? max(0, framesThen - start.frames(at: from)) / (t - from) : 0
            points.append(ThroughputPoint(t: t, fps: rate))
            if t >= end { break }
            t = min(end, t + step)
        }
        return points
    }

    /// Cumulative frames at times that only grow, interpolated between samples (0 before the first).
    private struct Cursor {
        let samples: [ThroughputHistory.Sample]
        var index = 0

        mutating func frames(at t: Double) -> Double {
            while index + 1 < samples.count, samples[index + 1].time <= t { index += 1 }
            let a = samples[index]
            guard a.time <= t else { return 0 }
            guard index + 1 < samples.count else { return Double(a.frames) }
            let b = samples[index + 1]
            return Double(a.frames) + Double(b.frames - a.frames) * (t - a.time) / (b.time - a.time)
        }
    }

    /// JSON as `/farm.json` serves it (sorted keys: stable for diffs and tests).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}
