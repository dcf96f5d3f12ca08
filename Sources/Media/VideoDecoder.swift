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
    /// Frames whose time is not their own presentation timestamp (FFmpeg fell back to decode timestamps, or none):
    /// such timing depends on the container's decode timestamps, which a packet cut does not keep.
    public private(set) var framesTimedWithoutPTS = 0

    private let interlacing: InterlaceMode
    private let threads: Int
    /// Fields: decided on the first frame; the first frame is held in `frame` meanwhile (`peeked`).
    private var planned = false
    private var peeked = false
    private var deinterlacer: Deinterlacer?
    private var filtered: UnsafeMutablePointer<AVFrame>?
    /// Timing of the frames inside the deinterlacer, oldest first: it gives back one frame per frame, in order.
    private var pending: [(pts: Int64, duration: Int64?)] = []
    private var filterFlushed = false
    /// After `seek`: frames up to the first keyframe are dropped.
    private var awaitingKeyframe = false
    /// How the fields are turned into progressive frames; nil: frames as decoded. Known after `fieldPlan()` or the first `next()`.
    public private(set) var deinterlacing: Deinterlacing?

    /// `interlacing` says what happens to interlaced video (`.keep` for our own, progressive, intermediates).
    public init(input: MediaInput, stream: StreamInfo, threads: Int = 0, interlacing: InterlaceMode = .keep) throws {
        self.input = input
        self.stream = stream
        self.interlacing = interlacing
        self.threads = threads
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
        av_frame_free(&filtered)
    }

    /// Decides how the fields are handled, decoding the first frame if need be: from the stream's declared
    /// field order, else the first frame's interlaced flag. Nil: the frames are handed out as decoded.
    public func fieldPlan() throws -> Deinterlacing? {
        guard !planned else { return deinterlacing }
        planned = true
        guard interlacing != .keep, let frame, try receive() else { return nil }
        peeked = true
        let flagged: FieldOrder = frame.pointee.interlaced_frame == 0 ? .progressive
            : frame.pointee.top_field_first != 0 ? .topFieldFirst : .bottomFieldFirst
        guard let plan = Deinterlacing.plan(mode: interlacing, declared: stream.fieldOrder, firstFrame: flagged) else { return nil }
        deinterlacer = try Deinterlacer(plan: plan, first: frame, timeBase: input.stream(stream.index).pointee.time_base, threads: threads)
        filtered = av_frame_alloc()
        deinterlacing = plan
        return plan
    }

    /// Jumps to the keyframe at or before `time` (seconds on the stream's clock): the next frame is that keyframe, or a
    /// later one — frames decoded before the first keyframe after the jump (an open GOP's leading pictures, which
    /// refer to pictures before it) are dropped, never handed out half-decoded. False, with nothing changed, when the
    /// file cannot seek or frames are deinterlaced (the filter holds neighbouring frames: the caller decodes on).
    public func seek(toKeyframeAtOrBefore time: Rational) throws -> Bool {
        _ = try fieldPlan()
        guard deinterlacer == nil, let codec else { return false }
        guard input.seek(stream: stream.index, toKeyframeAtOrBefore: (time / stream.timeBase).floor) else { return false }
        avcodec_flush_buffers(codec)
        if let frame { av_frame_unref(frame) }
        inputExhausted = false
        decoderDrained = false
        peeked = false
        lastPTS = nil
        awaitingKeyframe = true
        return true
    }

    /// The next frame in presentation order, or nil at the end of the stream.
    public func next() throws -> DecodedFrame? {
        _ = try fieldPlan()
        guard let frame else { return nil }
        guard let deinterlacer, let filtered else {
            if peeked { peeked = false } else if try !receive() { return nil }
            while awaitingKeyframe {
                if frame.pointee.key_frame != 0 { awaitingKeyframe = false; break }
                av_frame_unref(frame)
                if try !receive() { return nil }
            }
            defer { av_frame_unref(frame) }
            return try makeFrame(frame, timing: timing(of: frame))
        }
        while true {
            if try deinterlacer.pull(into: filtered) {
                defer { av_frame_unref(filtered) }
                guard !pending.isEmpty else { throw MediaError.ffmpeg(operation: deinterlacer.plan.filter, code: -22, message: "gave more frames than it was given") }
                return try makeFrame(filtered, timing: pending.removeFirst())
            }
            if filterFlushed { return nil }
            if try peeked || receive() {
                peeked = false
                defer { av_frame_unref(frame) }
                pending.append(timing(of: frame))
                try deinterlacer.push(frame, index: framesDecoded + pending.count - 1)
            } else {
                try deinterlacer.push(nil, index: framesDecoded)
                filterFlushed = true
            }
        }
    }

    /// Decodes the next frame into `frame`; false at the end of the stream.
    private func receive() throws -> Bool {
        guard let codec, let packet, let frame else { return false }
        while true {
            let received = avcodec_receive_frame(codec, frame)
            if received >= 0 { return true }
            if received == FFmpeg.eof { decoderDrained = true; return false }
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

    /// A decoded frame's presentation time (in the stream's time base) and duration, in decoding-output order.
    private func timing(of frame: UnsafeMutablePointer<AVFrame>) -> (pts: Int64, duration: Int64?) {
        var pts = frame.pointee.best_effort_timestamp
        if pts == FFmpeg.noPTS || pts != frame.pointee.pts { framesTimedWithoutPTS += 1 }
        if pts == FFmpeg.noPTS { pts = frame.pointee.pts }
        if pts == FFmpeg.noPTS {
            // No timestamp at all: continue from the previous frame at the stream's rate.
            let step = frameStep()
            pts = (lastPTS.map { $0 + step }) ?? 0
        }
        lastPTS = pts
        return (pts, frame.pointee.pkt_duration > 0 ? frame.pointee.pkt_duration : nil)
    }

    private func makeFrame(_ frame: UnsafeMutablePointer<AVFrame>, timing: (pts: Int64, duration: Int64?)) throws -> DecodedFrame {
        let picture = try VideoPicture(copying: frame, color: colorDescription(frame))
        framesDecoded += 1
        return DecodedFrame(pts: timing.pts, time: stream.timeBase * Rational(timing.pts), duration: timing.duration, picture: picture)
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
