import CFFmpeg
import Shared

/// How the video is encoded.
public struct VideoEncoding: Sendable, Equatable, Codable {
    public enum Codec: String, Sendable, Codable, CaseIterable {
        /// H.264 through libx264: small files every player reads.
        case h264
        /// FFV1: lossless, for intermediates and archival masters.
        case ffv1
        /// Image sequences (one file a frame, lossless), chosen by an output such as `out/frame_%06d.dpx`.
        case png, tiff, dpx

        /// FFmpeg's encoder.
        var encoderName: String {
            switch self { case .h264: return "libx264"; case .ffv1: return "ffv1"; case .png: return "png"; case .tiff: return "tiff"; case .dpx: return "dpx" }
        }
        var codecID: AVCodecID {
            switch self { case .h264: return AV_CODEC_ID_H264; case .ffv1: return AV_CODEC_ID_FFV1; case .png: return AV_CODEC_ID_PNG
            case .tiff: return AV_CODEC_ID_TIFF; case .dpx: return AV_CODEC_ID_DPX }
        }
        public var isImageSequence: Bool { self == .png || self == .tiff || self == .dpx }

        /// The image codec an output sequence's extension names.
        public static func image(forExtension ext: String) -> Codec? {
            switch ext.lowercased() { case "png": return .png; case "tif", "tiff": return .tiff; case "dpx": return .dpx; default: return nil }
        }

        /// The RGB format of a sequence that keeps `depth` bits (8 → 8-bit, up to 16): the same kind and depth as
        /// the scans it came from, as far as the format allows (PNG and TIFF: 8 or 16; DPX: 8, 10, 12 or 16).
        public func imagePixelFormat(depth: Int) -> String {
            switch self {
            case .dpx: return depth <= 8 ? "rgb24" : depth <= 10 ? "gbrp10le" : depth <= 12 ? "gbrp12le" : "rgb48le"
            case .png: return depth <= 8 ? "rgb24" : "rgb48be"
            default: return depth <= 8 ? "rgb24" : "rgb48le"
            }
        }
    }
    public var codec: Codec
    /// x264 constant rate factor; 0 is lossless, 18 is visually transparent for most film (our default).
    public var crf: Int
    /// x264 preset (ultrafast … veryslow). medium: the final encode runs on the coordinator alone, and slow costs
    /// twice the time for ~5% smaller files; FFV1 (`--codec ffv1`) is the archival master.
    public var preset: String
    /// Output pixel format; nil picks yuv420p for H.264 (plays everywhere) and, in `restore`, the source's depth and
    /// chroma for FFV1 (`RestoreSettings.outputEncoding`, `PixelFormats.ffv1Lossless`).
    public var pixelFormat: String?

    public init(codec: Codec = .h264, crf: Int = 18, preset: String = "medium", pixelFormat: String? = nil) {
        self.codec = codec
        self.crf = crf
        self.preset = preset
        self.pixelFormat = pixelFormat
    }

    public static let x264Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]
    /// What H.264 output takes here (8-bit: the players our users target).
    public static let h264PixelFormats = ["yuv420p", "yuv422p", "yuv444p"]

    /// Checks every field against this FFmpeg before any work, so that a typo fails in the first second and not
    /// after days of restoring: the preset and CRF (H.264), and the pixel format (known, and one the encoder takes).
    public func validated() throws -> VideoEncoding {
        guard (0...51).contains(crf) else { throw MediaError.invalidSetting("--crf must be 0…51, got \(crf)") }
        guard codec != .h264 || VideoEncoding.x264Presets.contains(preset) else {
            throw MediaError.invalidSetting("unknown --preset \(preset); use one of \(VideoEncoding.x264Presets.joined(separator: ", "))")
        }
        guard let pixelFormat else { return self }
        let fmt = av_get_pix_fmt(pixelFormat)
        guard fmt != AV_PIX_FMT_NONE else {
            throw MediaError.invalidSetting("unknown --pixel-format \(pixelFormat); e.g. \(codec == .h264 ? VideoEncoding.h264PixelFormats.joined(separator: ", ") : "yuv420p, yuv422p10le, yuv444p16le, gbrp16le")")
        }
        let accepted = codec == .h264 ? VideoEncoding.h264PixelFormats : VideoEncoding.encoderPixelFormats(codec.encoderName)
        guard accepted.contains(pixelFormat) else {
            throw MediaError.invalidSetting("--codec \(codec.rawValue) cannot write --pixel-format \(pixelFormat); it takes \(accepted.joined(separator: ", "))")
        }
        return self
    }

    /// The pixel formats an FFmpeg encoder lists as supported.
    static func encoderPixelFormats(_ name: String) -> [String] {
        PixelFormats.encoderFormats(name).compactMap { av_get_pix_fmt_name($0).map { String(cString: $0) } }
    }
}

/// One opened video encoder. Frames go in with a frame index; packets come out in the encoder's time base (1/rate).
final class VideoEncoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let pixelFormat: String
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?

    init(encoding: VideoEncoding, size: PixelSize, rate: Rational, color: ColorDescription, pixelFormat: String,
         globalHeader: Bool, threads: Int) throws {
        let name = encoding.codec.encoderName
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw MediaError.unsupportedCodec("this FFmpeg has no \(name) encoder (install libavcodec-extra or an FFmpeg with \(name))")
        }
        guard let ctx = avcodec_alloc_context3(codec) else { throw MediaError.ffmpeg(operation: "avcodec_alloc_context3", code: -12, message: "out of memory") }
        context = ctx
        self.pixelFormat = pixelFormat
        let fmt = av_get_pix_fmt(pixelFormat)
        guard fmt != AV_PIX_FMT_NONE else { throw MediaError.unsupportedCodec("unknown pixel format \(pixelFormat)") }
        if encoding.codec == .h264, fmt != AV_PIX_FMT_YUV420P, fmt != AV_PIX_FMT_YUV422P, fmt != AV_PIX_FMT_YUV444P {
            throw MediaError.unsupportedCodec("H.264 output takes yuv420p, yuv422p or yuv444p, not \(pixelFormat)")
        }
        if encoding.codec == .h264, fmt == AV_PIX_FMT_YUV420P, size.width % 2 != 0 || size.height % 2 != 0 {
            throw MediaError.invalidSize("\(size) has an odd side; yuv420p needs even width and height")
        }
        ctx.pointee.width = Int32(size.width)
        ctx.pointee.height = Int32(size.height)
        ctx.pointee.pix_fmt = fmt
        ctx.pointee.time_base = FFmpeg.avRational(rate.reciprocal)
        ctx.pointee.framerate = FFmpeg.avRational(rate)
        ctx.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        // Restored frames are whole pictures (deinterlaced, or woven fields resampled as one picture with
        // --interlaced keep): said so in the stream, so players do not deinterlace them again.
        ctx.pointee.field_order = AV_FIELD_PROGRESSIVE
        ctx.pointee.thread_count = Int32(threads)
        ctx.pointee.colorspace = color.matrix == .bt709 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M
        ctx.pointee.color_range = color.fullRange ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG
        if color.matrix == .bt709 {
            ctx.pointee.color_primaries = AVCOL_PRI_BT709
            ctx.pointee.color_trc = AVCOL_TRC_BT709
        }
        if globalHeader { ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        var options: OpaquePointer? = nil
        defer { av_dict_free(&options) }
        switch encoding.codec {
        case .h264:
            guard (0...51).contains(encoding.crf) else { throw MediaError.unsupportedCodec("CRF must be 0…51, got \(encoding.crf)") }
            guard VideoEncoding.x264Presets.contains(encoding.preset) else {
                throw MediaError.unsupportedCodec("unknown x264 preset \(encoding.preset); use one of \(VideoEncoding.x264Presets.joined(separator: ", "))")
            }
            av_dict_set(&options, "crf", "\(encoding.crf)", 0)
            av_dict_set(&options, "preset", encoding.preset, 0)
            // No macroblock tree: in this x264 (core 164) its AVX-512 path reads memory the encoder never wrote, so an
            // encoder opened after others in the same process (a worker's second segment) made different bytes from
            // run to run. pens.mp4 in 3 one-second segments on one worker: 3 runs gave 3 films (frame 1 at 61 dB
            // between two), and MALLOC_PERTURB_=17 and =99 gave two more. With mbtree=0, 8 runs and both perturb
            // values gave one film; so did x264 without AVX-512 (asm=...), which we cannot ask for safely on every CPU.
            // Byte-identical reruns and resumes are the promise (docs/segments.md); the price at CRF 18 is 9.5 % more
            // bytes on 10 s of trailer_bbb.mp4 (2.59 → 2.83 MB; quality not compared), 60 % on the near-static pens.mp4.
            av_dict_set(&options, "x264-params", "mbtree=0", 0)
        case .ffv1:
            // Version 3 with slice CRCs: self-checking and multithreaded.
            av_dict_set(&options, "level", "3", 0)
            av_dict_set(&options, "slicecrc", "1", 0)
            ctx.pointee.gop_size = 1
        case .png, .tiff, .dpx:
            break // lossless, one picture a file: nothing to tune
        }
        try FFmpeg.check(avcodec_open2(ctx, codec, &options), "opening the \(name) encoder")
        frame = av_frame_alloc()
        packet = av_packet_alloc()
        guard let frame else { throw MediaError.ffmpeg(operation: "av_frame_alloc", code: -12, message: "out of memory") }
        frame.pointee.format = fmt.rawValue
        frame.pointee.width = Int32(size.width)
        frame.pointee.height = Int32(size.height)
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&ctx)
        av_frame_free(&frame)
        av_packet_free(&packet)
    }

    /// Encodes `picture` as frame number `index`; calls `sink` for each finished packet.
    func encode(_ picture: VideoPicture, index: Int64, sink: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let frame else { return }
        guard picture.width == Int(context.pointee.width), picture.height == Int(context.pointee.height), picture.pixelFormat == pixelFormat else {
            throw MediaError.invalidSize("frame \(index) is \(picture.width)x\(picture.height) \(picture.pixelFormat), the encoder expects \(context.pointee.width)x\(context.pointee.height) \(pixelFormat)")
        }
        try FFmpeg.check(av_frame_get_buffer(frame, 0), "av_frame_get_buffer")
        defer { av_frame_unref(frame); restoreFrameShape() }
        picture.copy(into: frame)
        frame.pointee.pts = index
        frame.pointee.color_range = context.pointee.color_range
        frame.pointee.colorspace = context.pointee.colorspace
        try FFmpeg.check(avcodec_send_frame(context, frame), "encoding frame \(index)")
        try drain(sink)
    }

    /// Flushes delayed packets at the end.
    func finish(sink: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        let code = avcodec_send_frame(context, nil)
        if code != FFmpeg.eof { try FFmpeg.check(code, "flushing the encoder") }
        try drain(sink)
    }

    private func drain(_ sink: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let packet else { return }
        while true {
            let code = avcodec_receive_packet(context, packet)
            if code == FFmpeg.eagain || code == FFmpeg.eof { return }
            try FFmpeg.check(code, "receiving an encoded packet")
            defer { av_packet_unref(packet) }
            try sink(packet)
        }
    }

    private func restoreFrameShape() {
        guard let frame else { return }
        frame.pointee.format = context.pointee.pix_fmt.rawValue
        frame.pointee.width = context.pointee.width
        frame.pointee.height = context.pointee.height
    }
}
