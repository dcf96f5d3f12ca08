/// Cumulative frame counts sampled every quarter second: the rate over the last minute for the live view,
/// and the whole job's curve for the end-of-job plot. Long jobs are thinned (every other sample dropped,
/// the interval doubled) so memory stays bounded at `capacity` samples per series.
public struct ThroughputHistory: Sendable, Equatable {
    public struct Sample: Sendable, Equatable {
        public var time: Double
        public var frames: Int64
    }

    public private(set) var samples: [Sample] = []
    public private(set) var interval: Double
    public let capacity: Int

    public init(interval: Double = 0.25, capacity: Int = 4096) {
        self.interval = interval
        self.capacity = max(capacity, 16)
    }

    /// Records the cumulative count at `time` if an interval passed since the last sample.
    public mutating func record(time: Double, frames: Int64) {
        if let last = samples.last, time - last.time < interval { return }
        samples.append(Sample(time: time, frames: frames))
        if samples.count > capacity {
            samples = samples.enumerated().filter { $0.offset % 2 == 0 || $0.offset == samples.count - 1 }.map(\.element)
            interval *= 2
        }
    }

    /// Frames per second over the last `window` seconds, ending at `now` with `framesNow`.
    public func rate(now: Double, framesNow: Int64, window: Double = 60) -> Double {
        guard let first = samples.first(where: { $0.time >= now - window }) ?? samples.last else { return 0 }
        // Prefer the sample just before the window start, so the window is full once enough history exists.
        let start = samples.last(where: { $0.time <= now - window }) ?? first
        let span = now - start.time
        guard span > 0.5 else { return 0 }
        return Double(max(0, framesNow - start.frames)) / span
    }

    /// (time, fps) points averaged over `bucket` seconds, for plotting.
    public func ratePoints(bucket: Double) -> [(time: Double, fps: Double)] {
        guard samples.count >= 2, bucket > 0 else { return [] }
        var points: [(Double, Double)] = []
        var start = samples[0]
        for sample in samples.dropFirst() where sample.time - start.time >= bucket || sample == samples.last! {
            let span = sample.time - start.time
            if span > 0 { points.append((sample.time, Double(max(0, sample.frames - start.frames)) / span)) }
            start = sample
        }
        return points
    }
}
