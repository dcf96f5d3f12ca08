import CFFmpeg
import Shared

/// What `restore` does with interlaced video (`--interlaced`).
public enum InterlaceMode: String, Sendable, Codable, CaseIterable {
    /// Deinterlace when the stream is interlaced (its field order, or its first frame's flags, say so).
    case auto
    /// Deinterlace every frame, whatever the stream says (for files whose flags are missing or wrong).
    case deinterlace
    /// Process the woven frames as they are (the comb stays): for material deinterlaced elsewhere.
    case keep
}

/// How the fields of a stream are turned into progressive frames: the exact libavfilter filter, which is also
/// part of a job's fingerprint (frames deinterlaced otherwise are other frames).
public struct Deinterlacing: Sendable, Equatable {
    /// Field order the filter was told (nil: it follows each frame's flags).
    public var fieldOrder: FieldOrder?
    /// Only frames flagged interlaced are changed (the decoder's flags are trusted); otherwise every frame is.
    public var onlyFlaggedFrames: Bool

    public init(fieldOrder: FieldOrder?, onlyFlaggedFrames: Bool) {
        self.fieldOrder = fieldOrder
        self.onlyFlaggedFrames = onlyFlaggedFrames
    }

    /// The libavfilter filter description, e.g. `bwdif=mode=send_frame:parity=tff:deint=interlaced`.
    public var filter: String {
        let parity = fieldOrder == .topFieldFirst ? "tff" : fieldOrder == .bottomFieldFirst ? "bff" : "auto"
        // send_frame: one output frame per input frame, so the frame count and timing stay the source's.
        return "bwdif=mode=send_frame:parity=\(parity):deint=\(onlyFlaggedFrames ? "interlaced" : "all")"
    }

    /// The plan for a stream: `declared` is the codec parameters' field order, `firstFrame` the first decoded
    /// frame's flags. Nil when the frames are to be left as they are.
    static func plan(mode: InterlaceMode, declared: FieldOrder?, firstFrame: FieldOrder) -> Deinterlacing? {
        let order = declared?.isInterlaced == true ? declared : firstFrame.isInterlaced ? firstFrame : nil
        switch mode {
        case .keep: return nil
        case .deinterlace: return Deinterlacing(fieldOrder: order, onlyFlaggedFrames: false)
        case .auto:
            guard order != nil else { return nil }
            // Frames that carry the flag are trusted frame by frame (progressive frames of mixed material are kept
            // untouched); a stream declared interlaced whose frames carry no flag is deinterlaced throughout.
            return Deinterlacing(fieldOrder: order, onlyFlaggedFrames: firstFrame.isInterlaced)
        }
    }
}

/// A libavfilter graph `buffer → bwdif → buffersink` that takes decoded AVFrames and gives back one
/// deinterlaced frame per frame (one frame later: bwdif needs the next frame to see motion). Not thread-safe.
final class Deinterlacer {
    let plan: Deinterlacing
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var source: UnsafeMutablePointer<AVFilterContext>?
    private var sink: UnsafeMutablePointer<AVFilterContext>?
    private let width: Int32, height: Int32, format: Int32

    init(plan: Deinterlacing, first frame: UnsafePointer<AVFrame>, timeBase: AVRational, threads: Int) throws {
        self.plan = plan
        width = frame.pointee.width
        height = frame.pointee.height
        format = frame.pointee.format
        graph = avfilter_graph_alloc()
        guard let graph else { throw MediaError.ffmpeg(operation: "avfilter_graph_alloc", code: -12, message: "out of memory") }
        graph.pointee.nb_threads = Int32(threads)
        let sar = frame.pointee.sample_aspect_ratio
        let args = "video_size=\(width)x\(height):pix_fmt=\(format):time_base=\(timeBase.num)/\(max(1, timeBase.den))"
            + ":pixel_aspect=\(max(0, sar.num))/\(max(1, sar.den))"
        try FFmpeg.check(avfilter_graph_create_filter(&source, avfilter_get_by_name("buffer"), "in", args, nil, graph), "creating the deinterlacer's input")
        try FFmpeg.check(avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "out", nil, nil, graph), "creating the deinterlacer's output")
        guard let bwdif = avfilter_get_by_name("bwdif") else {
            throw MediaError.unsupportedCodec("this FFmpeg's libavfilter has no bwdif deinterlacer; use --interlaced keep or an FFmpeg with bwdif")
        }
        let options = String(plan.filter.dropFirst("bwdif=".count))
        var filter: UnsafeMutablePointer<AVFilterContext>?
        try FFmpeg.check(avfilter_graph_create_filter(&filter, bwdif, "deinterlace", options, nil, graph), "creating \(plan.filter)")
        try FFmpeg.check(avfilter_link(source, 0, filter, 0), "linking the deinterlacer")
        try FFmpeg.check(avfilter_link(filter, 0, sink, 0), "linking the deinterlacer")
        try FFmpeg.check(avfilter_graph_config(graph, nil), "configuring \(plan.filter) for \(width)x\(height)")
    }

    deinit { avfilter_graph_free(&graph) }

    /// Gives the filter a frame (the caller keeps its reference), or nil at the end of the stream.
    func push(_ frame: UnsafeMutablePointer<AVFrame>?, index: Int) throws {
        if let frame, frame.pointee.width != width || frame.pointee.height != height || frame.pointee.format != format {
            throw MediaError.unsupportedCodec("the picture changes size or format at frame \(index) (\(frame.pointee.width)x\(frame.pointee.height)); "
                + "deinterlacing needs one picture format throughout: cut the film there, or use --interlaced keep")
        }
        try FFmpeg.check(av_buffersrc_add_frame_flags(source, frame, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)), "deinterlacing frame \(index)")
    }

    /// The next deinterlaced frame into `frame`; false when the filter needs more input (or has ended).
    func pull(into frame: UnsafeMutablePointer<AVFrame>) throws -> Bool {
        let code = av_buffersink_get_frame(sink, frame)
        if code == FFmpeg.eagain || code == FFmpeg.eof { return false }
        try FFmpeg.check(code, "receiving a deinterlaced frame")
        return true
    }
}
