import CFFmpeg
import Foundation
import Shared

/// A segment's input as the source's own packets: the primary video stream stream-copied (no decode, no encode)
/// from a keyframe at or before the segment's first frame through every packet its last frame needs, in a NUT
/// file (NUT keeps the source's time base, or an exact divisor of it: every timestamp survives unchanged, where
/// Matroska would round it to milliseconds and move frames between constant-rate slots). The file's metadata says
/// which frames of the film's constant-rate sequence (`ConstantRateNormalizer`) the worker keeps; the worker's
/// `SegmentInputReader` decodes the packets with the same decoder and yields exactly those frames.
///
/// How the packets are chosen (`PacketIndex.packets(for:)`), with the film's frame 0 at `start` and a packet's slot
/// `round((pts·timeBase − start)·rate)`:
/// - first: the last keyframe whose slot is ≤ the first wanted frame and whose pts is above every earlier packet's
///   (so no frame shown before it is still to come); the frame shown at the first wanted slot is that keyframe or a
///   later one, all decodable from it. An open GOP's leading frames (shown before it, decoded after it, without
///   their references) are dropped by the reader (`Header.keyframeTime`); for codecs not in `openGOPStarts` a
///   keyframe with leading frames is not used at all. No such keyframe: the film's first packet (the whole decode).
/// - last: the last packet in decode order whose slot is ≤ the last wanted frame. Every frame shown up to that slot
///   is then in the cut, with its references (they come earlier in decode order); the decoder is flushed at the end
///   of the cut, so B-frame reordering loses nothing.
/// The coordinator also puts each segment's fingerprint (`FrameHash.combined` of its frames from the whole-film
/// decode) in the file and the reader checks it: a codec that did not decode a cut exactly fails loudly, never
/// silently restores other frames. Tests prove the rule per codec (SegmentInputCutTests).
public enum SegmentInputCut {
    /// Codecs proven to decode a cut bit-exactly by SegmentInputCutTests (real footage and synthetic clips, cuts
    /// after keyframes, mid-GOP and at the end). Others get the lossless input: a new codec earns its place by test.
    public static let provenCodecs: Set<String> = ["h264", "mpeg2video", "mpeg4", "vp9", "theora", "mjpeg"]

    /// Codecs whose decoder, started at an open GOP's I-frame, drops its leading B-frames (which reference the GOP
    /// before) and decodes the rest exactly (tested). FFmpeg's H.264 decoder started at an x264 open-GOP I-frame gave
    /// other pictures for the frames after it (SegmentInputCutTests.testH264OpenGOP): H.264 cuts start only at
    /// keyframes that no later packet is shown before (IDR / closed GOP).
    public static let openGOPStarts: Set<String> = ["mpeg2video", "mpeg4"]

    /// Why a source that was decoded whole (`reader` at its end) must not travel as packet cuts, or nil.
    /// Damage: error concealment depends on what the decoder saw before, which a cut changes (box.mp4's broken IDR).
    /// Timing: when FFmpeg times frames by decode timestamps (box.mp4's B-frames carry pts = dts), NUT — which keeps
    /// presentation timestamps only — would let the worker time them otherwise (measured: other frames kept).
    public static func hazard(after reader: ConstantRateReader) -> String? {
        if reader.damagedPackets > 0 { return "the video has \(reader.damagedPackets) damaged packet(s), whose concealment a cut would change" }
        if reader.framesTimedWithoutPTS > 0 {
            return "\(reader.framesTimedWithoutPTS) frame(s) are timed by decode timestamps, not their own (broken presentation timestamps)"
        }
        return nil
    }

    /// What the worker needs to take its frames from the packets; kept in the file's metadata.
    public struct Header: Sendable, Equatable {
        /// The film's constant rate.
        public var rate: Rational
        /// The time of the film's frame 0, in seconds.
        public var start: Rational
        /// The frames of the constant-rate sequence to yield.
        public var frames: Range<Int>
        /// `FrameHash.combined` of those frames from the whole-film decode; nil: not checked.
        public var fingerprint: String?
        /// The time of the cut's first packet, a keyframe, when the cut starts after the film's first packet: frames
        /// shown before it are an open GOP's leading pictures, decoded without their references, and are dropped.
        public var keyframeTime: Rational?

        public init(rate: Rational, start: Rational, frames: Range<Int>, fingerprint: String?, keyframeTime: Rational? = nil) {
            self.rate = rate
            self.start = start
            self.frames = frames
            self.fingerprint = fingerprint
            self.keyframeTime = keyframeTime
        }

        static let marker = "lumiere-cut", rateKey = "lumiere-rate", startKey = "lumiere-start", framesKey = "lumiere-frames",
                   fingerprintKey = "lumiere-fingerprint", keyframeKey = "lumiere-keyframe"

        /// The file's metadata, in a fixed order. Not a Dictionary: a Swift Dictionary's iteration order differs
        /// between instances (each storage has its own hash seed), and NUT stores the entries in the order given, so
        /// the same cut came out as other bytes of the same size (SegmentInputCutWriterTests caught it: the one-pass
        /// and batch writers' files differed in the order of `lumiere-rate`/`lumiere-fingerprint` alone).
        var metadata: [(key: String, value: String)] {
            var m = [(Header.marker, "1"), (Header.rateKey, rate.description), (Header.startKey, start.description),
                     (Header.framesKey, "\(frames.lowerBound)-\(frames.upperBound)")]
            if let fingerprint { m.append((Header.fingerprintKey, fingerprint)) }
            if let keyframeTime { m.append((Header.keyframeKey, keyframeTime.description)) }
            return m
        }

        /// nil: not a cut (a lossless input); throws when the marker is there but the rest is not readable.
        init?(metadata: [String: String], path: String) throws {
            guard metadata[Header.marker] != nil else { return nil }
            let bounds = metadata[Header.framesKey]?.split(separator: "-").compactMap { Int($0) } ?? []
            guard let rate = metadata[Header.rateKey].flatMap(Rational.init(parsing:)), rate > .zero,
                  let start = metadata[Header.startKey].flatMap(Rational.init(parsing:)),
                  bounds.count == 2, bounds[0] >= 0, bounds[0] < bounds[1] else {
                throw SegmentCutError.badHeader(path: path, metadata: metadata.filter { $0.key.hasPrefix("lumiere") }.description)
            }
            let keyframe = try metadata[Header.keyframeKey].map {
                guard let time = Rational(parsing: $0) else { throw SegmentCutError.badHeader(path: path, metadata: "\(Header.keyframeKey)=\($0)") }
                return time
            }
            self.init(rate: rate, start: start, frames: bounds[0]..<bounds[1], fingerprint: metadata[Header.fingerprintKey], keyframeTime: keyframe)
        }
    }

    /// One cut to write: the packets (indices into the `PacketIndex`, decode order) and the header.
    public struct Target: Sendable {
        public var file: URL
        public var packets: Range<Int>
        public var header: Header
        /// `header.keyframeTime` is set from `index`.
        public init(file: URL, index: PacketIndex, packets: Range<Int>, header: Header) {
            self.file = file
            self.packets = packets
            self.header = header
            self.header.keyframeTime = packets.lowerBound > 0 ? index.time(packets.lowerBound) : nil
        }
    }

    /// Writes every target in one pass over the source's packets (demuxing only). `progress` gets the packets read.
    public static func write(source: MediaSource, index: PacketIndex, targets: [Target], progress: (Int) throws -> Void = { _ in }) throws {
        let input = try MediaInput(source: source)
        let stream = try input.primaryVideoStream()
        for i in 0..<input.streamCount where i != stream.index { input.stream(i).pointee.discard = AVDISCARD_ALL }
        let cuts = CutFanOut(targets: targets, input: input, stream: stream)
        guard let packet = av_packet_alloc() else { throw MediaError.ffmpeg(operation: "av_packet_alloc", code: lumiere_averror_enomem(), message: "out of memory") }
        var doomed: UnsafeMutablePointer<AVPacket>? = packet
        defer { av_packet_free(&doomed) }
        var n = 0
        while !cuts.isDone {
            guard try input.readPacket(into: packet) else { break }
            defer { av_packet_unref(packet) }
            guard Int(packet.pointee.stream_index) == stream.index else { continue }
            guard n < index.count, packet.pointee.pts == index.pts[n] else {
                throw SegmentCutError.sourceChanged(path: input.info.path, detail: "packet \(n) differs from the index made before")
            }
            try cuts.feed(n, packet)
            n += 1
            if n % 256 == 0 { try progress(n) }
        }
        guard cuts.isDone else {
            throw SegmentCutError.sourceChanged(path: input.info.path, detail: "it ended after \(n) video packets, before every cut was written")
        }
        try progress(n)
    }
}

/// Why a cut could not be written or read as promised.
public enum SegmentCutError: Error, CustomStringConvertible, Equatable {
    case badHeader(path: String, metadata: String)
    case sourceChanged(path: String, detail: String)
    case timeBaseNotKept(path: String, source: String, written: String)
    case framesDiffer(path: String, detail: String)

    public var description: String {
        switch self {
        case let .badHeader(p, m): return "\(p) is a segment cut with an unreadable header (\(m))"
        case let .sourceChanged(p, d): return "\(p) changed while its segment inputs were written: \(d)"
        case let .timeBaseNotKept(p, s, w): return "the NUT muxer would store \(p)'s timestamps in \(w), not in a divisor of the source's \(s): they would move"
        case let .framesDiffer(p, d): return "segment input \(p) does not decode to the frames the coordinator planned: \(d)"
        }
    }
}

/// The primary video stream's packets in decode order, from one pass of the demuxer (no decoding): their
/// timestamps and keyframe flags, to choose each segment's packets.
public struct PacketIndex: Sendable {
    public let codec: String
    public let timeBase: Rational
    /// Per packet, decode order; `FFmpeg.noPTS` where the container gives none.
    let pts: [Int64]
    let keys: [Bool]
    /// Per packet, its size in bytes (what a cut holding it sends).
    let sizes: [Int]
    /// Per packet: the highest pts before it, and the lowest from it on (the order of display vs. decode).
    private let maxBefore: [Int64]
    private let minFrom: [Int64]

    public var count: Int { pts.count }

    public static func scan(source: MediaSource) throws -> PacketIndex {
        let input = try MediaInput(source: source)
        let stream = try input.primaryVideoStream()
        for i in 0..<input.streamCount where i != stream.index { input.stream(i).pointee.discard = AVDISCARD_ALL }
        guard let packet = av_packet_alloc() else { throw MediaError.ffmpeg(operation: "av_packet_alloc", code: lumiere_averror_enomem(), message: "out of memory") }
        var doomed: UnsafeMutablePointer<AVPacket>? = packet
        defer { av_packet_free(&doomed) }
        var pts: [Int64] = [], keys: [Bool] = [], sizes: [Int] = []
        while try input.readPacket(into: packet) {
            defer { av_packet_unref(packet) }
            guard Int(packet.pointee.stream_index) == stream.index else { continue }
            pts.append(packet.pointee.pts)
            keys.append(packet.pointee.flags & AV_PKT_FLAG_KEY != 0)
            sizes.append(Int(packet.pointee.size))
        }
        return PacketIndex(codec: stream.codec, timeBase: stream.timeBase, pts: pts, keys: keys, sizes: sizes)
    }

    init(codec: String, timeBase: Rational, pts: [Int64], keys: [Bool], sizes: [Int]) {
        self.codec = codec
        self.timeBase = timeBase
        self.pts = pts
        self.keys = keys
        self.sizes = sizes
        var maxBefore = [Int64](repeating: .min, count: pts.count), minFrom = [Int64](repeating: .max, count: pts.count)
        for i in pts.indices.dropFirst() { maxBefore[i] = max(maxBefore[i - 1], pts[i - 1]) }
        for i in pts.indices.reversed() { minFrom[i] = min(i + 1 < pts.count ? minFrom[i + 1] : .max, pts[i]) }
        self.maxBefore = maxBefore
        self.minFrom = minFrom
    }

    /// Why this stream cannot be cut into packets (nil: it can).
    public var refusal: String? {
        guard SegmentInputCut.provenCodecs.contains(codec) else { return "\(codec) is not among the codecs proven to decode cuts exactly" }
        guard !pts.isEmpty else { return "the video has no packets" }
        if let i = pts.firstIndex(of: FFmpeg.noPTS) { return "video packet \(i) has no timestamp" }
        // NUT stores no negative timestamps (shifting them would move every frame).
        if let i = pts.firstIndex(where: { $0 < 0 }) { return "video packet \(i) has a negative timestamp" }
        return nil
    }

    /// The bytes of the packets in `range` (a cut's payload).
    public func bytes(_ range: Range<Int>) -> Int64 { sizes[range].reduce(Int64(0)) { $0 + Int64($1) } }

    /// Packet `i`'s presentation time in seconds.
    func time(_ i: Int) -> Rational { timeBase * Rational(pts[i]) }

    /// The constant-rate slots of the keyframes a cut can start at (for tests and logs).
    public func keyframeSlots(rate: Rational, start: Rational) -> [Int] {
        pts.indices.filter(canStart).map { Int(((timeBase * Rational(pts[$0]) - start) * rate).rounded) }
    }

    /// Packet `i` is a keyframe a cut can start at: every packet before it is shown before it, and (unless the codec
    /// copes with open GOPs) every packet after it is shown after it.
    func canStart(_ i: Int) -> Bool {
        guard keys[i], maxBefore[i] < pts[i] else { return false }
        return SegmentInputCut.openGOPStarts.contains(codec) || i + 1 == pts.count || minFrom[i + 1] > pts[i]
    }

    /// The packets (decode order) that decode `frames` of the sequence at `rate` whose frame 0 is at `start`.
    public func packets(for frames: Range<Int>, rate: Rational, start: Rational) -> Range<Int> {
        precondition(!frames.isEmpty && refusal == nil)
        let slot = { (i: Int) -> Int64 in ((self.timeBase * Rational(self.pts[i]) - start) * rate).rounded }
        let first = Int64(frames.lowerBound), last = Int64(frames.upperBound - 1)
        // The last packet with a slot ≤ last: minFrom is non-decreasing, so the packets after it all lie later.
        var lo = 0, hi = pts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ((timeBase * Rational(minFrom[mid]) - start) * rate).rounded <= last { lo = mid + 1 } else { hi = mid }
        }
        let end = max(lo, 1)
        var begin = 0
        for i in stride(from: end - 1, to: 0, by: -1) where canStart(i) && slot(i) <= first {
            begin = i
            break
        }
        return begin..<end
    }
}

extension PacketIndex {
    /// What cuts would cost for a film of `frames` frames split every `segmentFrames` frames, each cut from the keyframe
    /// at or before its segment's first frame: the streaming path's estimate before the shots are known, so that the
    /// choice between cuts and lossless inputs (`SegmentInputCut.lossless`) is made once, before any segment goes out.
    /// Made as cuts were written, the choice could flip mid-film and restart the job after workers had finished
    /// segments (the fault suite's 1906 film, 0.5-second segments: cuts 1,050,374 bytes for 140 frames against about
    /// 958,720 lossless, found after 2 of 9 segments were done). Shot boundaries add segments the estimate does not
    /// see; the choice is a cost heuristic, not a correctness rule, so a film that turns out somewhat dearer keeps cuts.
    public func estimatedCuts(frames: Int, segmentFrames: Int, rate: Rational, start: Rational) -> (packets: Int, bytes: Int64, frames: Int) {
        guard frames > 0, segmentFrames > 0, refusal == nil, count > 0 else { return (0, 0, 0) }
        var packets = 0, bytes = Int64(0)
        for first in stride(from: 0, to: frames, by: segmentFrames) {
            let range = self.packets(for: first..<min(frames, first + segmentFrames), rate: rate, start: start)
            packets += range.count
            bytes += self.bytes(range)
        }
        return (packets, bytes, frames)
    }
}

extension SegmentInputCut {
    /// Lossless FFV1 inputs cost about this much per pixel of each frame they hold: 0.20 on the head-node benchmark's
    /// 1080p film (122 MB of inputs for about 290 frames, BENCHMARKS.md "The head node"); grainy film costs more, so
    /// this is the low side, and packet cuts are chosen whenever they are smaller than that.
    public static let losslessBytesPerPixel = 0.2
    /// Beyond this many packets per frame they make, the workers would spend more on decoding than a lossless input
    /// saves (a stream with one keyframe makes cuts that grow with the film: its last segment decodes everything).
    public static let maxPacketsPerFrame = 16

    /// Why cutting the source's packets for segments costs more than lossless inputs (nil: cut them). A cut starts at
    /// the keyframe at or before its segment, so keyframes far apart make cuts that hold more packets than frames. The
    /// rule used to be "more than 3 packets per frame", which sent x264's default (a keyframe every 250 frames) with
    /// 2-second segments at 1080p lossless: 122 MB of FFV1 written and sent by the head node instead of about 17 MB of
    /// packets (head-node benchmark, issue 16 item 8). The bytes decide now, with a cap on the decoding.
    public static func lossless(packets: Int, bytes: Int64, frames: Int, pixelsPerFrame: Int) -> String? {
        let losslessBytes = Double(frames) * Double(pixelsPerFrame) * losslessBytesPerPixel
        if packets > maxPacketsPerFrame * frames {
            return "the keyframes are too far apart (the cuts would hold \(packets) packets for \(frames) frames)"
        }
        if Double(bytes) > losslessBytes {
            return "the cuts would hold \(bytes) bytes for \(frames) frames, more than lossless inputs (about \(Int64(losslessBytes)) bytes)"
        }
        return nil
    }
}

/// The cuts of one pass over the source's video packets (decode order): each target's muxer opens at its first
/// packet, gets every packet in its range and is finished at its last. Shared by the one-pass writer
/// (`SegmentInputCut.write`) and the batch writer (`SegmentInputCutWriter`), whose files must be the same bytes.
final class CutFanOut {
    private let input: MediaInput
    private let stream: StreamInfo
    private let byStart: [SegmentInputCut.Target]
    private var next = 0
    private var open: [(target: SegmentInputCut.Target, muxer: CutMuxer)] = []

    init(targets: [SegmentInputCut.Target], input: MediaInput, stream: StreamInfo) {
        self.input = input
        self.stream = stream
        byStart = targets.sorted { $0.packets.lowerBound < $1.packets.lowerBound }
    }

    /// Every target opened and finished.
    var isDone: Bool { next == byStart.count && open.isEmpty }

    /// Packet `n` of the index, in order: opens the cuts that start here, writes it to every cut that holds it and
    /// finishes the cuts that end here.
    func feed(_ n: Int, _ packet: UnsafeMutablePointer<AVPacket>) throws {
        while next < byStart.count, byStart[next].packets.lowerBound == n {
            open.append((byStart[next], try CutMuxer(path: byStart[next].file.path, input: input, stream: stream, header: byStart[next].header)))
            next += 1
        }
        for (target, muxer) in open where target.packets.contains(n) { try muxer.write(packet) }
        for (target, muxer) in open where target.packets.upperBound == n + 1 { try muxer.finish() }
        open.removeAll { $0.target.packets.upperBound <= n + 1 }
    }
}

/// One NUT file being written from stream-copied packets.
final class CutMuxer {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private let stream: UnsafeMutablePointer<AVStream>
    private let sourceTimeBase: AVRational
    private let path: String

    init(path: String, input: MediaInput, stream info: StreamInfo, header: SegmentInputCut.Header) throws {
        self.path = path
        try? FileManager.default.removeItem(atPath: path)
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        guard avformat_alloc_output_context2(&ctx, nil, "nut", path) >= 0, let ctx else {
            throw MediaError.outputFailed(path: path, detail: "this FFmpeg has no NUT muxer")
        }
        context = ctx
        // The same packets give the same bytes (a resumed job writes what an uninterrupted one would).
        ctx.pointee.flags |= AVFMT_FLAG_BITEXACT
        // Timestamps exactly as the source has them: no shift towards zero (the header's start is the film's).
        ctx.pointee.avoid_negative_ts = 0 // AVFMT_AVOID_NEG_TS_DISABLED
        let source = input.stream(info.index)
        sourceTimeBase = source.pointee.time_base
        guard let st = avformat_new_stream(ctx, nil) else { throw MediaError.outputFailed(path: path, detail: "cannot add a video stream") }
        stream = st
        try FFmpeg.check(avcodec_parameters_copy(st.pointee.codecpar, source.pointee.codecpar), "copying the video stream's parameters")
        st.pointee.codecpar.pointee.codec_tag = 0
        st.pointee.time_base = source.pointee.time_base
        st.pointee.avg_frame_rate = FFmpeg.avRational(header.rate)
        st.pointee.r_frame_rate = FFmpeg.avRational(header.rate)
        for (key, value) in header.metadata { av_dict_set(&ctx.pointee.metadata, key, value, 0) }
        try FFmpeg.check(avio_open(&ctx.pointee.pb, path, AVIO_FLAG_WRITE), "creating \(path)")
        try FFmpeg.check(avformat_write_header(ctx, nil), "writing the NUT header of \(path)")
        // NUT picks its own time base; it must divide the source's so that every timestamp is kept exactly.
        let written = st.pointee.time_base
        let ratio = Rational(Int64(sourceTimeBase.num) * Int64(written.den), Int64(sourceTimeBase.den) * Int64(written.num))
        guard ratio.denominator == 1 else {
            throw SegmentCutError.timeBaseNotKept(path: input.info.path, source: "\(sourceTimeBase.num)/\(sourceTimeBase.den)", written: "\(written.num)/\(written.den)")
        }
    }

    deinit {
        if let context {
            avio_closep(&context.pointee.pb)
            avformat_free_context(context)
        }
    }

    func write(_ packet: UnsafeMutablePointer<AVPacket>) throws {
        guard let context, let copy = av_packet_clone(packet) else { throw MediaError.outputFailed(path: path, detail: "out of memory") }
        var doomed: UnsafeMutablePointer<AVPacket>? = copy
        defer { av_packet_free(&doomed) }
        copy.pointee.stream_index = 0
        copy.pointee.pos = -1
        av_packet_rescale_ts(copy, sourceTimeBase, stream.pointee.time_base)
        try FFmpeg.check(av_write_frame(context, copy), "writing a packet to \(path)")
    }

    func finish() throws {
        guard let context else { return }
        try FFmpeg.check(av_write_trailer(context), "writing the trailer of \(path)")
        try FFmpeg.check(avio_closep(&context.pointee.pb), "closing \(path)")
        avformat_free_context(context)
        self.context = nil
    }
}
