/// Knobs of the shot detector. Defaults were chosen on the footage in ../shared/footage (docs/segments.md).
public struct ShotDetectorSettings: Codable, Sendable, Equatable, Hashable {
    /// A cut's score must exceed this absolute floor (0 … 1) …
    public var threshold: Double = 0.15
    /// … and the recent median by this many (scaled) median absolute deviations, so busy shots need more.
    public var adaptiveFactor: Double = 6
    /// Scores before the candidate that make up "recent".
    public var window: Int = 30
    /// Shortest shot, in frames: of two cuts closer than this, the stronger one stays.
    public var minimumShotFrames: Int = 8
    /// A change that reverts within this many frames (the frame before is like one shortly after) is a flash, not a cut.
    public var flashFrames: Int = 3
    /// A frame whose mean luma is below this (and nearly flat) is black: a fade through black ends a shot.
    public var blackLevel: Double = 0.03

    public init(threshold: Double = 0.15, minimumShotFrames: Int = 8) {
        self.threshold = threshold
        self.minimumShotFrames = minimumShotFrames
    }

    /// Checks ranges (values may come from a command line or a file).
    public func validated() throws -> ShotDetectorSettings {
        guard threshold > 0, threshold < 1 else { throw PlanningError.invalidSetting("shot threshold must be between 0 and 1, got \(threshold)") }
        guard adaptiveFactor >= 0, adaptiveFactor <= 100 else { throw PlanningError.invalidSetting("adaptive factor must be 0…100, got \(adaptiveFactor)") }
        guard (3...10_000).contains(window) else { throw PlanningError.invalidSetting("score window must be 3…10000 frames, got \(window)") }
        guard (1...100_000).contains(minimumShotFrames) else { throw PlanningError.invalidSetting("minimum shot length must be 1…100000 frames, got \(minimumShotFrames)") }
        guard (0...30).contains(flashFrames) else { throw PlanningError.invalidSetting("flash length must be 0…30 frames, got \(flashFrames)") }
        guard blackLevel >= 0, blackLevel < 0.5 else { throw PlanningError.invalidSetting("black level must be 0…0.5, got \(blackLevel)") }
        return self
    }
}
