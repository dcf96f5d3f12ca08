import Foundation
import Shared

/// How long segments may be and how much neighbours share.
public struct SegmentPlannerSettings: Codable, Sendable, Equatable, Hashable {
    /// Longest segment input, in frames (default: 10 s of film, see `init(rateFramesPer10s:)`).
    public var maxSegmentFrames: Int
    /// Frames that two neighbouring segments of one shot both restore (interpolation context and blending room).
    /// A job's default is its recipe's (`RenderRecipe.defaultOverlapFrames`): 0 for chains that are exact in any segment.
    public var overlapFrames: Int
    /// The film's ramp (`ShotSplit`): its first piece owns this many frames (1 s of film), so that it is decided after
    /// a few dozen frames of analysis whatever the segment length. 0: no ramp (plans with seams, and plans written
    /// before the ramp: absent from their plan.json).
    public var rampFrames: Int

    /// The overlap for processors whose segments can differ near their ends (state that a segment's start resets): room
    /// for the 4-frame crossfade anywhere in the middle 6 frames, and one frame of interpolation context either side.
    public static let blendingOverlapFrames = 8

    public init(maxSegmentFrames: Int, overlapFrames: Int = SegmentPlannerSettings.blendingOverlapFrames, rampFrames: Int = 0) {
        self.maxSegmentFrames = maxSegmentFrames
        self.overlapFrames = overlapFrames
        self.rampFrames = rampFrames
    }

    private enum CodingKeys: String, CodingKey { case maxSegmentFrames, overlapFrames, rampFrames }

    /// `rampFrames` is written only when there is a ramp, so a plan without one reads and writes as before the ramp.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxSegmentFrames = try c.decode(Int.self, forKey: .maxSegmentFrames)
        overlapFrames = try c.decode(Int.self, forKey: .overlapFrames)
        rampFrames = try c.decodeIfPresent(Int.self, forKey: .rampFrames) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxSegmentFrames, forKey: .maxSegmentFrames)
        try c.encode(overlapFrames, forKey: .overlapFrames)
        if rampFrames != 0 { try c.encode(rampFrames, forKey: .rampFrames) }
    }

    public func validated() throws -> SegmentPlannerSettings {
        guard (0...1000).contains(overlapFrames) else { throw PlanningError.invalidSetting("overlap must be 0…1000 frames, got \(overlapFrames)") }
        // Each segment's own frames must be at least as many as it shares on each side, so no frame is shared by three segments.
        guard maxSegmentFrames >= max(1, 3 * overlapFrames) else {
            throw PlanningError.invalidSetting("segments of \(maxSegmentFrames) frames are too short for an overlap of \(overlapFrames); use at least \(max(1, 3 * overlapFrames)) frames or a smaller overlap")
        }
        // A ramp piece's rest can be ⌈R/2⌉ frames: at least the overlap, for the same reason (and its margin then covers
        // the frames its input reaches forward).
        guard rampFrames == 0 || rampFrames >= max(1, 2 * overlapFrames) else {
            throw PlanningError.invalidSetting("a ramp of \(rampFrames) frames is too short for an overlap of \(overlapFrames); use at least \(max(1, 2 * overlapFrames)) frames or none (0)")
        }
        return self
    }
}

/// One unit of work: a half-open range of frames a worker restores (`input`, overlap included) and the
/// frames it is responsible for (`owned`; the owned ranges of a plan partition the film).
public struct Segment: Codable, Sendable, Equatable, Hashable {
    public var index: SegmentIndex
    /// The shot it belongs to (segments never cross a shot boundary).
    public var shot: Int
    public var input: Range<Int>
    public var owned: Range<Int>

    public init(index: SegmentIndex, shot: Int, input: Range<Int>, owned: Range<Int>) {
        self.index = index
        self.shot = shot
        self.input = input
        self.owned = owned
    }
}

/// The film cut into segments: plain data, written to the job directory as plan.json.
public struct SegmentPlan: Codable, Sendable, Equatable {
    public var frameCount: Int
    public var settings: SegmentPlannerSettings
    public var shots: [Range<Int>]
    /// In film order.
    public var segments: [Segment]

    public init(frameCount: Int, settings: SegmentPlannerSettings, shots: [Range<Int>], segments: [Segment]) {
        self.frameCount = frameCount
        self.settings = settings
        self.shots = shots
        self.segments = segments
    }

    /// Checks every invariant the assembly relies on (plans may be read from disk). `allowingEmptyShots`: a retimed plan
    /// may have shots shorter than one output frame; they and their segments have empty ranges and make nothing.
    public func validated(allowingEmptyShots: Bool = false) throws -> SegmentPlan {
        guard frameCount >= 1 else { throw PlanningError.invalidPlan("frame count \(frameCount)") }
        var next = 0
        for s in shots {
            guard s.lowerBound == next, allowingEmptyShots || !s.isEmpty else { throw PlanningError.invalidPlan("shots do not tile the film at frame \(next)") }
            next = s.upperBound
        }
        guard next == frameCount else { throw PlanningError.invalidPlan("shots end at \(next), not \(frameCount)") }
        next = 0
        for (i, seg) in segments.enumerated() {
            guard seg.index.position == i else { throw PlanningError.invalidPlan("segment \(i) says it is \(seg.index)") }
            guard shots.indices.contains(seg.shot) else { throw PlanningError.invalidPlan("segment \(i) is in shot \(seg.shot), which does not exist") }
            let shot = shots[seg.shot]
            guard seg.owned.lowerBound == next, !seg.owned.isEmpty || (allowingEmptyShots && shot.isEmpty) else {
                throw PlanningError.invalidPlan("owned ranges do not tile the film at frame \(next)")
            }
            guard seg.input.lowerBound <= seg.owned.lowerBound, seg.input.upperBound >= seg.owned.upperBound,
                  seg.input.lowerBound >= shot.lowerBound, seg.input.upperBound <= shot.upperBound else {
                throw PlanningError.invalidPlan("segment \(i) input \(seg.input) does not hold its owned \(seg.owned) inside shot \(shot)")
            }
            next = seg.owned.upperBound
        }
        guard next == frameCount else { throw PlanningError.invalidPlan("owned ranges end at \(next), not \(frameCount)") }
        return self
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
