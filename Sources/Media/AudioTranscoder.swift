import CFFmpeg
import Shared

/// Re-encodes one audio stream to AAC, for containers that cannot hold the source's audio codec.
/// Decode → swresample to the encoder's sample format → FIFO → fixed-size AAC frames, timestamps counted
/// in samples from the first decoded sample so A/V sync is kept.
final class AudioTranscoder {
    private var decoder: UnsafeMutablePointer<AVCodecContext>?
    private(set) var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var resampler: OpaquePointer?
    private var fifo: OpaquePointer?
    private var decoded: UnsafeMutablePointer<AVFrame>?
    private var outFrame: UnsafeMutablePointer<AVFrame>?
    private var outPacket: UnsafeMutablePointer<AVPacket>?
    private var nextPTS: Int64?
    private let sourceTimeBase: AVRational

    init(source: UnsafeMutablePointer<AVStream>, globalHeader: Bool) throws {
        sourceTimeBase = source.pointee.time_base
        let par = source.pointee.codecpar!
        guard let dec = avcodec_find_decoder(par.pointee.codec_id) else {
            throw MediaError.unsupportedCodec("no decoder for audio codec \(String(cString: avcodec_get_name(par.pointee.codec_id)))")
        }
        guard let enc = avcodec_find_encoder(AV_CODEC_ID_AAC) else { throw MediaError.unsupportedCodec("this FFmpeg has no AAC encoder") }
        decoder = avcodec_alloc_context3(dec)
        encoder = avcodec_alloc_context3(enc)
        guard let decoder, let encoder else { throw MediaError.ffmpeg(operation: "allocating audio codecs", code: -12, message: "out of memory") }
        try FFmpeg.check(avcodec_parameters_to_context(decoder, par), "audio decoder parameters")
        decoder.pointee.pkt_timebase = source.pointee.time_base
        try FFmpeg.check(avcodec_open2(decoder, dec, nil), "opening the audio decoder")

        let rate = decoder.pointee.sample_rate > 0 ? decoder.pointee.sample_rate : 48000
        encoder.pointee.sample_rate = min(rate, 96000)
        encoder.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        encoder.pointee.bit_rate = 192_000
        var layout = AVChannelLayout()
        let channels = max(1, min(decoder.pointee.ch_layout.nb_channels, 8))
        av_channel_layout_default(&layout, channels)
        encoder.pointee.ch_layout = layout
        encoder.pointee.time_base = AVRational(num: 1, den: encoder.pointee.sample_rate)
        if globalHeader { encoder.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        try FFmpeg.check(avcodec_open2(encoder, enc, nil), "opening the AAC encoder")

        var inLayout = decoder.pointee.ch_layout
        if inLayout.order == AV_CHANNEL_ORDER_UNSPEC { av_channel_layout_default(&inLayout, channels) }
        try FFmpeg.check(swr_alloc_set_opts2(&resampler, &encoder.pointee.ch_layout, AV_SAMPLE_FMT_FLTP, encoder.pointee.sample_rate,
                                             &inLayout, decoder.pointee.sample_fmt, decoder.pointee.sample_rate, 0, nil), "swr_alloc_set_opts2")
        try FFmpeg.check(swr_init(resampler), "swr_init")
        fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, encoder.pointee.ch_layout.nb_channels, 4096)
        decoded = av_frame_alloc()
        outFrame = av_frame_alloc()
        outPacket = av_packet_alloc()
    }

    deinit {
        avcodec_free_context(&decoder)
        avcodec_free_context(&encoder)
        swr_free(&resampler)
        if let fifo { av_audio_fifo_free(fifo) }
        av_frame_free(&decoded)
        av_frame_free(&outFrame)
        av_packet_free(&outPacket)
    }

    /// Feeds one source packet (nil to flush); finished AAC packets (in the encoder's time base) go to `sink`.
    func transcode(_ packet: UnsafeMutablePointer<AVPacket>?, sink: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let decoder, let decoded, let encoder, let fifo else { return }
        let sent = avcodec_send_packet(decoder, packet)
        if sent < 0 && sent != FFmpeg.eof && sent != FFmpeg.eagain { return } // a damaged audio packet is skipped, as players do
        while true {
            let code = avcodec_receive_frame(decoder, decoded)
            if code == FFmpeg.eagain || code == FFmpeg.eof { break }
            try FFmpeg.check(code, "decoding audio")
            defer { av_frame_unref(decoded) }
            if nextPTS == nil {
                let pts = decoded.pointee.best_effort_timestamp
                nextPTS = pts == FFmpeg.noPTS ? 0 : av_rescale_q(pts, sourceTimeBase, encoder.pointee.time_base)
            }
            let maxOut = swr_get_out_samples(resampler, decoded.pointee.nb_samples)
            try appendResampled(input: decoded, maxSamples: maxOut)
        }
        if packet == nil {
            // Drain the resampler, then encode whatever is left, padding the last frame.
            try appendResampled(input: nil, maxSamples: swr_get_out_samples(resampler, 0))
            try encodeFromFIFO(flushAll: true, sink: sink)
            let code = avcodec_send_frame(encoder, nil)
            if code != FFmpeg.eof { try FFmpeg.check(code, "flushing the AAC encoder") }
            try drainEncoder(sink)
        } else {
            try encodeFromFIFO(flushAll: false, sink: sink)
        }
        _ = fifo
    }

    private func appendResampled(input: UnsafeMutablePointer<AVFrame>?, maxSamples: Int32) throws {
        guard let fifo, let encoder, maxSamples > 0 else { return }
        let channels = Int(encoder.pointee.ch_layout.nb_channels)
        // One scratch block, a plane per channel (the encoder's format is planar float).
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: channels * Int(maxSamples))
        defer { scratch.deallocate() }
        var planes = (0..<channels).map { UnsafeMutableRawPointer(scratch + $0 * Int(maxSamples)).assumingMemoryBound(to: UInt8.self) as UnsafeMutablePointer<UInt8>? }
        let produced: Int32 = planes.withUnsafeMutableBufferPointer { out in
            if let input {
                return swr_convert(resampler, out.baseAddress, maxSamples,
                                   UnsafeMutableRawPointer(input.pointee.extended_data).assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                                   input.pointee.nb_samples)
            }
            return swr_convert(resampler, out.baseAddress, maxSamples, nil, 0)
        }
        try FFmpeg.check(produced, "resampling audio")
        guard produced > 0 else { return }
        let written = planes.withUnsafeMutableBufferPointer { out in
            UnsafeMutableRawPointer(out.baseAddress!).withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: channels) {
                av_audio_fifo_write(fifo, $0, produced)
            }
        }
        try FFmpeg.check(written, "buffering audio")
    }

    private func encodeFromFIFO(flushAll: Bool, sink: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let fifo, let encoder, let outFrame else { return }
        let frameSize = encoder.pointee.frame_size > 0 ? encoder.pointee.frame_size : 1024
        while av_audio_fifo_size(fifo) >= frameSize || (flushAll && av_audio_fifo_size(fifo) > 0) {
            let n = min(frameSize, av_audio_fifo_size(fifo))
            outFrame.pointee.nb_samples = n
            outFrame.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
            outFrame.pointee.sample_rate = encoder.pointee.sample_rate
            try FFmpeg.check(av_channel_layout_copy(&outFrame.pointee.ch_layout, &encoder.pointee.ch_layout), "channel layout")
            try FFmpeg.check(av_frame_get_buffer(outFrame, 0), "audio frame buffer")
            defer { av_frame_unref(outFrame) }
            let read = UnsafeMutableRawPointer(outFrame.pointee.extended_data).withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) {
                av_audio_fifo_read(fifo, $0, n)
            }
            try FFmpeg.check(read, "reading buffered audio")
            outFrame.pointee.pts = nextPTS ?? 0
            nextPTS = (nextPTS ?? 0) + Int64(n)
            try FFmpeg.check(avcodec_send_frame(encoder, outFrame), "encoding AAC")
            try drainEncoder(sink)
        }
    }

    private func drainEncoder(_ sink: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let encoder, let outPacket else { return }
        while true {
            let code = avcodec_receive_packet(encoder, outPacket)
            if code == FFmpeg.eagain || code == FFmpeg.eof { return }
            try FFmpeg.check(code, "receiving AAC packets")
            defer { av_packet_unref(outPacket) }
            try sink(outPacket)
        }
    }
}

