import Foundation

/// The whole restore's ETA, shown after each phase's own on the progress line: the time left in the phase running
/// now (at its measured speed) plus what the phases after it are expected to take —
///   split (one more decode of the film, writing packets): the film's frames at the decoding speed the analysis measured;
///   farm (or in-process restore): `JobCost`'s estimate before it starts (the catalogue's speed: rough, see there), then
///     its own measured ETA;
///   tail (encode/join): not priced — the film is written as segments arrive, so after the farm only the last
///     segments' frames are left (seconds, against minutes to days for the farm).
/// Unknown (shown "--:--") while a later phase cannot be priced: a Lanczos job or a farm of remote workers before the
/// farm runs, an analysis of a film whose length the container does not say. Thread-safe: the farm's callbacks
/// report from its thread.
public final class JobETA: @unchecked Sendable {
    enum Phase: Int, CaseIterable {
        case analysis, split, farm, tail

        /// The phase a progress line's label belongs to (`ProgressReporter`'s labels in the restore pipeline).
        init?(label: String) {
            switch label {
            case "analyse": self = .analysis
            case "split", "check": self = .split
            case "restore": self = .farm
            case "encode", "join": self = .tail
            default: return nil
            }
        }
    }

    private let lock = NSLock()
    private var frames: Int64?
    private var decodeFPS: Double?
    private let farmSeconds: Double?

    /// `frames`: the film's frames (the container's estimate; the analysis makes it exact); `farmSeconds`: the
    /// farm's estimated wall time before it runs (nil: unknown).
    public init(frames: Int64?, farmSeconds: Double?) {
        self.frames = frames
        self.farmSeconds = farmSeconds
    }

    /// Seconds left in the whole job when the phase labelled `label` has done `done` of `total` in `elapsed` seconds;
    /// nil while unknown. Also learns the decoding speed from the analysis and split phases.
    public func remaining(phase label: String, done: Int64, total: Int64?, elapsed: Double) -> Double? {
        guard let phase = Phase(label: label) else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if phase == .analysis || phase == .split, done > 0, elapsed > 0 {
            decodeFPS = Double(done) / elapsed
            if let total { frames = total }
        }
        let own: Double?
        if let total, done >= total { own = 0 } else { own = ProgressReporter.remaining(done: done, total: total, elapsed: elapsed) }
        guard var left = own else { return nil }
        for next in Phase.allCases where next.rawValue > phase.rawValue {
            switch next {
            case .analysis: break
            case .split:
                guard let frames, let decodeFPS else { return nil }
                left += Double(frames) / decodeFPS
            case .farm:
                guard let farmSeconds else { return nil }
                left += farmSeconds
            case .tail: break
            }
        }
        return left
    }
}
