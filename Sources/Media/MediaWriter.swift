import CFFmpeg
import Foundation
import Shared

/// Writes a video file: one encoded video stream plus the source's audio and subtitle streams,
/// interleaved by time as the video is written (so memory stays flat on long films).
///
/// Side streams are copied unchanged when the container accepts their codec; audio it does not
/// accept is re-encoded to AAC (with a warning); subtitles it does not accept are left out (with a warning).
/// Source timestamps are kept, so audio stays where it was relative to the first video frame.
public final class MediaWriter {
    public struct VideoSettings: Sendable {
        public var size: PixelSize
        public var rate: Rational
        /// Time of the first frame in seconds (the source's first video time, to keep A/V sync).
        public var startTime: Rational
        public var encoding: VideoEncoding
        public var color: ColorDescription
        public var threads: Int
        /// An image sequence's first file number (the source sequence's, so frame numbers match the scans); nil: 1.
        public var sequenceStart: Int?
        public init(size: PixelSize, rate: Rational, startTime: Rational = .zero, encoding: VideoEncoding,
                    color: ColorDescription, threads: Int = 0, sequenceStart: Int? = nil) {
            self.size = size; self.rate = rate; self.startTime = startTime
            self.encoding = encoding; self.color = color; self.threads = threads; self.sequenceStart = sequenceStart
        }
    }

    public let path: String
    public let pixelFormat: String
    private var output: UnsafeMutablePointer<AVFormatContext>?
    /// nil when joining pieces encoded elsewhere (`append`).
    private let encoder: VideoEncoder?
    /// Video timestamps are made in frame units (1/rate) and rescaled to the stream's time base.
    private let videoTimeBase: AVRational
    /// Joining: the codec header every piece must share, and the reorder delay (frames) all decode times are set back by.
    private var joinHeader: [UInt8]?
    private var joinDelay = 0
    private let videoStream: UnsafeMutablePointer<AVStream>
    /// The source's start time: added to every video timestamp in the stream's own (fine) time base, not in frame
    /// units, where a start of 0.54 s at 25 fps (13.5 frames, an MPEG-PS) would move the picture 20 ms against the sound.
    private let startTime: Rational
    /// A trimmed source (`MediaSource.trim`): the film starts where the source starts, its first kept frame first, so
    /// every timestamp moves back by the trim's offset; side-stream packets are kept only within the kept frames' time
    /// (whole packets: the sound starts and ends within one packet, 21–26 ms for AAC and MP3, of the picture).
    private let shift: Rational
    private let sideWindow: (start: Rational, end: Rational?)?
    private var carriers: [SideStream] = []
    private var sideInput: MediaInput?
    private var pendingSide: UnsafeMutablePointer<AVPacket>?
    private var sideExhausted = false
    private var framesWritten: Int64 = 0
    private var finished = false
    private var headerWritten = false

    /// Creates `path` (the container follows the file name's extension: .mp4, .mkv, .mov, .avi …).
    /// `carryStreamsFrom` names the source whose audio and subtitles are carried over.
    /// `joining`: the film's video is not encoded here but joined from pieces encoded with `video.encoding` elsewhere
    /// (`append`); its stream takes the codec header of this first piece.
    public init(path: String, video: VideoSettings, joining piece: EncodedPiece? = nil, carryStreamsFrom source: MediaSource? = nil,
                warn: (String) -> Void = { _ in }) throws {
        _ = FFmpeg.configureLogging
        self.path = path
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        // An image sequence (`frame_%06d.dpx`) goes through FFmpeg's image2 muxer, one file a frame.
        let code = avformat_alloc_output_context2(&ctx, nil, video.encoding.codec.isImageSequence ? "image2" : nil, path)
        guard code >= 0, let ctx else {
            throw MediaError.outputFailed(path: path, detail: "no container format for this file name (use .mp4 or .mkv)")
        }
        output = ctx
        // No dates or random IDs in the container: the same frames give the same bytes (resume = uninterrupted run).
        ctx.pointee.flags |= AVFMT_FLAG_BITEXACT
        let oformat = ctx.pointee.oformat!
        let globalHeader = (oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0
        let pixelFormat = video.encoding.pixelFormat ?? (video.encoding.codec == .h264 ? "yuv420p" : "yuv420p")
        self.pixelFormat = pixelFormat
        let codecID = video.encoding.codec.codecID
        if avformat_query_codec(oformat, codecID, FF_COMPLIANCE_NORMAL) != 1 {
            avformat_free_context(ctx)
            throw MediaError.outputFailed(path: path, detail: "the \(String(cString: oformat.pointee.name)) container cannot hold \(video.encoding.codec.rawValue) video; use .mkv")
        }
        videoTimeBase = FFmpeg.avRational(video.rate.reciprocal)
        do {
            if let piece {
                // The same encoder the pieces were made with, opened only for its reorder delay: every piece's decode
                // times are set back by it, so they rise across the joins (a piece may reorder less, never more).
                let reference = try VideoEncoder(encoding: video.encoding, size: video.size, rate: video.rate, color: video.color,
                                                 pixelFormat: pixelFormat, globalHeader: globalHeader, threads: SegmentResultWriter.encoderThreads)
                joinDelay = Int(reference.context.pointee.has_b_frames)
                joinHeader = piece.extradata
                encoder = nil
            } else {
                encoder = try VideoEncoder(encoding: video.encoding, size: video.size, rate: video.rate, color: video.color,
                                           pixelFormat: pixelFormat, globalHeader: globalHeader, threads: video.threads)
            }
        } catch {
            avformat_free_context(ctx)
            throw error
        }
        guard let st = avformat_new_stream(ctx, nil) else { throw MediaError.outputFailed(path: path, detail: "cannot add a video stream") }
        videoStream = st
        if let encoder {
            try FFmpeg.check(avcodec_parameters_from_context(st.pointee.codecpar, encoder.context), "video stream parameters")
        } else if let piece {
            try FFmpeg.check(avcodec_parameters_copy(st.pointee.codecpar, piece.parameters), "video stream parameters")
            st.pointee.codecpar.pointee.codec_tag = 0
        }
        st.pointee.time_base = videoTimeBase
        st.pointee.avg_frame_rate = FFmpeg.avRational(video.rate)
        st.pointee.r_frame_rate = FFmpeg.avRational(video.rate)
        // The first frame's time in frame units; the source's start is kept so side streams stay in sync.
        shift = source?.trim?.offset ?? .zero
        startTime = video.startTime - shift
        sideWindow = source?.trim.map { (video.startTime, $0.duration.map { video.startTime + $0 }) }

        if let source, video.encoding.codec.isImageSequence {
            let input = try MediaInput(source: source)
            if !input.info.audioStreams.isEmpty || !input.info.subtitleStreams.isEmpty {
                warn("an image sequence holds pictures only: the audio and subtitles stay in \(source.path)")
            }
            if let first = video.sequenceStart { av_opt_set_int(ctx.pointee.priv_data, "start_number", Int64(first), 0) }
        } else if let source {
            let input = try MediaInput(source: source)
            MediaWriter.copyDisplayMatrix(from: input, to: st)
            for info in input.info.streams where info.kind == .audio || info.kind == .subtitle {
                let srcStream = input.stream(info.index)
                let codecID = srcStream.pointee.codecpar.pointee.codec_id
                if MediaWriter.canCarry(codecID, kind: info.kind, into: oformat) {
                    guard let out = avformat_new_stream(ctx, nil) else { continue }
                    try FFmpeg.check(avcodec_parameters_copy(out.pointee.codecpar, srcStream.pointee.codecpar), "copying stream parameters")
                    out.pointee.codecpar.pointee.codec_tag = 0
                    out.pointee.time_base = srcStream.pointee.time_base
                    out.pointee.disposition = srcStream.pointee.disposition
                    av_dict_copy(&out.pointee.metadata, srcStream.pointee.metadata, 0)
                    carriers.append(SideStream(sourceIndex: info.index, output: out, sourceTimeBase: srcStream.pointee.time_base, transcoder: nil))
                } else if info.kind == .audio {
                    warn("audio stream \(info.index) (\(info.codec)) cannot go into \(URL(fileURLWithPath: path).pathExtension) unchanged; re-encoding it to AAC")
                    let transcoder = try AudioTranscoder(source: srcStream, globalHeader: globalHeader)
                    guard let out = avformat_new_stream(ctx, nil), let enc = transcoder.encoder else { continue }
                    try FFmpeg.check(avcodec_parameters_from_context(out.pointee.codecpar, enc), "AAC stream parameters")
                    out.pointee.time_base = enc.pointee.time_base
                    av_dict_copy(&out.pointee.metadata, srcStream.pointee.metadata, 0)
                    carriers.append(SideStream(sourceIndex: info.index, output: out, sourceTimeBase: srcStream.pointee.time_base, transcoder: transcoder))
                } else {
                    warn("subtitle stream \(info.index) (\(info.codec)) is not supported by the \(String(cString: oformat.pointee.name)) container; leaving it out (use .mkv to keep it)")
                }
            }
            for i in 0..<input.streamCount where !carriers.contains(where: { $0.sourceIndex == i }) {
                input.stream(i).pointee.discard = AVDISCARD_ALL
            }
            if !carriers.isEmpty { sideInput = input; pendingSide = av_packet_alloc() }
        }

        if (oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            let openCode = avio_open(&ctx.pointee.pb, path, AVIO_FLAG_WRITE)
            guard openCode >= 0 else {
                throw MediaError.outputFailed(path: path, detail: FFmpeg.errorString(openCode))
            }
        }
        try FFmpeg.check(avformat_write_header(ctx, nil), "writing the \(String(cString: oformat.pointee.name)) header")
        headerWritten = true
    }

    deinit {
        av_packet_free(&pendingSide)
        if let output {
            if (output.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 { avio_closep(&output.pointee.pb) }
            avformat_free_context(output)
        }
    }

    /// Number of video frames written so far.
    public var frameCount: Int64 { framesWritten }

    /// Appends the next video frame (already in the writer's pixel format and size).
    public func write(_ picture: VideoPicture) throws {
        precondition(!finished, "MediaWriter.write after finish")
        guard let encoder else { throw MediaError.invalidSetting("internal error: a joined video takes pieces, not pictures") }
        try encoder.encode(picture, index: framesWritten) { packet in try writeVideo(packet) }
        framesWritten += 1
    }

    /// Joins an encoded piece after the frames written so far, its packets unchanged: presentation times follow the
    /// piece's own frame order, decode times its packet order set back by the encoder's reorder delay. Refused: a piece
    /// of another codec or header (made with other settings), or one that does not start with a key frame.
    public func append(_ piece: EncodedPiece) throws {
        precondition(!finished, "MediaWriter.append after finish")
        guard encoder == nil, let header = joinHeader else { throw MediaError.invalidSetting("internal error: this writer encodes its own video") }
        guard piece.parameters.pointee.codec_id == videoStream.pointee.codecpar.pointee.codec_id, piece.extradata == header else {
            throw MediaError.invalidSetting("\(piece.path) was encoded with other settings (\(piece.codecName), another stream header) than the film it joins; restore its segment again")
        }
        let first = framesWritten
        try piece.forEachPacket { packet, index, rank in
            if index == 0 && packet.pointee.flags & AV_PKT_FLAG_KEY == 0 {
                throw MediaError.truncated(path: piece.path, detail: "the piece does not start with a key frame")
            }
            guard index - rank <= joinDelay else {
                throw MediaError.invalidSetting("\(piece.path) reorders frames deeper (\(index - rank)) than its encoder's delay (\(joinDelay)); it was made with other settings")
            }
            packet.pointee.pts = first + Int64(rank)
            packet.pointee.dts = first + Int64(index - joinDelay)
            packet.pointee.duration = 1
            packet.pointee.pos = -1
            try writeVideo(packet)
        }
        framesWritten += Int64(piece.frameCount)
    }

    /// Flushes the encoder, writes the remaining side-stream packets and the trailer, closes the file.
    public func finish() throws {
        guard !finished, let output else { return }
        finished = true
        try encoder?.finish { packet in try writeVideo(packet) }
        try pumpSideStreams(upTo: nil)
        for carrier in carriers {
            try carrier.transcoder?.transcode(nil) { packet in try writeSide(packet, carrier: carrier, transcoded: true) }
        }
        try FFmpeg.check(av_write_trailer(output), "writing the trailer")
        if (output.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            try FFmpeg.check(avio_closep(&output.pointee.pb), "closing \(path)")
        }
    }

    /// Keeps the source's display rotation (phones record portrait video as rotated landscape).
    static func copyDisplayMatrix(from input: MediaInput, to stream: UnsafeMutablePointer<AVStream>) {
        guard let video = try? input.primaryVideoStream() else { return }
        var size: Int = 0
        guard let matrix = av_stream_get_side_data(input.stream(video.index), AV_PKT_DATA_DISPLAYMATRIX, &size), size == 36,
              let copy = av_stream_new_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, size) else { return }
        copy.update(from: matrix, count: size)
    }

    /// Whether a side stream can be copied unchanged. FFmpeg's own answer, narrowed for MP4/MOV to the audio codecs
    /// that players actually read there (FFmpeg will mux Vorbis into MP4, but almost nothing plays it).
    static func canCarry(_ codec: AVCodecID, kind: StreamInfo.Kind, into format: UnsafePointer<AVOutputFormat>) -> Bool {
        guard avformat_query_codec(format, codec, FF_COMPLIANCE_NORMAL) == 1 else { return false }
        let name = String(cString: format.pointee.name)
        guard kind == .audio, name == "mp4" || name == "mov" else { return true }
        let playable: Set<AVCodecID> = [AV_CODEC_ID_AAC, AV_CODEC_ID_MP3, AV_CODEC_ID_AC3, AV_CODEC_ID_EAC3, AV_CODEC_ID_ALAC,
                                        AV_CODEC_ID_OPUS, AV_CODEC_ID_FLAC]
        return playable.contains(codec) || (name == "mov" && String(cString: avcodec_get_name(codec)).hasPrefix("pcm_"))
    }

    private func writeVideo(_ packet: UnsafeMutablePointer<AVPacket>) throws {
        guard let output else { return }
        av_packet_rescale_ts(packet, videoTimeBase, videoStream.pointee.time_base)
        if startTime != .zero, let tb = FFmpeg.rational(videoStream.pointee.time_base) {
            let offset = (startTime / tb).rounded
            if packet.pointee.pts != FFmpeg.noPTS { packet.pointee.pts += offset }
            if packet.pointee.dts != FFmpeg.noPTS { packet.pointee.dts += offset }
        }
        packet.pointee.stream_index = videoStream.pointee.index
        // Side-stream packets up to this point in time go first, so the muxer's interleaving queue stays short.
        let dts = packet.pointee.dts == FFmpeg.noPTS ? packet.pointee.pts : packet.pointee.dts
        try pumpSideStreams(upTo: FFmpeg.rational(videoStream.pointee.time_base).map { $0 * Rational(dts) })
        try FFmpeg.check(av_interleaved_write_frame(output, packet), "writing video to \(path)")
    }

    /// Copies/transcodes side-stream packets whose time is ≤ `limit` (all of them when nil).
    private func pumpSideStreams(upTo limit: Rational?) throws {
        guard let input = sideInput, let packet = pendingSide else { return }
        while !sideExhausted {
            if packet.pointee.data == nil && packet.pointee.side_data_elems == 0 && packet.pointee.size == 0 {
                if try !input.readPacket(into: packet) { sideExhausted = true; return }
            }
            guard let carrier = carriers.first(where: { $0.sourceIndex == Int(packet.pointee.stream_index) }) else {
                av_packet_unref(packet); continue
            }
            let ts = packet.pointee.dts != FFmpeg.noPTS ? packet.pointee.dts : packet.pointee.pts
            let time = ts == FFmpeg.noPTS ? nil : FFmpeg.rational(carrier.sourceTimeBase).map { $0 * Rational(ts) }
            if let window = sideWindow, let time, time < window.start || window.end.map({ time >= $0 }) == true {
                av_packet_unref(packet); continue // outside the trim
            }
            if let limit, let time, time - shift > limit {
                return // keep it for later
            }
            defer { av_packet_unref(packet) }
            if let transcoder = carrier.transcoder {
                try transcoder.transcode(packet) { out in try writeSide(out, carrier: carrier, transcoded: true) }
            } else {
                try writeSide(packet, carrier: carrier, transcoded: false)
            }
        }
    }

    private func writeSide(_ packet: UnsafeMutablePointer<AVPacket>, carrier: SideStream, transcoded: Bool) throws {
        guard let output else { return }
        let from = transcoded ? carrier.transcoder!.encoder!.pointee.time_base : carrier.sourceTimeBase
        av_packet_rescale_ts(packet, from, carrier.output.pointee.time_base)
        if shift != .zero, let tb = FFmpeg.rational(carrier.output.pointee.time_base) {
            let offset = (shift / tb).rounded
            if packet.pointee.pts != FFmpeg.noPTS { packet.pointee.pts -= offset }
            if packet.pointee.dts != FFmpeg.noPTS { packet.pointee.dts -= offset }
        }
        packet.pointee.stream_index = carrier.output.pointee.index
        packet.pointee.pos = -1
        try FFmpeg.check(av_interleaved_write_frame(output, packet), "writing audio/subtitles to \(path)")
    }

    private struct SideStream {
        let sourceIndex: Int
        let output: UnsafeMutablePointer<AVStream>
        let sourceTimeBase: AVRational
        let transcoder: AudioTranscoder?
    }
}
