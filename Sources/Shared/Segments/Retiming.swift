/// Exact frame arithmetic between an input at `inputRate` and an output at `outputRate` (e.g. 24000/1001 → 60).
///
/// Output frame k is shown at time k / outputRate; the input frame shown then is at position
/// p = k · inputRate / outputRate. Everything is a `Rational`, computed from k directly (never by adding
/// frame durations), so the millionth frame is as exact as the first: no drift over a 2-hour film.
/// Frames are counted from the start of the constant-rate sequence (the first frame is at time 0).
public struct Retiming: Sendable, Equatable, Hashable, Codable {
    public let inputRate: Rational
    public let outputRate: Rational

    /// Where an output frame falls in the input: between input frames `index` and `index + 1`,
    /// `fraction` (in [0, 1)) of the way. `fraction == 0`: the output is input frame `index` itself.
    public struct SourcePosition: Sendable, Equatable, Hashable {
        public let index: Int64
        public let fraction: Rational
        /// The output lands exactly on an input frame: copy it, nothing to interpolate.
        public var isExact: Bool { fraction.isZero }
        /// The interpolation timestep t in (0, 1) for a model such as RIFE.
        public var timestep: Double { fraction.doubleValue }

        public init(index: Int64, fraction: Rational) {
            self.index = index
            self.fraction = fraction
        }
    }

    public init(inputRate: Rational, outputRate: Rational) throws {
        guard inputRate > .zero, outputRate > .zero else {
            throw RetimingError.nonPositiveRate("frame rates must be positive, got \(inputRate) → \(outputRate)")
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
    }

    /// Input frames per output frame (in / out).
    public var step: Rational { inputRate / outputRate }

    /// p = k · in / out, split into whole input frame and exact fraction.
    public func sourcePosition(ofOutputFrame k: Int64) -> SourcePosition {
        let p = step * k
        return SourcePosition(index: p.floor, fraction: p.fractionalPart)
    }

    /// Output frames for an input of `inputFrames` frames: every output frame whose time k / out lies
    /// before the input's end N / in, i.e. ceil(N · out / in). 24 → 60 fps gives exactly 2.5 N, rounded up.
    public func outputFrameCount(inputFrames: Int64) -> Int64 {
        Retiming.ceil(Rational(inputFrames) * outputRate / inputRate)
    }

    /// Output frames for a duration in seconds: those that start before its end, ceil(duration · out).
    public func outputFrameCount(duration: Rational) -> Int64 {
        Retiming.ceil(duration * outputRate)
    }

    /// The output frames whose source position lies in the input frames `range` (half-open):
    /// [ceil(lo · out / in), ceil(hi · out / in)). Consecutive input ranges give consecutive output ranges,
    /// so the owned ranges of a segment plan map to output ranges that tile the output exactly.
    public func outputFrames(forInputFrames range: Range<Int64>) -> Range<Int64> {
        let scale = outputRate / inputRate
        let lower = Retiming.ceil(Rational(range.lowerBound) * scale)
        let upper = Retiming.ceil(Rational(range.upperBound) * scale)
        return lower..<max(lower, upper)
    }

    /// Time (seconds from the start) of output frame k.
    public func outputTime(ofFrame k: Int64) -> Rational { Rational(k) / outputRate }

    /// Smallest integer ≥ x.
    public static func ceil(_ x: Rational) -> Int64 { -(Rational(-x.numerator, x.denominator)).floor }
}

public enum RetimingError: Error, Equatable, CustomStringConvertible {
    case nonPositiveRate(String)
    public var description: String {
        switch self {
        case .nonPositiveRate(let s): return "\(s); pass a rate such as 24, 60 or 24000/1001"
        }
    }
}
