import CFFmpeg
import Foundation
import Shared

/// An opened media file (demuxer). Reads packets; decoders are made from it.
/// Not thread-safe: one reader per instance.
public final class MediaInput {
    public let info: MediaInfo
    let context: UnsafeMutablePointer<AVFormatContext>

    /// Limits on what we accept from a file before doing any work with it.
    public static let maxDimension = 16384
    public static let maxPixels = 16384 * 16384 / 2

    /// Opens and probes `path`, or throws a `MediaError` that says what is wrong.
    public convenience init(path: String) throws { try self.init(source: MediaSource(path: path)) }

    /// What was opened: the file or sequence, and the chosen video stream.
    public let source: MediaSource

    /// Opens and probes a file or an image sequence, or throws a `MediaError` that says what is wrong.
    public init(source: MediaSource) throws {
        _ = FFmpeg.configureLogging
        let path = source.path
        self.source = source
        var format: UnsafePointer<AVInputFormat>? = nil
        var options: OpaquePointer? = nil
        defer { av_dict_free(&options) }
        if source.isSequence {
            // A numbered sequence (scans): the first file found starts it; the rate is the user's, never guessed.
            let files = try source.sequenceFiles()
            guard let first = files.first else {
                throw MediaError.fileNotFound(path: "\(path) (no file in \(URL(fileURLWithPath: path).deletingLastPathComponent().path) matches it)")
            }
            guard let rate = source.sequenceRate else {
                throw MediaError.invalidSetting("\(path) is an image sequence: give its frame rate with --input-rate (e.g. 24 for film scans)")
            }
            if let gap = zip(files, files.dropFirst()).first(where: { $1.number != $0.number + 1 }) {
                throw MediaError.truncated(path: path, detail: "frame \(gap.0.number + 1) is missing (the sequence jumps from \(gap.0.number) to \(gap.1.number))")
            }
            format = av_find_input_format("image2")
            av_dict_set(&options, "framerate", "\(rate.numerator)/\(rate.denominator)", 0)
            av_dict_set(&options, "start_number", "\(first.number)", 0)
            av_dict_set(&options, "pattern_type", "sequence", 0)
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw MediaError.fileNotFound(path: path)
            }
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes?[.size] as? NSNumber, size.int64Value == 0 { throw MediaError.emptyFile(path: path) }
        }

        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let openCode = avformat_open_input(&ctx, path, format, &options)
        guard openCode >= 0, let ctx else {
            throw MediaError.notAMediaFile(path: path, detail: FFmpeg.errorString(openCode))
        }
        let findCode = avformat_find_stream_info(ctx, nil)
        if findCode < 0 {
            var doomed: UnsafeMutablePointer<AVFormatContext>? = ctx
            avformat_close_input(&doomed)
            throw MediaError.notAMediaFile(path: path, detail: FFmpeg.errorString(findCode))
        }
        self.context = ctx
        self.info = MediaInput.describe(ctx, path: path)
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&ctx)
    }

    /// The video stream to restore: the source's `videoStream` if given, else FFmpeg's best pick (never an attached
    /// cover picture), validated.
    public func primaryVideoStream() throws -> StreamInfo {
        let candidates = info.videoStreams.filter { !$0.isAttachedPicture }
        let stream: StreamInfo
        if let wanted = source.videoStream {
            guard let chosen = candidates.first(where: { $0.index == wanted }) else {
                let list = candidates.map { "\($0.index) (\($0.codec) \($0.width ?? 0)x\($0.height ?? 0))" }.joined(separator: ", ")
                throw MediaError.invalidSetting("--video-stream \(wanted) is not a video stream of \(info.path); its video streams: \(list.isEmpty ? "none" : list)")
            }
            stream = chosen
        } else {
            let best = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
            guard let pick = candidates.first(where: { $0.index == Int(best) }) ?? candidates.first else {
                throw MediaError.noVideoStream(path: info.path)
            }
            stream = pick
        }
        guard let w = stream.width, let h = stream.height, w > 0, h > 0 else {
            throw MediaError.notAMediaFile(path: info.path, detail: "the video stream has no picture size")
        }
        guard w <= MediaInput.maxDimension, h <= MediaInput.maxDimension, w * h <= MediaInput.maxPixels else {
            throw MediaError.invalidSize("the video claims \(w)x\(h), beyond Lumière's limit of \(MediaInput.maxDimension) per side")
        }
        return stream
    }

    /// The other moving video streams, which the output does not carry (a note names them; `--video-stream` picks).
    public func otherVideoStreams() throws -> [StreamInfo] {
        let chosen = try primaryVideoStream().index
        return info.videoStreams.filter { !$0.isAttachedPicture && $0.index != chosen }
    }

    var streamCount: Int { Int(context.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        context.pointee.streams[index]!
    }

    /// Moves the demuxer to the keyframe at or before `timestamp` (in stream `index`'s time base; for most containers a
    /// decode timestamp, so the keyframe's picture may still come later: the caller checks). False when the file
    /// cannot seek; FFmpeg then leaves the read position where it was.
    func seek(stream index: Int, toKeyframeAtOrBefore timestamp: Int64) -> Bool {
        avformat_seek_file(context, Int32(index), Int64.min, timestamp, timestamp, 0) >= 0
    }

    /// Reads the next packet of any stream into `packet`; false at the end of the file.
    func readPacket(into packet: UnsafeMutablePointer<AVPacket>) throws -> Bool {
        let code = av_read_frame(context, packet)
        if code == FFmpeg.eof { return false }
        if code < 0 {
            throw MediaError.truncated(path: info.path, detail: "reading failed: \(FFmpeg.errorString(code))")
        }
        return true
    }

    /// The stream's display matrix as a quarter turn (what players apply), or nil.
    static func displayRotation(_ stream: UnsafeMutablePointer<AVStream>) -> Int? {
        var size: Int = 0
        guard let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else { return nil }
        let degrees = data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard degrees.isFinite else { return nil }
        let quarter = (Int((degrees / 90).rounded()) * 90 % 360 + 360) % 360
        return quarter == 0 ? nil : quarter
    }

    /// FFmpeg's field order, by the field *shown* first: TB is top coded first but bottom shown first.
    static func fieldOrder(_ order: AVFieldOrder) -> FieldOrder? {
        switch order {
        case AV_FIELD_PROGRESSIVE: return .progressive
        case AV_FIELD_TT, AV_FIELD_BT: return .topFieldFirst
        case AV_FIELD_BB, AV_FIELD_TB: return .bottomFieldFirst
        default: return nil
        }
    }

    static func describe(_ ctx: UnsafeMutablePointer<AVFormatContext>, path: String) -> MediaInfo {
        let container = ctx.pointee.iformat.map { String(cString: $0.pointee.name) } ?? "unknown"
        let duration: Rational? = ctx.pointee.duration > 0 ? Rational(ctx.pointee.duration, Int64(lumiere_av_time_base())) : nil
        var streams: [StreamInfo] = []
        for i in 0..<Int(ctx.pointee.nb_streams) {
            let st = ctx.pointee.streams[i]!.pointee
            let par = st.codecpar.pointee
            let kind: StreamInfo.Kind
            switch par.codec_type {
            case AVMEDIA_TYPE_VIDEO: kind = .video
            case AVMEDIA_TYPE_AUDIO: kind = .audio
            case AVMEDIA_TYPE_SUBTITLE: kind = .subtitle
            case AVMEDIA_TYPE_DATA: kind = .data
            case AVMEDIA_TYPE_ATTACHMENT: kind = .attachment
            default: kind = .unknown
            }
            let tb = FFmpeg.rational(st.time_base) ?? Rational(1, 90000)
            let codecName = String(cString: avcodec_get_name(par.codec_id))
            var pixFmt: String? = nil
            if kind == .video, par.format >= 0, let name = av_get_pix_fmt_name(AVPixelFormat(rawValue: par.format)) {
                pixFmt = String(cString: name)
            }
            streams.append(StreamInfo(
                index: i, kind: kind, codec: codecName, timeBase: tb,
                startTime: st.start_time == FFmpeg.noPTS ? nil : tb * Rational(st.start_time),
                duration: st.duration == FFmpeg.noPTS || st.duration <= 0 ? nil : tb * Rational(st.duration),
                declaredFrameCount: st.nb_frames > 0 ? st.nb_frames : nil,
                width: kind == .video ? Int(par.width) : nil,
                height: kind == .video ? Int(par.height) : nil,
                sampleAspectRatio: kind == .video ? FFmpeg.rational(par.sample_aspect_ratio) : nil,
                baseFrameRate: kind == .video ? FFmpeg.rational(st.r_frame_rate) : nil,
                averageFrameRate: kind == .video ? FFmpeg.rational(st.avg_frame_rate) : nil,
                pixelFormat: pixFmt,
                sampleRate: kind == .audio ? Int(par.sample_rate) : nil,
                channels: kind == .audio ? Int(par.ch_layout.nb_channels) : nil,
                isAttachedPicture: (st.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0,
                rotation: kind == .video ? displayRotation(ctx.pointee.streams[i]!) : nil,
                fieldOrder: kind == .video ? fieldOrder(par.field_order) : nil))
        }
        return MediaInfo(path: path, container: container, duration: duration, streams: streams)
    }
}
