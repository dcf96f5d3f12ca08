import CFFmpeg
import Foundation
import Shared

/// A segment's result as a worker hands it back (issue 16): one Matroska file with two video streams.
/// - Stream 0: the frames a seam needs (the overlaps with the neighbouring segments), lossless (FFV1, planar RGB), in
///   film order — the head node blends them.
/// - Stream 1: the frames no seam touches, already encoded in the job's final codec on the output canvas: one closed
///   piece that starts with a key frame, whose packets the head node copies into the film unchanged (`EncodedPiece`,
///   `MediaWriter.append`). A seam run the head node encodes is the same kind of file with stream 0 left empty.
/// Both streams always exist (either may hold no frame), so a reader never guesses which is which.
public final class SegmentResultWriter {
    public static let losslessStream = 0
    public static let encodedStream = 1
    /// Threads of every piece encoder, whatever the machine: x264's frame threads shape its output (motion search
    /// stops at rows other threads have not finished), so a fixed count makes a segment the same bytes on every worker,
    /// and a retried or resumed job byte-identical to an uninterrupted one.
    public static let encoderThreads = 4

    public let path: String
    public let losslessPixelFormat: String
    public let encodedPixelFormat: String
    private var output: UnsafeMutablePointer<AVFormatContext>?
    private let lossless: VideoEncoder
    private let encoded: VideoEncoder
    private let streams: [UnsafeMutablePointer<AVStream>]
    private let timeBase: AVRational
    public private(set) var losslessFrames = 0
    public private(set) var encodedFrames = 0
    private var finished = false

    /// `lossless`: the size and planar-RGB format of the frames for seams; `encoding`/`canvas`: the job's final
    /// encoding. `rate` is the segment's frame rate; frames are written with their index in the segment.
    public init(path: String, losslessSize: PixelSize, losslessPixelFormat: String, encoding: VideoEncoding, canvas: PixelSize,
                rate: Rational) throws {
        _ = FFmpeg.configureLogging
        self.path = path
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        guard avformat_alloc_output_context2(&ctx, nil, "matroska", path) >= 0, let ctx else {
            throw MediaError.outputFailed(path: path, detail: "no Matroska muxer in this FFmpeg")
        }
        output = ctx
        ctx.pointee.flags |= AVFMT_FLAG_BITEXACT
        guard let pixelFormat = encoding.pixelFormat else { throw MediaError.invalidSetting("the final encoding has no pixel format") }
        self.losslessPixelFormat = losslessPixelFormat
        self.encodedPixelFormat = pixelFormat
        lossless = try VideoEncoder(encoding: VideoEncoding(codec: .ffv1, pixelFormat: losslessPixelFormat), size: losslessSize, rate: rate,
                                    color: .defaultFor(height: losslessSize.height), pixelFormat: losslessPixelFormat, globalHeader: true, threads: 1)
        encoded = try VideoEncoder(encoding: encoding, size: canvas, rate: rate, color: .defaultFor(height: canvas.height),
                                   pixelFormat: pixelFormat, globalHeader: true, threads: SegmentResultWriter.encoderThreads)
        timeBase = FFmpeg.avRational(rate.reciprocal)
        var made: [UnsafeMutablePointer<AVStream>] = []
        for encoder in [lossless, encoded] {
            guard let st = avformat_new_stream(ctx, nil) else { throw MediaError.outputFailed(path: path, detail: "cannot add a video stream") }
            try FFmpeg.check(avcodec_parameters_from_context(st.pointee.codecpar, encoder.context), "result stream parameters")
            st.pointee.time_base = timeBase
            made.append(st)
        }
        streams = made
        try FFmpeg.check(avio_open(&ctx.pointee.pb, path, AVIO_FLAG_WRITE), "creating \(path)")
        try FFmpeg.check(avformat_write_header(ctx, nil), "writing the result header")
    }

    deinit {
        if let output {
            avio_closep(&output.pointee.pb)
            avformat_free_context(output)
        }
    }

    /// A frame for a seam (film order; `index` is its place in the segment).
    public func writeLossless(_ picture: VideoPicture, index: Int64) throws {
        try lossless.encode(picture, index: index) { try write($0, stream: 0) }
        losslessFrames += 1
    }

    /// A frame of the encoded piece (in the final pixel format, canvas size).
    public func writeEncoded(_ picture: VideoPicture, index: Int64) throws {
        try encoded.encode(picture, index: index) { try write($0, stream: 1) }
        encodedFrames += 1
    }

    public func finish() throws {
        guard !finished, let output else { return }
        finished = true
        try lossless.finish { try write($0, stream: 0) }
        try encoded.finish { try write($0, stream: 1) }
        try FFmpeg.check(av_write_trailer(output), "writing the result trailer")
        try FFmpeg.check(avio_closep(&output.pointee.pb), "closing \(path)")
    }

    private func write(_ packet: UnsafeMutablePointer<AVPacket>, stream: Int) throws {
        guard let output else { return }
        av_packet_rescale_ts(packet, timeBase, streams[stream].pointee.time_base)
        packet.pointee.stream_index = Int32(stream)
        try FFmpeg.check(av_interleaved_write_frame(output, packet), "writing \(path)")
    }
}

/// The encoded stream of a result file, read as packets to be joined into the film unchanged. Opening it reads the
/// packets' times once (a piece's frame order is the order of its presentation times; Matroska keeps them in
/// milliseconds, so the rank, not the value, is what counts); `forEachPacket` then streams them in decode order.
public final class EncodedPiece {
    public let path: String
    /// Frames (packets) in the piece.
    public let frameCount: Int
    /// Each packet's place in presentation order, in decode order.
    let ranks: [Int]
    /// The stream's codec parameters (copied): what the output stream is made from, and what every piece must match.
    let parameters: UnsafeMutablePointer<AVCodecParameters>
    let stream: Int

    public init(path: String, stream: Int = SegmentResultWriter.encodedStream) throws {
        self.path = path
        self.stream = stream
        let input = try MediaInput(path: path)
        guard stream < input.streamCount, input.info.streams[stream].kind == .video else {
            throw MediaError.truncated(path: path, detail: "no encoded video stream \(stream) in this result")
        }
        guard let parameters = avcodec_parameters_alloc() else { throw MediaError.ffmpeg(operation: "avcodec_parameters_alloc", code: -12, message: "out of memory") }
        self.parameters = parameters
        try FFmpeg.check(avcodec_parameters_copy(parameters, input.stream(stream).pointee.codecpar), "copying piece parameters")
        var times: [Int64] = []
        try EncodedPiece.packets(of: input, stream: stream) { packet in
            guard packet.pointee.pts != FFmpeg.noPTS else { throw MediaError.brokenTimestamps(path: path, detail: "a packet without a time") }
            times.append(packet.pointee.pts)
        }
        let order = times.indices.sorted { times[$0] < times[$1] }
        var ranks = [Int](repeating: 0, count: times.count)
        for (rank, index) in order.enumerated() { ranks[index] = rank }
        if let dup = zip(order, order.dropFirst()).first(where: { times[$0.0] == times[$0.1] }) {
            throw MediaError.brokenTimestamps(path: path, detail: "two frames at time \(times[dup.0])")
        }
        self.ranks = ranks
        frameCount = times.count
    }

    deinit {
        var p: UnsafeMutablePointer<AVCodecParameters>? = parameters
        avcodec_parameters_free(&p)
    }

    /// The codec's private header (H.264's SPS/PPS, FFV1's configuration): equal in every piece of one film.
    var extradata: [UInt8] {
        guard let data = parameters.pointee.extradata, parameters.pointee.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(parameters.pointee.extradata_size)))
    }

    var codecName: String { String(cString: avcodec_get_name(parameters.pointee.codec_id)) }

    /// Calls `body` with each packet in decode order and its place in presentation order.
    func forEachPacket(_ body: (UnsafeMutablePointer<AVPacket>, _ decodeIndex: Int, _ rank: Int) throws -> Void) throws {
        let input = try MediaInput(path: path)
        var index = 0
        try EncodedPiece.packets(of: input, stream: stream) { packet in
            guard index < ranks.count else { throw MediaError.truncated(path: path, detail: "the piece changed while it was read") }
            try body(packet, index, ranks[index])
            index += 1
        }
        guard index == ranks.count else { throw MediaError.truncated(path: path, detail: "the piece changed while it was read") }
    }

    private static func packets(of input: MediaInput, stream: Int, _ body: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        for i in 0..<input.streamCount where i != stream { input.stream(i).pointee.discard = AVDISCARD_ALL }
        guard let packet = av_packet_alloc() else { throw MediaError.ffmpeg(operation: "av_packet_alloc", code: -12, message: "out of memory") }
        defer { var p: UnsafeMutablePointer<AVPacket>? = packet; av_packet_free(&p) }
        while try input.readPacket(into: packet) {
            defer { av_packet_unref(packet) }
            guard Int(packet.pointee.stream_index) == stream else { continue }
            try body(packet)
        }
    }
}
