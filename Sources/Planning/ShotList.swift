import Foundation
import Shared

/// Where one shot ends and the next begins: `frame` is the first frame of the new shot.
public struct ShotBoundary: Codable, Sendable, Equatable, Hashable {
    public enum Kind: String, Codable, Sendable {
        /// An abrupt change between two consecutive frames.
        case cut
        /// A fade through black; the boundary is the first frame after the black.
        case fade
    }
    public var frame: Int
    public var score: Double
    public var kind: Kind

    public init(frame: Int, score: Double, kind: Kind = .cut) {
        self.frame = frame
        self.score = score
        self.kind = kind
    }
}

/// The shots of a film: what `lumiere-coordinator shots` prints and what the next run reuses.
public struct ShotList: Codable, Sendable, Equatable {
    /// Bumped when detection changes so that an old file is not mistaken for a current one
    /// (2: contrast-normalised difference in the pair score).
    public static let formatVersion = 2
    /// A shot list is small; a larger file is not one.
    public static let maxEncodedBytes = 64 << 20
    /// 48 hours at 500 fps: more frames than any film has; a larger count is a damaged or crafted file.
    public static let maxFrames = 48 * 3600 * 500

    public var version: Int = ShotList.formatVersion
    /// Frames in the constant-rate sequence.
    public var frameCount: Int
    public var rate: Rational
    public var settings: ShotDetectorSettings
    /// Ascending, each in 1..<frameCount.
    public var boundaries: [ShotBoundary]
    /// Identity of the analysed input (see `InputIdentity`), so a shot list is reused only for the same file.
    public var input: String?

    public init(frameCount: Int, rate: Rational, settings: ShotDetectorSettings, boundaries: [ShotBoundary], input: String? = nil) {
        self.frameCount = frameCount
        self.rate = rate
        self.settings = settings
        self.boundaries = boundaries
        self.input = input
    }

    /// The shots as half-open frame ranges covering 0..<frameCount.
    public var shots: [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        for b in boundaries {
            result.append(start..<b.frame)
            start = b.frame
        }
        if frameCount > start || result.isEmpty { result.append(start..<max(start, frameCount)) }
        return result
    }

    /// Checks the invariants (the file may come from disk).
    public func validated() throws -> ShotList {
        guard version == ShotList.formatVersion else { throw PlanningError.invalidShotList("format version \(version), expected \(ShotList.formatVersion)") }
        guard frameCount >= 1, frameCount <= ShotList.maxFrames else { throw PlanningError.invalidShotList("frame count \(frameCount)") }
        guard rate > .zero else { throw PlanningError.invalidShotList("rate \(rate)") }
        var previous = 0
        for b in boundaries {
            guard b.frame > previous, b.frame < frameCount else {
                throw PlanningError.invalidShotList("boundary at frame \(b.frame) is out of order or outside 1..<\(frameCount)")
            }
            guard b.score.isFinite else { throw PlanningError.invalidShotList("boundary at frame \(b.frame) has score \(b.score)") }
            previous = b.frame
        }
        _ = try settings.validated()
        return self
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data, path: String = "shot list") throws -> ShotList {
        guard data.count <= maxEncodedBytes else { throw PlanningError.invalidShotList("\(path) is \(data.count) bytes") }
        do {
            return try JSONDecoder().decode(ShotList.self, from: data).validated()
        } catch let error as PlanningError {
            throw error
        } catch {
            throw PlanningError.invalidShotList("\(path) is not a shot list (\(error))")
        }
    }
}
