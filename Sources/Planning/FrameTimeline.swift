import Shared

/// Frame numbers ↔ times at a constant rate, exactly (rationals, no floating point): frame k is shown at
/// `start + k / rate`, so nothing accumulates and a 2-hour film ends on the frame it should.
public struct FrameTimeline: Sendable, Equatable {
    public var rate: Rational
    public var start: Rational

    public init(rate: Rational, start: Rational = .zero) {
        precondition(rate > .zero, "frame rate must be positive")
        self.rate = rate
        self.start = start
    }

    public func time(ofFrame k: Int) -> Rational { start + Rational(Int64(k)) / rate }

    /// The frame shown at time `t` (the nearest slot; halves go to the later frame, as FFmpeg's fps filter does).
    public func frame(at t: Rational) -> Int { Int(((t - start) * rate).rounded) }

    /// Frames in `duration` seconds.
    public func frameCount(duration: Rational) -> Int { Int((duration * rate).rounded) }

    /// Frame k's timestamp in `timeBase` units (e.g. 1/90000), rounded to the nearest tick.
    public func timestamp(ofFrame k: Int, timeBase: Rational) -> Int64 { (time(ofFrame: k) / timeBase).rounded }
}
