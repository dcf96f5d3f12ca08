import Shared

/// How far the cutting of segment inputs may run ahead of the farm (issue 16 item 1, backpressure): the segments whose
/// input file is written and not yet finished (finished = journaled and its input deleted). The film's analysis writes
/// the next input only while fewer than `limit` are outstanding, so the job directory holds a bounded number of inputs
/// however long the film and however slow the workers — with lossless inputs (hundreds of MB per 10 s segment at
/// 1080p) an unbounded run filled it with the whole film before the workers needed it.
///
/// Pure: the thin shell that waits is `InputGate` (Coordinator).
public struct InputBacklog: Sendable, Equatable {
    /// Segments written and not finished.
    public private(set) var outstanding: Set<SegmentIndex> = []
    /// The most that were ever outstanding at once.
    public private(set) var peak = 0

    public init() {}

    /// The default bound for `workers` workers (0 or fewer, none yet registered: counted as one): 2 × workers + 2.
    /// Each worker holds one segment while it renders (W) and should find its next one ready the moment it finishes (W
    /// more), since writing a lossless input takes about as long as decoding its frames; the 2 spare keep a lone worker
    /// (or the in-process executor) two segments ahead, so a shot's close — its segments released together — never
    /// leaves it waiting. Beyond that an input only waits on disk: the whole film's inputs, before.
    public static func limit(workers: Int) -> Int { 2 * max(1, workers) + 2 }

    /// Whether one more input may be written now.
    public func mayWrite(limit: Int) -> Bool { outstanding.count < max(1, limit) }

    /// `segment`'s input is about to be written (admitted by `mayWrite`).
    public mutating func written(_ segment: SegmentIndex) {
        outstanding.insert(segment)
        peak = max(peak, outstanding.count)
    }

    /// `segment` finished (or will never need its input again). A segment not outstanding — a speculative copy's second
    /// result, a segment whose input was written before the bound applied — changes nothing.
    public mutating func finished(_ segment: SegmentIndex) { outstanding.remove(segment) }
}
