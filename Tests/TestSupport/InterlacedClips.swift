import Foundation

/// Interlaced test clips made from real footage, and FFmpeg's `idet` as the oracle for combing.
extension Fixtures {
    public enum InterlacedCodec: String { case h264, mpeg2 }

    /// 50 interlaced frames, top field first, 25 fps, from the first 100 frames of `source`: each frame weaves
    /// two consecutive source frames (`interlace` filter, after playing the source at 50 fps), coded as interlaced
    /// (`+ildct+ilme -top 1`), so the decoder flags every frame and the stream says `tt`.
    public static func interlacedClip(from source: String, codec: InterlacedCodec, at path: String) throws {
        let coding: [String] = codec == .h264
            ? ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "16"]
            : ["-c:v", "mpeg2video", "-q:v", "2"]
        try run("ffmpeg", ["-y", "-v", "error", "-i", source, "-frames:v", "50", "-vf", "setpts=N/(50*TB),interlace=scan=tff:lowpass=0", "-r", "25"]
            + coding + ["-flags", "+ildct+ilme", "-top", "1", "-an", path])
    }

    /// FFmpeg's `idet` verdict per frame (multi-frame detection): how many frames look woven from two fields
    /// (tff or bff) and how many look progressive. With `halveHeight`, every other line is dropped first
    /// (a 2x upscale of a combed frame is combed at two-line pitch, which idet does not see).
    public static func idet(_ path: String, halveHeight: Bool = false) throws -> (interlaced: Int, progressive: Int) {
        let pre = halveHeight ? "scale=iw/2:ih/2:flags=neighbor," : ""
        let out = try run("ffprobe", ["-v", "error", "-f", "lavfi", "-i", "movie=\(path),\(pre)idet",
                                      "-show_entries", "frame_tags=lavfi.idet.multiple.current_frame", "-of", "csv=p=0"])
        let verdicts = out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return (verdicts.filter { $0 == "tff" || $0 == "bff" }.count, verdicts.filter { $0 == "progressive" }.count)
    }

    /// The stream's field order as ffprobe reports it (`progressive`, `tt`, …; `unknown` when not said).
    public static func fieldOrder(_ path: String) throws -> String {
        try run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=field_order", "-of", "csv=p=0", path])
            .trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ",")))
    }
}
