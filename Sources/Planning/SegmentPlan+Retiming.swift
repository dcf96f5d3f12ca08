import Shared

extension SegmentPlan {
    /// The same plan in output frames when the film is retimed (issue 6: `restore --fps`), so that workers know
    /// which output frames each segment makes and `StitchPlan` blends the overlaps in output frames.
    ///
    /// Shots and owned ranges map through `Retiming.outputFrames(forInputFrames:)` (they tile the output exactly).
    /// A segment's output `input` range holds the output frames it can make from its input frames alone: those
    /// with source position p in [first, last] of its input, plus, at the end of a shot, the frames between the
    /// shot's last frame and the cut: they show the shot's last frame (the picture on screen at that time;
    /// nothing is interpolated across a cut, and no segment needs a frame of another shot).
    /// `settings` stay those of the input-frame plan.
    public func retimed(_ retiming: Retiming) throws -> SegmentPlan {
        func outputs(_ r: Range<Int>) -> Range<Int> {
            let o = retiming.outputFrames(forInputFrames: Int64(r.lowerBound)..<Int64(r.upperBound))
            return Int(o.lowerBound)..<Int(o.upperBound)
        }
        let outShots = shots.map(outputs)
        var outSegments: [Segment] = []
        for segment in segments {
            let shot = shots[segment.shot]
            let owned = outputs(segment.owned)
            guard !owned.isEmpty else {
                throw PlanningError.invalidPlan("segment \(segment.index) (frames \(segment.owned)) has no output frame at \(retiming.outputRate) fps; use longer segments")
            }
            let start = outputs(segment.input.lowerBound..<segment.input.upperBound).lowerBound
            let end: Int
            if segment.input.upperBound == shot.upperBound {
                end = outShots[segment.shot].upperBound
            } else {
                // Interpolation needs the next input frame: outputs with p ≤ last input frame, i.e. k ≤ (last)·out/in.
                let last = Rational(Int64(segment.input.upperBound - 1)) * retiming.outputRate / retiming.inputRate
                end = Int(last.floor) + 1
            }
            guard start <= owned.lowerBound, end >= owned.upperBound else {
                throw PlanningError.invalidPlan("segment \(segment.index) cannot make its own output frames \(owned) from input \(segment.input); plan with an overlap of at least 2 frames")
            }
            outSegments.append(Segment(index: segment.index, shot: segment.shot, input: start..<end, owned: owned))
        }
        let frames = Int(retiming.outputFrameCount(inputFrames: Int64(frameCount)))
        return try SegmentPlan(frameCount: frames, settings: settings, shots: outShots, segments: outSegments).validated()
    }
}
