import CFFmpeg
import Foundation
import Shared

/// Writes segment cuts (`SegmentInputCut`) a few at a time, as their shots are planned while the film is still being
/// analysed (issue 16 item 1), in one forward pass over the source's packets instead of one pass per batch.
///
/// A batch's cuts may start before where the previous batch stopped reading: a shot's first cut starts at the last
/// keyframe before its first frame, which can lie before the previous shot's last packets. So the packets since the
/// last keyframe a cut can start at are kept (one GOP of compressed packets); a cut starting earlier still — no such
/// keyframe within `keptBytesLimit` — reopens the source and reads from its start (correct, only slower; `reopened`).
public final class SegmentInputCutWriter {
    public let source: MediaSource
    public let index: PacketIndex
    /// Packets kept for cuts that start behind the reading position (a GOP of 1080p H.264 is a few MiB).
    public static let keptBytesLimit = 64 << 20
    /// Times the source was read again from its start (a cut began before the packets kept).
    public private(set) var reopened = 0

    private var input: MediaInput?
    private var stream: StreamInfo?
    private var position = 0
    private var kept: [UnsafeMutablePointer<AVPacket>?] = []
    private var keptStart: Int?
    private var keptBytes = 0
    private var packet: UnsafeMutablePointer<AVPacket>?

    public init(source: MediaSource, index: PacketIndex) throws {
        self.source = source
        self.index = index
        guard let packet = av_packet_alloc() else { throw MediaError.ffmpeg(operation: "av_packet_alloc", code: lumiere_averror_enomem(), message: "out of memory") }
        self.packet = packet
    }

    deinit {
        dropKept()
        av_packet_free(&packet)
    }

    /// Writes every target, each completely. Targets of one call may overlap and come in any order.
    public func write(_ targets: [SegmentInputCut.Target]) throws {
        guard let first = targets.map(\.packets.lowerBound).min() else { return }
        if input == nil || (first < position && !(keptStart.map { $0 <= first } ?? false)) { try reopen() }
        guard let input, let stream, let packet else { return }
        let cuts = CutFanOut(targets: targets, input: input, stream: stream)
        // Cuts that start behind the reading position: from the packets kept.
        if first < position, let start = keptStart {
            for n in first..<position { try cuts.feed(n, kept[n - start]!) }
        }
        while !cuts.isDone {
            guard try input.readPacket(into: packet) else { break }
            defer { av_packet_unref(packet) }
            guard Int(packet.pointee.stream_index) == stream.index else { continue }
            let n = position
            guard n < index.count, packet.pointee.pts == index.pts[n] else {
                throw SegmentCutError.sourceChanged(path: input.info.path, detail: "packet \(n) differs from the index made before")
            }
            keep(n, packet)
            position += 1
            if n >= first { try cuts.feed(n, packet) }
        }
        guard cuts.isDone else {
            throw SegmentCutError.sourceChanged(path: input.info.path, detail: "it ended after \(position) video packets, before every cut was written")
        }
    }

    private func reopen() throws {
        if input != nil { reopened += 1 }
        dropKept()
        let input = try MediaInput(source: source)
        let stream = try input.primaryVideoStream()
        for i in 0..<input.streamCount where i != stream.index { input.stream(i).pointee.discard = AVDISCARD_ALL }
        self.input = input
        self.stream = stream
        position = 0
    }

    /// Keeps packet `n`: from a keyframe a cut can start at, the kept packets start again there.
    private func keep(_ n: Int, _ p: UnsafeMutablePointer<AVPacket>) {
        if index.canStart(n) || n == 0 {
            dropKept()
            keptStart = n
        }
        guard keptStart != nil else { return }
        keptBytes += Int(p.pointee.size)
        if keptBytes > SegmentInputCutWriter.keptBytesLimit {
            dropKept() // a cut that needs them reopens the source
            return
        }
        guard let copy = av_packet_clone(p) else { dropKept(); return }
        kept.append(copy)
    }

    private func dropKept() {
        for i in kept.indices { av_packet_free(&kept[i]) }
        kept = []
        keptStart = nil
        keptBytes = 0
    }
}
