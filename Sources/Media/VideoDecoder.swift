import CFFmpeg
import Shared

/// Decodes one video stream of a `MediaInput` into frames with exact presentation times.
/// Packets of other streams are skipped. Not thread-safe.
public final class VideoDecoder {
    public let stream: StreamInfo
    private let input: MediaInput
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var inputExhausted = false
    private var decoderDrained = false
    private var lastPTS: Int64?
    private var corruptPackets = 0
    /// Frames handed out so far.
    public private(set) var framesDecoded = 0

    public init(input: MediaInput, stream: StreamInfo, threads: Int = 0) throws {
        self.input = input
        self.stream = stream
        let st = input.stream(stream.index)
        guard let decoder = avcodec_find_decoder(st.pointee.codecpar.pointee.codec_id) else {
            throw MediaError.unsupportedCodec("no decoder for \(stream.codec) in this FFmpeg build")
        }
        codec = avcodec_alloc_context3(decoder)
        packet = av_packet_alloc()
        frame = av_frame_alloc()
        guard let codec, packet != nil, frame != nil else { throw MediaError.ffmpeg(operation: "allocating a decoder", code: -12, message: "out of memory") }
        try FFmpeg.check(avcodec_parameters_to_context(codec, st.pointee.codecpar), "avcodec_parameters_to_context")
        codec.pointee.pkt_timebase = st.pointee.time_base
        codec.pointee.thread_count = Int32(threads)
        try FFmpeg.check(avcodec_open2(codec, decoder, nil), "opening the \(stream.codec) decoder")
        // Discard other streams' packets at the demuxer where it can.
        for i in 0..<input.streamCount where i != stream.index {
            input.stream(i).pointee.discard = AVDISCARD_ALL
        }
    }

    deinit {
        avcodec_free_context(&codec)
        av_packet_free(&packet)
        av_frame_free(&frame)
    }

    /// The next frame in presentation order, or nil at the end of the stream.
    public func next() throws -> DecodedFrame? {
        guard let codec, let packet, let frame else { return nil }
        while true {
            let received = avcodec_receive_frame(codec, frame)
            if received >= 0 {
                defer { av_frame_unref(frame) }
                return try makeFrame(frame)
            }
            if received == FFmpeg.eof { decoderDrained = true; return nil }
            if received != FFmpeg.eagain {
                // Damaged data: skip it as players do; a file that keeps failing is reported as damaged,
                // and missing frames are caught by the frame-count check at the end.
                try noteDamage(received)
                if inputExhausted { continue }
            }
            // The decoder wants input.
            if inputExhausted {
                try FFmpeg.check(avcodec_send_packet(codec, nil), "flushing the decoder")
                continue
            }
            if try !input.readPacket(into: packet) {
                inputExhausted = true
                continue
            }
            defer { av_packet_unref(packet) }
            guard Int(packet.pointee.stream_index) == stream.index else { continue }
            if packet.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 { corruptPackets += 1 }
            let sent = avcodec_send_packet(codec, packet)
            if sent < 0 && sent != FFmpeg.eagain { try noteDamage(sent) }
        }
    }

    private func noteDamage(_ code: Int32) throws {
        corruptPackets += 1
        if corruptPackets > 16 {
            throw MediaError.truncated(path: input.info.path, detail: "too much undecodable video data (\(FFmpeg.errorString(code)))")
        }
    }

    /// Number of damaged packets met so far.
    public var damagedPackets: Int { corruptPackets }

    private func makeFrame(_ frame: UnsafeMutablePointer<AVFrame>) throws -> DecodedFrame {
        var pts = frame.pointee.best_effort_timestamp
        if pts == FFmpeg.noPTS { pts = frame.pointee.pts }
        if pts == FFmpeg.noPTS {
            // No timestamp at all: continue from the previous frame at the stream's rate.
            let step = frameStep()
            pts = (lastPTS.map { $0 + step }) ?? 0
        }
        lastPTS = pts
        let color = colorDescription(frame)
        let picture = try VideoPicture(copying: frame, color: color)
        framesDecoded += 1
        let dur = frame.pointee.pkt_duration > 0 ? frame.pointee.pkt_duration : nil
        return DecodedFrame(pts: pts, time: stream.timeBase * Rational(pts), duration: dur, picture: picture)
    }

    /// One frame's duration in time-base units at the stream's nominal rate (at least 1).
    func frameStep() -> Int64 {
        guard let rate = stream.baseFrameRate ?? stream.averageFrameRate else { return 1 }
        return max(1, (rate.reciprocal / stream.timeBase).rounded)
    }

    private func colorDescription(_ frame: UnsafeMutablePointer<AVFrame>) -> ColorDescription {
        var color = ColorDescription.defaultFor(height: Int(frame.pointee.height))
        switch frame.pointee.colorspace {
        case AVCOL_SPC_BT709: color.matrix = .bt709
        case AVCOL_SPC_BT470BG, AVCOL_SPC_SMPTE170M: color.matrix = .bt601
        default: break
        }
        let fmt = AVPixelFormat(rawValue: frame.pointee.format)
        color.fullRange = frame.pointee.color_range == AVCOL_RANGE_JPEG
            || fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUVJ444P
        return color
    }
}
