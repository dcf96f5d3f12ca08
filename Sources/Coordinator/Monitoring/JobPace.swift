/// Each job's own pace on a farm it shares (`serve`): output frames per second over the last `window` seconds, from
/// the frame counts seen each time the queue is described (the web page asks every second, Prometheus at each scrape),
/// and the ETA that pace gives. The farm's rate would not do: it is the sum over the jobs interleaved on it, so the
/// remaining frames of one job over it would promise too early an end. Pure: times are passed in.
public struct JobPace: Sendable {
    public let window: Double
    private var samples: [String: [(t: Double, done: Int64)]] = [:]

    public init(window: Double = 30) { self.window = window }

    /// Records `done` frames of `job` at `t` and returns the job's frames with its rate and ETA where there is one:
    /// a rate needs samples at least a second apart; no frame in the window means no rate (and no ETA), not zero.
    public mutating func observe(_ job: String, _ frames: JobFrames, at t: Double) -> JobFrames {
        var list = samples[job] ?? []
        if let last = list.last, t < last.t || frames.done < last.done { list.removeAll() } // a restart: start over
        list.append((t, frames.done))
        // Keep one sample at or before the window's start as the anchor; drop the older ones.
        while list.count > 1, list[1].t <= t - window { list.removeFirst() }
        samples[job] = list
        var result = frames
        guard let first = list.first, t - first.t >= 1, frames.done > first.done else { return result }
        let fps = Double(frames.done - first.done) / (t - first.t)
        result.fps = fps
        result.etaSeconds = Double(max(0, frames.total - frames.done)) / fps
        return result
    }

    /// Forgets the jobs not in `jobs` (finished, cancelled, paused: a resumed job starts its pace again).
    public mutating func keep(only jobs: Set<String>) {
        samples = samples.filter { jobs.contains($0.key) }
    }
}
