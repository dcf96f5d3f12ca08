import Shared

/// Temporal stages in order (deflicker → dust → stabilise, say) as a stream over one shot: push frames as they are
/// decoded, get each restored frame as soon as every stage has seen the frames its window needs. Stage k reads stage
/// k − 1's output, so the chain's radius is the sum of the stages' radii: that many context frames either side of a
/// segment (inside its shot) make its frames those of a whole-shot run. Memory: at most 2·radius + 1 frames a stage.
/// A pure state machine, used by one thread at a time.
public final class TemporalChain {
    public let stages: [TemporalFilter]
    public var radius: Int { stages.reduce(0) { $0 + $1.radius } }

    /// Per stage: the input frames still needed, the shot index of the first of them, how many came in, and the
    /// index of the next frame the stage will put out.
    private var buffers: [[RGBImage]]
    private var first: [Int]
    private var received: [Int]
    private var emitted: [Int]

    public init(_ stages: [TemporalFilter]) {
        self.stages = stages
        buffers = Array(repeating: [], count: stages.count)
        first = Array(repeating: 0, count: stages.count)
        received = first
        emitted = first
    }

    /// The next frame of the shot; returns the restored frames that are now final, in order.
    public func push(_ frame: RGBImage) throws -> [RGBImage] {
        var out: [RGBImage] = []
        try feed(0, frame, into: &out)
        return out
    }

    /// The shot ended: the rest of its restored frames. The chain is then ready for the next shot.
    public func finish() throws -> [RGBImage] {
        var out: [RGBImage] = []
        for k in stages.indices { try drain(k, into: &out, flushing: true) }
        for k in stages.indices { buffers[k] = []; first[k] = 0; received[k] = 0; emitted[k] = 0 }
        return out
    }

    /// Stage k's next input frame. Never flushes stage k: at the shot's end, `finish` flushes the stages in order,
    /// each once the one before it has put out everything (flushing the next stage along would cut its windows short).
    private func feed(_ k: Int, _ frame: RGBImage, into out: inout [RGBImage]) throws {
        guard k < stages.count else { out.append(frame); return }
        buffers[k].append(frame)
        received[k] += 1
        try drain(k, into: &out, flushing: false)
    }

    /// Puts out every frame of stage k whose window is complete (or, at the shot's end, every frame left).
    private func drain(_ k: Int, into out: inout [RGBImage], flushing: Bool) throws {
        let r = stages[k].radius
        while emitted[k] < received[k] && (flushing || emitted[k] + r < received[k]) {
            let j = emitted[k]
            let lo = max(first[k], j - r), hi = min(received[k], j + r + 1)
            let window = Array(buffers[k][(lo - first[k])..<(hi - first[k])])
            let restored = try stages[k].apply(window: window, centre: j - lo)
            emitted[k] += 1
            // Frames before the next window's start are no longer needed.
            let keepFrom = max(first[k], emitted[k] - r)
            buffers[k].removeFirst(keepFrom - first[k])
            first[k] = keepFrom
            try feed(k + 1, restored, into: &out)
        }
    }
}
