import Shared

/// Turns frames with arbitrary timestamps into a constant-rate sequence whose length is predictable.
///
/// The rule (the same as FFmpeg's `fps` filter with its default rounding):
/// - output frame k sits at `start + k / rate`, where `start` is the first frame's time;
/// - each input frame is placed at slot `round((t - start) * rate)`;
/// - output frame k shows the most recent input frame whose slot is ≤ k: gaps repeat the previous frame,
///   several frames on one slot keep the last one;
/// - the sequence has `round((end - start) * rate)` frames, where `end` is the last frame's time plus its
///   duration (one frame period when the file does not say).
/// For constant-rate input this is the identity.
public struct ConstantRateNormalizer<Payload> {
    public let rate: Rational
    public private(set) var start: Rational?
    public private(set) var nextSlot: Int64 = 0
    private var held: (payload: Payload, slot: Int64)?
    private var lastEnd: Rational?

    public init(rate: Rational) {
        precondition(rate > .zero, "frame rate must be positive")
        self.rate = rate
    }

    /// Continues a sequence whose frame 0 is at `start` from a frame in its middle (a segment cut from the film at a
    /// keyframe): the first frame pushed is held at its own slot, and the output resumes there, exactly as the
    /// whole-film sequence goes on from that frame (its earlier frames all lie on earlier slots).
    public init(rate: Rational, start: Rational) {
        self.init(rate: rate)
        self.start = start
    }

    /// Feeds the next decoded frame; returns the output frames that are now final, in order.
    public mutating func push(_ payload: Payload, time: Rational, duration: Rational?) -> [Payload] {
        let origin = start ?? time
        start = origin
        let slot = ((time - origin) * rate).rounded
        var out: [Payload] = []
        if let held {
            while nextSlot < slot { out.append(held.payload); nextSlot += 1 }
        } else {
            nextSlot = max(nextSlot, slot) // 0 for a whole film; a cut starts at its first frame's slot
        }
        held = (payload, slot)
        let end = time + (duration ?? rate.reciprocal)
        lastEnd = max(lastEnd ?? end, end)
        return out
    }

    /// Ends the stream; returns the last output frames.
    public mutating func finish() -> [Payload] {
        guard let held, let start, let lastEnd else { return [] }
        let total = max(1, ((lastEnd - start) * rate).rounded)
        var out: [Payload] = []
        while nextSlot < total { out.append(held.payload); nextSlot += 1 }
        self.held = nil
        return out
    }

    /// Ends a cut that holds every frame up to slot `last`: the held frame fills the slots up to `last` (a later
    /// frame would have ended it; the whole film's `finish` does the same at its end).
    public mutating func finish(through last: Int64) -> [Payload] {
        guard let held else { return [] }
        var out: [Payload] = []
        while nextSlot <= last { out.append(held.payload); nextSlot += 1 }
        self.held = nil
        return out
    }

    /// The rate a stream is normalised to: FFmpeg's base rate (`r_frame_rate`) when it is plausible,
    /// otherwise the average rate, otherwise 25 fps.
    public static func nominalRate(base: Rational?, average: Rational?) -> Rational {
        let plausible: (Rational) -> Bool = { $0 >= Rational(1) && $0 <= Rational(1000) }
        if let base, plausible(base) {
            // A base rate far above the average means a variable-rate stream: the average describes it better.
            if let average, plausible(average), base > average * Rational(2) { return average }
            return base
        }
        if let average, plausible(average) { return average }
        return Rational(25)
    }
}
