import Foundation
import Planning
import Shared

/// What a restore job is making, written as plan.json in the job directory: the input's identity, the
/// settings every segment result depends on, the shots and the segments with their result keys.
/// A run with another input or other settings gets other keys and so never reuses stale results.
public struct RestoreJobPlan: Codable, Sendable, Equatable {
    public var version = 1
    public var input: String
    public var inputIdentity: String
    /// Canonical text of everything that changes a segment's result.
    public var settings: String
    public var rate: Rational
    public var frameCount: Int
    public var shots: [ShotBoundary]
    public var segments: SegmentPlan
    /// `keys[i]` names segment i's result in the journal.
    public var keys: [String]

    /// `interiors`: with a delivery encoding, each segment's interior in its output frames (part of its key).
    public init(input: String, inputIdentity: String, recipe: RenderRecipe, rate: Rational, shots: ShotList, segments: SegmentPlan,
                interiors: [Range<Int>]? = nil) throws {
        self.input = input
        self.inputIdentity = inputIdentity
        self.settings = try RestoreJobPlan.fingerprint(recipe: recipe, rate: rate)
        self.rate = rate
        self.frameCount = segments.frameCount
        self.shots = shots.boundaries
        self.segments = segments
        self.keys = segments.segments.map { [settings] in
            JobKeys.segmentKey(input: inputIdentity, settings: settings, frames: $0.input, interior: interiors?[$0.index.position])
        }
    }

    /// The recipe as sorted JSON, the rate, and the version of the segment-input format.
    static func fingerprint(recipe: RenderRecipe, rate: Rational) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // v2: segment inputs keep the source's depth and chroma (v1 sent some formats, rgb48 for one, as 8-bit yuv444p).
        // v3: an input may be the source's own packets, which the worker decodes in the source's pixel format (a
        // yuvj420p or rgb48be source is no longer relabelled or repacked first): v2 results are not reused.
        return "segment-input packets-or-ffv1 v3; rate \(rate); recipe " + String(decoding: try encoder.encode(recipe), as: UTF8.self)
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
