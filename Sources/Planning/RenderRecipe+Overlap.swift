import Shared

extension RenderRecipe {
    /// The overlap a job's segments get when `restore --overlap` does not choose one: the one place that decides it, for
    /// the streaming and the classic plan, the in-process executor and the start-of-job estimate alike.
    ///
    /// A seam costs: both neighbours render its frames, they come back lossless at output size, and the head node decodes,
    /// blends and encodes them. It buys nothing where every output frame is a function of its own input frames and the
    /// context `TemporalContext` already hands each segment, because then any segment makes the frame a whole-shot run
    /// makes. That holds for every stage a recipe can name today:
    /// - super-resolution (catalogue models, the user's own single-input model) and Lanczos work on one frame at a time
    ///   (tiles only split the frame: `TiledUpscaler`), so they are exact in any segment — 0;
    /// - film restoration reads ≤ its chain's radius of frames either side, which each input file holds
    ///   (`TemporalContext`; FilmRestoreFarmTests: five segments make one segment's frames) — 0;
    /// - deinterlacing is done by the coordinator over the whole stream before any input is cut — 0;
    /// - retiming without duplicate detection: output k is a copy of frame floor(p) or an interpolation of floor(p) and
    ///   floor(p) + 1 (RIFE or blend, two pictures and t, nothing else), so a segment needs the one frame after its own;
    ///   with an overlap of 1 it has it and makes exactly its own outputs (`SegmentPlan.retimed`) — 1;
    /// - retiming with duplicate detection (the `--fps` default): a run of repeats, and a freeze of any length, is only
    ///   seen whole from its first frame, and a segment's first frame always starts a new picture, so segments can
    ///   differ near their ends whatever they share — the blending overlap, `SegmentPlannerSettings.blendingOverlapFrames`.
    /// A future processor with state of its own must be added here (or run with an explicit `--overlap`).
    public var defaultOverlapFrames: Int {
        guard let retime else { return 0 }
        return retime.duplicateThreshold == nil ? 1 : SegmentPlannerSettings.blendingOverlapFrames
    }
}
