import Shared

extension SegmentPlan {
    /// The same plan in output frames when the film is retimed (issue 6: `restore --fps`), so that workers know
    /// which output frames each segment makes and `StitchPlan` blends the overlaps in output frames.
    ///
    /// Inside a shot, ranges map through `Retiming.outputFrames(forInputFrames:)`. At a cut, each output frame
    /// goes to the shot whose frame is nearer in time: with the cut between input frames L and L + 1, outputs
    /// with source position p < L + ½ belong to the shot before (they show its last frame when p > L) and the
    /// others to the shot after (showing its first frame when p < L + 1). Nothing is interpolated across a cut
    /// and no segment needs a frame of another shot. A segment's output `input` range holds the output frames it
    /// can make from its own input frames: source positions between its first and last input frame, plus, at a
    /// shot's ends, the frames that hold the shot's first or last frame. `settings` stay those of the input-frame plan.
    public func retimed(_ retiming: Retiming) throws -> SegmentPlan {
        let outputFrames = Int(retiming.outputFrameCount(inputFrames: Int64(frameCount)))
        let outShots = shots.map { SegmentPlan.retimedShot($0, frameCount: frameCount, retiming: retiming) }
        let outSegments = try segments.map { segment in
            try SegmentPlan.retimed(segment, shot: shots[segment.shot], outputShot: outShots[segment.shot], retiming: retiming,
                                    overlapFrames: settings.overlapFrames)
        }
        return try SegmentPlan(frameCount: outputFrames, settings: settings, shots: outShots, segments: outSegments).validated(allowingEmptyShots: true)
    }

    /// A shot's output frames: they depend only on its own ends, and, for the film's last shot, on the film's length
    /// (`frameCount`, needed only when `shot` ends the film). So a shot can be retimed as soon as its cut is known.
    public static func retimedShot(_ shot: Range<Int>, frameCount: Int, retiming: Retiming) -> Range<Int> {
        let scale = retiming.outputRate / retiming.inputRate
        /// First output frame of the shot starting at input frame `start` (nearer-side rule at the cut).
        func shotStart(_ start: Int) -> Int { start == 0 ? 0 : Int(Retiming.ceil((Rational(Int64(start)) - Rational(1, 2)) * scale)) }
        let end = shot.upperBound == frameCount ? Int(retiming.outputFrameCount(inputFrames: Int64(frameCount))) : shotStart(shot.upperBound)
        return shotStart(shot.lowerBound)..<end
    }

    /// One segment in output frames, from its shot and the shot's output frames (`retimedShot`) alone. `overlapFrames`:
    /// the plan's (`SegmentPlannerSettings`). Under 2, the one frame a segment reads past its end is only the right-hand
    /// picture of its last interpolations: it makes exactly its own outputs, and neighbours share none (no seam).
    public static func retimed(_ segment: Segment, shot: Range<Int>, outputShot outShot: Range<Int>, retiming: Retiming,
                               overlapFrames: Int) throws -> Segment {
        let scale = retiming.outputRate / retiming.inputRate
        /// First output frame at or after input position `position`.
        func firstOutput(atOrAfter position: Rational) -> Int { Int(Retiming.ceil(position * scale)) }
        if outShot.isEmpty {
            // A shot shorter than half an output frame's time on either side (down-conversions): no output frame shows it.
            return Segment(index: segment.index, shot: segment.shot, input: outShot, owned: outShot)
        }
        let ownedStart = segment.owned.lowerBound == shot.lowerBound ? outShot.lowerBound : firstOutput(atOrAfter: Rational(Int64(segment.owned.lowerBound)))
        let ownedEnd = segment.owned.upperBound == shot.upperBound ? outShot.upperBound : firstOutput(atOrAfter: Rational(Int64(segment.owned.upperBound)))
        let owned = ownedStart..<max(ownedStart, ownedEnd)
        guard !owned.isEmpty else {
            throw PlanningError.invalidPlan("segment \(segment.index) (frames \(segment.owned)) has no output frame at \(retiming.outputRate) fps; use longer segments")
        }
        let start = segment.input.lowerBound == shot.lowerBound ? outShot.lowerBound : firstOutput(atOrAfter: Rational(Int64(segment.input.lowerBound)))
        let end: Int
        if segment.input.upperBound == shot.upperBound {
            end = outShot.upperBound
        } else {
            // Interpolation needs the next input frame: outputs with p ≤ last input frame, i.e. k ≤ last · out / in.
            end = Int((Rational(Int64(segment.input.upperBound - 1)) * scale).floor) + 1
        }
        guard start <= owned.lowerBound, end >= owned.upperBound else {
            throw PlanningError.invalidPlan("segment \(segment.index) cannot make its own output frames \(owned) from input \(segment.input); plan with an overlap of at least 1 frame")
        }
        return Segment(index: segment.index, shot: segment.shot, input: overlapFrames < 2 ? owned : start..<end, owned: owned)
    }
}
