import CFFmpeg

/// What a pixel format holds (bit depth, chroma, RGB or not), and which lossless formats keep it:
/// the fidelity rules for masters, segment inputs and intermediates (docs/media.md).
public enum PixelFormats {
    /// Bits per component (the largest), e.g. 10 for yuv422p10le; nil for a name FFmpeg does not know.
    public static func depth(of name: String) -> Int? {
        guard let desc = descriptor(name) else { return nil }
        return Int(desc.pointee.comp.0.depth)
    }

    /// The FFV1 format that holds pictures of `native` without losing depth or chroma resolution: `native`
    /// itself when FFV1 codes it, else FFmpeg's closest lossless pick among FFV1's formats. Alpha is dropped
    /// (restoration works on RGB), and full-range YUV (yuvj…) keeps its layout, the range travels as metadata.
    public static func ffv1Lossless(for native: String) -> String {
        let name = native.hasPrefix("yuvj") ? "yuv" + native.dropFirst(4) : native
        let candidates = ffv1Formats.filter { !hasAlpha($0) }
        let source = av_get_pix_fmt(name)
        if candidates.contains(source) { return name }
        guard source != AV_PIX_FMT_NONE, let desc = av_pix_fmt_desc_get(source) else { return "yuv444p" }
        // First a format of the same shape (depth, chroma subsampling, RGB or not): yuv422p10be → yuv422p10le,
        // p010le → yuv420p10le. FFmpeg's own pick below is lossless too, but may be deeper than the source.
        if let twin = candidates.first(where: { sameShape(desc, av_pix_fmt_desc_get($0)) }), let name = av_get_pix_fmt_name(twin) {
            return String(cString: name)
        }
        var loss: Int32 = 0
        let best = (candidates + [AV_PIX_FMT_NONE]).withUnsafeBufferPointer {
            avcodec_find_best_pix_fmt_of_list($0.baseAddress, source, 0, &loss)
        }
        return av_get_pix_fmt_name(best).map { String(cString: $0) } ?? "yuv444p"
    }

    /// The precision segment results travel in, for an output of `outputFormat`: planar RGB two bits finer than
    /// the output (so blending and the conversion back lose nothing), at least 10 and at most 16 bits. 10-bit for
    /// 8-bit output: FFV1 decodes it twice as fast as 16-bit (30 vs 64 ms for an 856x640 frame).
    public static func intermediate(forOutput outputFormat: String) -> String {
        let bits = min(16, max(10, (depth(of: outputFormat) ?? 8) + 2))
        return "gbrp\(bits + bits % 2)le" // FFV1 codes the even depths
    }

    static func descriptor(_ name: String) -> UnsafePointer<AVPixFmtDescriptor>? {
        let fmt = av_get_pix_fmt(name)
        return fmt == AV_PIX_FMT_NONE ? nil : av_pix_fmt_desc_get(fmt)
    }

    private static func sameShape(_ a: UnsafePointer<AVPixFmtDescriptor>, _ b: UnsafePointer<AVPixFmtDescriptor>?) -> Bool {
        guard let b else { return false }
        let rgb = UInt64(AV_PIX_FMT_FLAG_RGB), alpha = UInt64(AV_PIX_FMT_FLAG_ALPHA)
        let colours = { (d: AVPixFmtDescriptor) in Int(d.nb_components) - (d.flags & alpha != 0 ? 1 : 0) }
        return a.pointee.comp.0.depth == b.pointee.comp.0.depth && a.pointee.log2_chroma_w == b.pointee.log2_chroma_w
            && a.pointee.log2_chroma_h == b.pointee.log2_chroma_h && (a.pointee.flags & rgb) == (b.pointee.flags & rgb)
            && colours(a.pointee) == colours(b.pointee)
    }

    private static func hasAlpha(_ fmt: AVPixelFormat) -> Bool {
        guard let desc = av_pix_fmt_desc_get(fmt) else { return true }
        return desc.pointee.flags & UInt64(AV_PIX_FMT_FLAG_ALPHA) != 0
    }

    /// FFV1's own list, as this FFmpeg build has it.
    private static let ffv1Formats = encoderFormats("ffv1")

    /// The pixel formats an FFmpeg encoder lists as supported.
    static func encoderFormats(_ name: String) -> [AVPixelFormat] {
        guard let codec = avcodec_find_encoder_by_name(name), var p = codec.pointee.pix_fmts else { return [] }
        var list: [AVPixelFormat] = []
        while p.pointee != AV_PIX_FMT_NONE { list.append(p.pointee); p += 1 }
        return list
    }
}
