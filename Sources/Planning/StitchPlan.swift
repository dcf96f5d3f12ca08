import Shared

/// How the segments' results become the film, in order: copy runs of frames from one segment, and blend
/// the overlaps between neighbouring segments of the same shot. Between shots there is no overlap and no
/// blend: a hard cut stays a hard cut.
public struct StitchPlan: Codable, Sendable, Equatable {
    /// Two segments' versions of the same frames, to be blended (see `Crossfade`).
    public struct Seam: Codable, Sendable, Equatable {
        public var left: SegmentIndex
        public var right: SegmentIndex
        public var frames: Range<Int>

        public init(left: SegmentIndex, right: SegmentIndex, frames: Range<Int>) {
            self.left = left
            self.right = right
            self.frames = frames
        }
    }

    public enum Step: Codable, Sendable, Equatable {
        /// Film frames `frames`, taken from `segment`'s result alone.
        case copy(segment: SegmentIndex, frames: Range<Int>)
        case blend(Seam)

        public var frames: Range<Int> {
            switch self {
            case .copy(_, let f): return f
            case .blend(let s): return s.frames
            }
        }
    }

    public var frameCount: Int
    public var steps: [Step]

    public init(plan: SegmentPlan) {
        self.init(segments: plan.segments, start: 0)
        frameCount = plan.frameCount
    }

    /// The steps for a run of consecutive segments (their `index`es name them) that starts at film frame `start`: a
    /// whole plan, or one shot's segments (seams never cross a cut, so a shot's steps are the same whether it is
    /// planned alone, as soon as its cut is known, or with the whole film). `frameCount` is where they end.
    public init(segments: [Segment], start: Int) {
        steps = []
        var position = start
        for (i, segment) in segments.enumerated() {
            let next = i + 1 < segments.count ? segments[i + 1] : nil
            // Where this segment's sole responsibility ends: at the start of the next one's input if they share a shot.
            let sharedStart = (next.map { $0.shot == segment.shot } ?? false) ? next!.input.lowerBound : segment.input.upperBound
            if sharedStart > position { steps.append(.copy(segment: segment.index, frames: position..<sharedStart)) }
            position = sharedStart
            if let next, next.shot == segment.shot, segment.input.upperBound > next.input.lowerBound {
                steps.append(.blend(Seam(left: segment.index, right: next.index, frames: next.input.lowerBound..<segment.input.upperBound)))
                position = segment.input.upperBound
            }
        }
        frameCount = position
    }

    /// The interiors (see below) of `segments`, in their order, from these steps.
    public func interiors(of segments: [Segment]) -> [Range<Int>] {
        var copies: [SegmentIndex: Range<Int>] = [:]
        for step in steps { if case .copy(let segment, let frames) = step { copies[segment] = frames } }
        return segments.map { copies[$0.index] ?? $0.input.lowerBound..<$0.input.lowerBound }
    }

    /// Each segment's interior: the film frames only it makes (no seam touches them), an empty range at its start
    /// when it has none. What a worker encodes in the final codec; the rest of its frames serve the seams.
    public func interiors(segmentCount: Int, starts: [Int]) -> [Range<Int>] {
        var result = starts.map { $0..<$0 }
        for step in steps { if case .copy(let segment, let frames) = step, segment.position < segmentCount { result[segment.position] = frames } }
        return result
    }

    /// The segments (with weights summing to 1) that make film frame `frame`, given each seam's crossfade.
    public func sources(frame: Int, crossfade: (Seam) -> Range<Int>) -> [(segment: SegmentIndex, weight: Float)] {
        // Steps are in film order and contiguous: binary search (a 2-hour film has thousands of steps).
        var low = 0, high = steps.count
        while low < high {
            let mid = (low + high) / 2
            if steps[mid].frames.upperBound <= frame { low = mid + 1 } else { high = mid }
        }
        if low < steps.count, steps[low].frames.contains(frame) {
            let step = steps[low]
            switch step {
            case .copy(let segment, _): return [(segment, 1)]
            case .blend(let seam):
                let w = Crossfade.rightWeight(frame - seam.frames.lowerBound, window: crossfade(seam))
                if w == 0 { return [(seam.left, 1)] }
                if w == 1 { return [(seam.right, 1)] }
                return [(seam.left, 1 - w), (seam.right, w)]
            }
        }
        return []
    }
}
