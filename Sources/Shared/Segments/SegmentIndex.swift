/// A segment's position in its job's plan: 0, 1, 2… in film order (`Segment.index`). One type from the plan through
/// input writing, the farm, the results and the stitch, so a segment's number is not mistaken for a frame, a shot or a
/// farm-wide id (`SegmentID`, which adds the job). The journal keys results by their content (`JobKeys.segmentKey`), not
/// by this number. In plan.json and a stitch plan it is a plain integer, as it was when it was an `Int`.
public struct SegmentIndex: Hashable, Comparable, Codable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// Indices fit the low 32 bits of a `SegmentID`. A plan's segments hold at least one frame each, so a job reaches
    /// this only with a film of 2^32 frames (over two years at 60 fps).
    public static let limit = 1 << 32

    /// Where the segment is in its plan's list (and in lists made per segment in plan order).
    public let position: Int

    /// A position the planner counted (trusted); one from a file or the wire goes through `init(validating:)`.
    public init(_ position: Int) {
        precondition((0..<SegmentIndex.limit).contains(position), "segment index \(position) is outside 0..<2^32")
        self.position = position
    }

    /// nil for a position outside 0..<`limit` (untrusted bytes).
    public init?(validating position: Int) {
        guard (0..<SegmentIndex.limit).contains(position) else { return nil }
        self.position = position
    }

    public init(integerLiteral value: Int) { self.init(value) }

    /// A plain integer, as before the type existed (plan.json must still read).
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let position = try container.decode(Int.self)
        guard let index = SegmentIndex(validating: position) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "segment index \(position) is outside 0..<2^32")
        }
        self = index
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(position)
    }

    public static func < (a: SegmentIndex, b: SegmentIndex) -> Bool { a.position < b.position }
    public var description: String { "\(position)" }
}
