import Shared

/// Finds shot boundaries in a stream of thumbnails, one frame at a time (the film is decoded once and
/// never held in memory). Each frame pair gets a content-change score (`FrameChange`); a pair is a cut
/// when its score is above both the absolute threshold and the recent median by `adaptiveFactor` robust
/// deviations. Before a cut is accepted, the frame before it is compared with the next `flashFrames`
/// frames: if the picture comes back, it was a flash (or a single damaged frame), not two cuts. Two cuts
/// closer than `minimumShotFrames` keep the stronger one. Fades through black end a shot at the first
/// frame after the black. Decisions lag the input by `flashFrames` frames (plus `minimumShotFrames` to
/// settle competing cuts); `finish()` returns the rest.
public struct ShotDetector {
    public let settings: ShotDetectorSettings
    /// Frames pushed so far.
    public private(set) var frameCount = 0
    /// Every boundary emitted so far, ascending.
    public private(set) var boundaries: [ShotBoundary] = []

    private struct Frame {
        var index: Int
        var thumbnail: LumaThumbnail
        var histogram: [Float]
        var score: Float // change from the previous frame (0 for frame 0)
    }
    /// Recent frames: the `flashFrames` frames before the next candidate's predecessor, the predecessor, and everything after.
    private var window: [Frame] = []
    private var nextCandidate = 1
    private var recent: RollingMedian
    private var pending: ShotBoundary?
    private var lastEmitted = 0
    // Fades through black.
    private var lastContent: Frame?
    private var blackRunStart: Int?

    public init(settings: ShotDetectorSettings = ShotDetectorSettings()) throws {
        self.settings = try settings.validated()
        recent = RollingMedian(capacity: settings.window)
    }

    /// Frames before this one are settled: every boundary below it has been returned and none can follow, so they are
    /// in the shots already closed or in the open one (which a long shot's first segments can then be cut from before its
    /// cut is found). Later cuts are decided at `nextCandidate` or after, fades at frames not pushed yet, and the pending
    /// boundary (held back for the minimum shot length) can only be replaced by one of those.
    public var settledFrames: Int { min(nextCandidate, pending?.frame ?? nextCandidate, frameCount) }

    /// Adds the next frame's thumbnail; returns boundaries that are now final.
    public mutating func push(_ thumbnail: LumaThumbnail) -> [ShotBoundary] {
        let histogram = FrameChange.histogram(thumbnail)
        var score: Float = 0
        if let previous = window.last {
            precondition(previous.thumbnail.values.count == thumbnail.values.count, "ShotDetector: thumbnails must all have the same size")
            score = FrameChange.score(previous.thumbnail, histogramA: previous.histogram, thumbnail, histogramB: histogram)
        }
        let frame = Frame(index: frameCount, thumbnail: thumbnail, histogram: histogram, score: score)
        frameCount += 1
        window.append(frame)
        let before = boundaries.count
        trackBlack(frame)
        while nextCandidate + settings.flashFrames < frameCount { decideNextCandidate() }
        settle()
        return Array(boundaries[before...])
    }

    /// Decides the last frames; returns the boundaries not returned before.
    public mutating func finish() -> [ShotBoundary] {
        let before = boundaries.count
        while nextCandidate < frameCount { decideNextCandidate() }
        if let p = pending { emit(p) }
        return Array(boundaries[before...])
    }

    /// All boundaries of a whole sequence at once (the thumbnails must all have one size).
    public static func detect(_ thumbnails: [LumaThumbnail], settings: ShotDetectorSettings = ShotDetectorSettings()) throws -> [ShotBoundary] {
        var detector = try ShotDetector(settings: settings)
        for t in thumbnails { _ = detector.push(t) }
        _ = detector.finish()
        return detector.boundaries
    }

    /// The shot list of everything pushed (call after `finish()`).
    public func shotList(rate: Rational, input: String? = nil) -> ShotList {
        ShotList(frameCount: frameCount, rate: rate, settings: settings, boundaries: boundaries, input: input)
    }

    // MARK: - decisions

    private mutating func decideNextCandidate() {
        let i = nextCandidate
        let c = i - window[0].index // the candidate's position in the window
        let candidate = window[c]
        precondition(candidate.index == i)
        let (median, deviation) = recent.medianAndDeviation()
        let adaptive = recent.count >= 3 ? median + Float(settings.adaptiveFactor) * max(deviation, 0.005) : 0
        let threshold = max(Float(settings.threshold), adaptive)
        if candidate.score > threshold, !isTransient(at: c) {
            offer(ShotBoundary(frame: i, score: Double(candidate.score), kind: .cut))
        }
        recent.add(candidate.score)
        nextCandidate += 1
        while window[0].index < nextCandidate - 1 - settings.flashFrames { window.removeFirst() }
    }

    /// A flash or a damaged frame: the picture before the change comes back within `flashFrames` after it
    /// (the change into the flash), or the picture after the change was there shortly before (the change out of it).
    private func isTransient(at c: Int) -> Bool {
        guard settings.flashFrames > 0 else { return false }
        let limit = max(Float(settings.threshold), window[c].score / 2)
        func similar(_ x: Frame, _ y: Frame) -> Bool {
            FrameChange.score(x.thumbnail, histogramA: x.histogram, y.thumbnail, histogramB: y.histogram) < limit
        }
        for k in 1...settings.flashFrames {
            if c + k < window.count, similar(window[c - 1], window[c + k]) { return true }
            if c - 1 - k >= 0, similar(window[c - 1 - k], window[c]) { return true }
        }
        return false
    }

    private mutating func trackBlack(_ frame: Frame) {
        let mean = frame.thumbnail.mean
        var spread: Float = 0
        for v in frame.thumbnail.values { spread += abs(v - mean) }
        spread /= Float(frame.thumbnail.values.count)
        let black = Double(mean) < settings.blackLevel && Double(spread) < settings.blackLevel
        if black {
            if blackRunStart == nil { blackRunStart = frame.index }
            return
        }
        if blackRunStart != nil, let content = lastContent {
            let score = FrameChange.score(content.thumbnail, histogramA: content.histogram, frame.thumbnail, histogramB: frame.histogram)
            offer(ShotBoundary(frame: frame.index, score: Double(score), kind: .fade))
        }
        blackRunStart = nil
        lastContent = frame
    }

    // MARK: - minimum shot length

    private mutating func offer(_ b: ShotBoundary) {
        if let p = pending {
            if b.frame == p.frame {
                if b.kind == .cut { pending = b } // a hard cut out of black is reported as a cut
                return
            }
            if b.frame - p.frame < settings.minimumShotFrames {
                if b.score > p.score { pending = b }
                return
            }
            emit(p)
        }
        guard b.frame - lastEmitted >= settings.minimumShotFrames else { return }
        pending = b
    }

    /// A pending boundary is final once no later candidate can be closer than the minimum shot length.
    private mutating func settle() {
        if let p = pending, nextCandidate >= p.frame + settings.minimumShotFrames { emit(p) }
    }

    private mutating func emit(_ b: ShotBoundary) {
        boundaries.append(b)
        lastEmitted = b.frame
        pending = nil
    }
}
