import Shared

/// Which output frames a segment makes from which input frames (issue 6): the pure part of retiming, with no
/// pictures inside. The renderer feeds it one decoded frame at a time — a new picture or a duplicate of the
/// current one — and gets back, in order, the output frames it can now make.
///
/// Pictures: consecutive duplicates (at most `maxDuplicateRun` frames) are one picture shown at the middle of
/// its run, so step-printed film (A A B C C D) moves evenly and a stalled projector's repeat turns into motion
/// instead of a stutter then a jump. A longer run is a deliberate freeze: each of its frames stays a picture at
/// its own time, and nothing is interpolated between two frames of a freeze. Without duplicates every frame is a
/// picture at its own time and this is plain retiming: output k at p = k · in / out is a copy when p lands on a
/// picture, else an interpolation between the pictures either side at t = the fraction between them.
/// Before the segment's first picture or after its last (a shot's ends: the nearer-side rule), the output holds it.
public struct RetimeSchedule {
    public enum FrameKind: Sendable { case newPicture, duplicate }

    /// How to make one output frame; frames are numbered within the segment's input (0 = its first frame).
    public enum Step: Equatable, Sendable {
        case copy(frame: Int)
        case interpolate(from: Int, to: Int, t: Double)
    }

    struct Picture {
        var frame: Int
        /// Position in input frames, relative to the segment's first frame.
        var time: Rational
        /// A later frame of a freeze: the same picture as the previous one.
        var repeatsPrevious: Bool
    }

    public let retiming: Retiming
    public let firstInputFrame: Int64
    public let outputFrames: Range<Int64>
    public let maxDuplicateRun: Int
    public private(set) var nextOutput: Int64
    private var closed: [Picture] = []
    /// The run being read: its first frame and length (its end, hence its time, is not known yet).
    private var pending: (start: Int, length: Int)?
    private var freezing = false
    private var framesSeen = 0
    public private(set) var finished = false

    public init(retiming: Retiming, firstInputFrame: Int64, outputFrames: Range<Int64>, maxDuplicateRun: Int = RetimeRecipe.defaultMaxDuplicateRun) {
        self.retiming = retiming
        self.firstInputFrame = firstInputFrame
        self.outputFrames = outputFrames
        self.maxDuplicateRun = max(1, maxDuplicateRun)
        self.nextOutput = outputFrames.lowerBound
    }

    /// Source position of output k relative to the segment's first input frame.
    func position(_ k: Int64) -> Rational { retiming.step * k - Rational(firstInputFrame) }

    /// The next input frame was decoded. Returns the output frames that can be made now.
    public mutating func onFrame(_ kind: FrameKind) -> [(output: Int64, step: Step)] {
        let frame = framesSeen
        framesSeen += 1
        if frame == 0 || kind == .newPicture {
            closePending()
            freezing = false
            pending = (frame, 1)
        } else if freezing {
            closed.append(Picture(frame: frame, time: Rational(Int64(frame)), repeatsPrevious: true))
        } else if let run = pending, run.length >= maxDuplicateRun {
            // The run is longer than a repeat: a freeze. Its frames keep their own times.
            for f in run.start...frame {
                closed.append(Picture(frame: f, time: Rational(Int64(f)), repeatsPrevious: f != run.start))
            }
            pending = nil
            freezing = true
        } else {
            pending!.length += 1
        }
        return emit(final: false)
    }

    /// The segment's input ended: every remaining output frame.
    public mutating func onEnd() -> [(output: Int64, step: Step)] {
        closePending()
        finished = true
        return emit(final: true)
    }

    /// Whether the renderer must keep input frame `frame` for outputs still to come.
    public func retains(frame: Int) -> Bool {
        if let pending, frame >= pending.start { return true }
        return closed.contains { $0.frame == frame }
    }

    private mutating func closePending() {
        guard let run = pending else { return }
        // The middle of the run: (first + last) / 2.
        closed.append(Picture(frame: run.start, time: Rational(Int64(2 * run.start + run.length - 1), 2), repeatsPrevious: false))
        pending = nil
    }

    private mutating func emit(final: Bool) -> [(output: Int64, step: Step)] {
        var steps: [(output: Int64, step: Step)] = []
        while nextOutput < outputFrames.upperBound, let last = closed.last {
            let p = position(nextOutput)
            // Outputs past the last closed picture wait for the next one, unless the input has ended.
            guard final || p <= last.time else { break }
            steps.append((nextOutput, step(at: p)))
            nextOutput += 1
        }
        // Pictures wholly before the next output are no longer needed.
        if nextOutput < outputFrames.upperBound {
            let p = position(nextOutput)
            while closed.count >= 2, closed[1].time <= p { closed.removeFirst() }
        } else if final {
            closed.removeAll()
        }
        return steps
    }

    private func step(at p: Rational) -> Step {
        guard let m = closed.lastIndex(where: { $0.time <= p }) else { return .copy(frame: closed[0].frame) }
        let a = closed[m]
        guard m + 1 < closed.count else { return .copy(frame: a.frame) }
        let b = closed[m + 1]
        let t = (p - a.time) / (b.time - a.time)
        if t.isZero { return .copy(frame: a.frame) }
        if b.repeatsPrevious { return .copy(frame: t < Rational(1, 2) ? a.frame : b.frame) }
        return .interpolate(from: a.frame, to: b.frame, t: t.doubleValue)
    }
}
