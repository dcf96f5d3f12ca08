import Shared

/// How often coordinator and workers heartbeat, by the farm's size. Every registered worker costs the coordinator one
/// heartbeat each way per interval, so a fixed interval makes its load grow with the farm: at 1 s, 10,000 workers are
/// 20,000 messages a second, and on this machine's 2 shared cores the coordinator fell silent, workers reconnected and
/// the job collapsed (107,011 reconnects; BENCHMARKS.md, "Lease-ahead"). Large clusters bound that rate instead (Nomad's
/// `max_heartbeats_per_second`): the interval is `workers / heartbeatsPerSecond`, never below the configured one
/// (small farms detect a dead worker as fast as before) nor above `maxInterval` (detection within 3 × that).
///
/// The interval moves in whole steps of the configured one, up as soon as the farm passes a step, down only once it
/// is 20 % below it (hysteresis: a farm hovering at a step's edge does not re-announce its interval with every worker
/// that comes or goes). Pure: the scheduler owns one (`FarmScheduler.heartbeat`) and announces each change to every
/// worker in a `welcome` (docs/protocol.md, "Heartbeats and liveness").
public struct HeartbeatPolicy: Sendable, Equatable {
    /// The interval of a small farm (`--heartbeat`, 1 s), and the step the interval moves by.
    public var baseInterval: Double
    /// Intervals of silence before either side gives up on the other (Paranoid Pirate).
    public var liveness: Int
    /// Heartbeats a second the coordinator spends on each direction, at most (until `maxInterval`). nil: a fixed
    /// interval whatever the farm's size.
    public var heartbeatsPerSecond: Double?
    /// The longest interval (a silent worker is found within `liveness` × this). At most the protocol's bound.
    public var maxInterval: Double

    /// 2,000 heartbeats a second each way: 1 s up to 2,000 workers, 5 s at 10,000 (where the 3 s heartbeat measured
    /// 51.7 % of a core here with 100 % busy), the 10 s cap from 20,000.
    public init(baseInterval: Double = 1, liveness: Int = 3, heartbeatsPerSecond: Double? = 2_000, maxInterval: Double = 10) {
        self.baseInterval = baseInterval
        self.liveness = liveness
        self.heartbeatsPerSecond = heartbeatsPerSecond
        self.maxInterval = maxInterval
    }

    /// The longest interval any setting may reach: what `welcome` can carry (`FarmProtocol.maxHeartbeatIntervalMs`).
    var ceiling: Double { max(baseInterval, min(maxInterval, Double(FarmProtocol.maxHeartbeatIntervalMs) / 1000)) }

    /// The smallest whole number of steps of `baseInterval` that keeps `workers` within the rate, capped.
    func interval(forWorkers workers: Double) -> Double {
        guard let rate = heartbeatsPerSecond, rate > 0, baseInterval > 0 else { return baseInterval }
        let steps = max(1, (workers / (rate * baseInterval)).rounded(.up))
        return min(ceiling, steps * baseInterval)
    }

    /// The interval to use with `workers` registered, given the one in force: up at once, down with 20 % hysteresis.
    public func interval(workers: Int, current: Double) -> Double {
        let up = interval(forWorkers: Double(workers))
        if up > current { return up }
        let down = interval(forWorkers: Double(workers) * 1.25)
        return down < current ? down : current
    }
}

/// The heartbeat interval in force on a farm, and how long a worker may be silent under it.
struct HeartbeatState {
    var interval: Double
    /// After the interval shrank: workers still on the old one may stay silent that long until they hear the new one, so
    /// the old expiry holds until `until`.
    var previousExpiry: (seconds: Double, until: Double)?

    init(_ policy: HeartbeatPolicy) { interval = policy.baseInterval }

    /// Silence after which a worker is dead at `now`.
    func expirySeconds(_ policy: HeartbeatPolicy, now: Double) -> Double {
        let current = interval * Double(policy.liveness)
        guard let previous = previousExpiry, now < previous.until else { return current }
        return max(current, previous.seconds)
    }

    /// Moves to the interval `policy` gives for `workers`; true when it changed (every worker must be told).
    mutating func retune(_ policy: HeartbeatPolicy, workers: Int, now: Double) -> Bool {
        let next = policy.interval(workers: workers, current: interval)
        guard next != interval else { return false }
        if next < interval {
            let old = expirySeconds(policy, now: now)
            previousExpiry = (old, now + old)
        }
        interval = next
        return true
    }
}
