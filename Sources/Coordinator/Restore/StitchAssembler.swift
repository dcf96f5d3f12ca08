import Foundation
import Media
import Planning
import Shared

/// Puts the segments' results back together in film order following a `StitchPlan`: runs of frames are
/// copied from one segment; in each overlap both segments' versions are decoded, compared frame by
/// frame, and cross-faded where they agree best (`Crossfade`). Memory: the two versions of one overlap,
/// as decoded pictures. Public for its direct test (StitchAssemblerTests).
public struct StitchAssembler {
    public struct SeamReport: CustomStringConvertible {
        public var seam: StitchPlan.Seam
        /// Mean absolute RGB difference of the two versions, per overlap frame.
        public var differences: [Double]
        /// The crossfade window, as offsets into the overlap.
        public var window: Range<Int>
        public var description: String {
            "seam \(seam.left)|\(seam.right) frames \(seam.frames): crossfade at +\(window.lowerBound)..<+\(window.upperBound), differences \(differences.map { String(format: "%.5f", $0) })"
        }
    }

    public let plan: SegmentPlan
    /// Segment index → its result file (FFV1, exactly the frames of the segment's input range).
    public let resultURL: (SegmentIndex) throws -> URL
    /// Size every frame is brought to (results are already this size unless a worker disagreed).
    public let content: PixelSize
    /// Joined results (`SegmentResultWriter` files): each segment's interior in film frames, which `run`'s `copy`
    /// takes as encoded packets; the result's lossless stream then holds only the segment's other frames.
    public var interiors: [Range<Int>]?
    public var crossfadeWidth = Crossfade.defaultWidth
    public var crossfadeMargin = Crossfade.defaultMargin

    /// A run of whole shots' segments (in film frames) and their interiors; the film's next part.
    struct Batch {
        var segments: [Segment]
        var start: Int
        var interiors: [Range<Int>]?
    }
    /// The k-th batch, waiting for it while the film is still being analysed; nil after the last.
    private let batch: (Int) throws -> Batch?

    public init(plan: SegmentPlan, resultURL: @escaping (SegmentIndex) throws -> URL, content: PixelSize) {
        self.plan = plan
        self.resultURL = resultURL
        self.content = content
        batch = { _ in nil }
    }

    /// A film whose shots arrive while it is written (`batch(k)` waits for the k-th); `plan` is only a placeholder.
    init(batches: @escaping (Int) throws -> Batch?, resultURL: @escaping (SegmentIndex) throws -> URL, content: PixelSize) {
        self.plan = SegmentPlan(frameCount: 0, settings: SegmentPlannerSettings(maxSegmentFrames: 1, overlapFrames: 0), shots: [], segments: [])
        self.resultURL = resultURL
        self.content = content
        batch = batches
    }

    /// Calls `emit` once per film frame, in order — or, with `interiors`, `copy` for each segment's interior and `emit`
    /// for every other frame. Returns how each seam was blended.
    public func run(emit: (RGBImage) throws -> Void, copy: ((_ segment: SegmentIndex, _ frames: Range<Int>) throws -> Void)? = nil) throws -> [SeamReport] {
        let converter = PixelConverter()
        var readers: [SegmentIndex: SegmentResultReader] = [:]
        var reports: [SeamReport] = []
        // The segments of the batch being written (a whole plan's, or one shot's at a time).
        var known: [SegmentIndex: (segment: Segment, interior: Range<Int>?)] = [:]
        func reader(_ s: SegmentIndex) throws -> SegmentResultReader {
            if let r = readers[s] { return r }
            let url = try resultURL(s)
            let r: SegmentResultReader
            do { r = try SegmentResultReader(segment: s, frames: known[s]!.segment.input, url: url, interior: known[s]!.interior) }
            catch let error as MediaError { throw AssemblyError.unusable(segment: s, file: url.path, detail: "\(error)") }
            readers[s] = r
            return r
        }
        func rgb(_ picture: VideoPicture) throws -> RGBImage {
            let image = try converter.rgbImage(from: picture)
            return image.size == content ? image : try converter.resize(image, to: content)
        }
        func close(_ s: SegmentIndex) throws {
            guard let r = readers[s], r.position == r.frames.upperBound else { return }
            try r.finish()
            readers[s] = nil
        }
        var next = 0
        func nextBatch() throws -> Batch? {
            defer { next += 1 }
            if !plan.segments.isEmpty { return next == 0 ? Batch(segments: plan.segments, start: 0, interiors: interiors) : nil }
            return try batch(next)
        }
        while let batch = try nextBatch() {
            known = [:]
            for (k, segment) in batch.segments.enumerated() { known[segment.index] = (segment, batch.interiors?[k]) }
            for step in StitchPlan(segments: batch.segments, start: batch.start).steps {
                switch step {
                case .copy(let segment, let frames):
                    let r = try reader(segment)
                    guard r.position == frames.lowerBound else { throw AssemblyError.outOfOrder(segment: segment, at: r.position, expected: frames.lowerBound) }
                    if let copy, r.interior == frames {
                        r.skipInterior()
                        try copy(segment, frames)
                    } else {
                        for _ in frames { try emit(try rgb(try r.next())) }
                    }
                    try close(segment)
                case .blend(let seam):
                    let left = try reader(seam.left), right = try reader(seam.right)
                    guard left.position == seam.frames.lowerBound, right.position == seam.frames.lowerBound else {
                        throw AssemblyError.outOfOrder(segment: seam.right, at: right.position, expected: seam.frames.lowerBound)
                    }
                    var leftPictures: [VideoPicture] = [], rightPictures: [VideoPicture] = [], differences: [Double] = []
                    for _ in seam.frames {
                        let l = try left.next(), r = try right.next()
                        differences.append(Crossfade.difference(try rgb(l), try rgb(r)))
                        leftPictures.append(l)
                        rightPictures.append(r)
                    }
                    let window = Crossfade.window(differences: differences, width: crossfadeWidth, margin: crossfadeMargin)
                    for k in 0..<seam.frames.count {
                        let w = Crossfade.rightWeight(k, window: window)
                        if w == 0 { try emit(try rgb(leftPictures[k])) }
                        else if w == 1 { try emit(try rgb(rightPictures[k])) }
                        else { try emit(Crossfade.blend(try rgb(leftPictures[k]), try rgb(rightPictures[k]), rightWeight: w)) }
                    }
                    reports.append(SeamReport(seam: seam, differences: differences, window: window))
                    try close(seam.left)
                    try close(seam.right)
                }
            }
        }
        return reports
    }
}
