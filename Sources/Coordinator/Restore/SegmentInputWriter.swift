import Foundation
import Logging
import Media
import Shared

/// Writes each segment's input (a half-open range of the constant-rate sequence) and fingerprints every segment's
/// frames (`FrameHash`): the fingerprint is what makes a finished segment reusable on resume. A target without a
/// file is only fingerprinted (a finished segment being checked). Overlapping segments each get the shared frames.
///
/// An input is the source's own packets where the stream can be cut exactly (`SegmentInputCut`): one decode pass
/// for the fingerprints, then one demux pass copying packets, with no encode; the worker decodes them itself and
/// checks the fingerprint. Otherwise — interlaced video the coordinator deinterlaces, an image sequence, a codec not
/// proven to cut exactly, missing timestamps — each input is the frames themselves as a lossless FFV1 file, written
/// in the decode pass, and `log` says why.
struct SegmentInputWriter {
    struct Target {
        var segment: SegmentIndex
        var frames: Range<Int>
        /// nil: fingerprint only.
        var file: URL?
    }

    struct Pass {
        /// Frames in the source sequence.
        var frames: Int
        /// Each target's `FrameHash.combined` fingerprint.
        var fingerprints: [SegmentIndex: String]
    }

    /// Decodes `source` once, fingerprints every target and fills every target file.
    static func write(source: MediaSource, rate: Rational, targets: [Target], logger: Logger? = nil,
                      progress: (Int) throws -> Void) throws -> Pass {
        func fallBack(_ why: String) { logger?.notice("segment inputs are lossless FFV1 files, not the source's packets: \(why)") }
        let reader = try ConstantRateReader(source: source, rate: rate)
        var index: PacketIndex?
        if targets.contains(where: { $0.file != nil }) {
            switch try cutIndex(source: source, reader: reader) {
            case .success(let packets): index = packets
            case .failure(let why): fallBack(why.reason)
            }
        }
        var pass = try decode(reader: reader, rate: rate, targets: targets, writeFiles: index == nil, progress: progress)
        if index != nil, let why = SegmentInputCut.hazard(after: reader) {
            // Found only by decoding: a second pass writes the frames themselves.
            fallBack(why)
            return try decode(reader: ConstantRateReader(source: source, rate: rate), rate: rate, targets: targets, writeFiles: true, progress: progress)
        }
        guard let index else { return pass }
        let cuts = targets.compactMap { t -> SegmentInputCut.Target? in
            // A target without a fingerprint was not decoded to its end: the caller finds the source changed.
            guard let file = t.file, pass.fingerprints[t.segment] != nil else { return nil }
            let header = SegmentInputCut.Header(rate: rate, start: reader.startTime, frames: t.frames, fingerprint: pass.fingerprints[t.segment])
            return SegmentInputCut.Target(file: file, index: index, packets: index.packets(for: t.frames, rate: rate, start: reader.startTime), header: header)
        }
        // Keyframes far apart (or only one, as in an H.264 stream of open GOPs) make cuts much longer than their
        // segments: beyond what lossless inputs would cost (`SegmentInputCut.lossless`), those are written instead.
        let packets = cuts.reduce(0) { $0 + $1.packets.count }, frames = cuts.reduce(0) { $0 + $1.header.frames.count }
        let payload = cuts.reduce(Int64(0)) { $0 + index.bytes($1.packets) }
        if let why = SegmentInputCut.lossless(packets: packets, bytes: payload, frames: frames, pixelsPerFrame: reader.stream.pixelCount) {
            fallBack(why)
            return try decode(reader: ConstantRateReader(source: source, rate: rate), rate: rate, targets: targets, writeFiles: true, progress: progress)
        }
        do {
            try SegmentInputCut.write(source: source, index: index, targets: cuts) { _ in try progress(pass.frames) }
            let bytes = cuts.reduce(Int64(0)) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1.file.path)[.size] as? Int64) ?? 0) }
            logger?.info("segment inputs: \(cuts.count) cuts of the source's \(index.codec) packets, \(bytes) bytes (\(packets) packets for \(frames) frames)")
        } catch where !StopSignal.isStop(error) {
            // Found only while writing (the NUT muxer's time base, a packet it refuses): the decode pass is repeated,
            // writing frames. A disk that is full fails that pass too, with its own error.
            fallBack("\(error)")
            for cut in cuts { try? FileManager.default.removeItem(at: cut.file) }
            pass = try decode(reader: ConstantRateReader(source: source, rate: rate), rate: rate, targets: targets, writeFiles: true, progress: progress)
        }
        return pass
    }

    struct Refusal: Error { var reason: String }

    /// The source's packet index when its segments can travel as packet cuts, else why not.
    static func cutIndex(source: MediaSource, reader: ConstantRateReader) throws -> Result<PacketIndex, Refusal> {
        if source.isSequence { return .failure(Refusal(reason: "an image sequence has no packets to copy")) }
        if let fields = try reader.fieldPlan() {
            return .failure(Refusal(reason: "the video is interlaced and the coordinator deinterlaces it (\(fields.filter))"))
        }
        let index = try PacketIndex.scan(source: source)
        if let why = index.refusal { return .failure(Refusal(reason: why)) }
        return .success(index)
    }

    /// The decode pass: fingerprints every target, and with `writeFiles` fills its lossless file.
    private static func decode(reader: ConstantRateReader, rate: Rational, targets: [Target], writeFiles: Bool,
                               progress: (Int) throws -> Void) throws -> Pass {
        var open: [SegmentIndex: MediaWriter] = [:]
        var hashes: [SegmentIndex: [FrameHash]] = [:]
        var fingerprints: [SegmentIndex: String] = [:]
        let byStart = targets.sorted { $0.frames.lowerBound < $1.frames.lowerBound }
        var nextTarget = 0
        var active: [Target] = []
        var index = 0
        let converter = PixelConverter()
        while let frame = try reader.next() {
            while nextTarget < byStart.count, byStart[nextTarget].frames.lowerBound <= index {
                let t = byStart[nextTarget]
                if writeFiles, let file = t.file { open[t.segment] = try losslessWriter(file: file, first: frame.picture, rate: rate) }
                active.append(t)
                nextTarget += 1
            }
            let hash = active.isEmpty ? nil : try FrameHash(frame.picture)
            for t in active where t.frames.contains(index) {
                hashes[t.segment, default: []].append(hash!)
                if let writer = open[t.segment] { try writeLossless(frame.picture, to: writer, converter: converter) }
                if index == t.frames.upperBound - 1 {
                    try open[t.segment]?.finish()
                    open[t.segment] = nil
                    fingerprints[t.segment] = FrameHash.combined(hashes.removeValue(forKey: t.segment) ?? [])
                }
            }
            active.removeAll { $0.frames.upperBound <= index + 1 }
            index += 1
            try progress(index)
        }
        for (_, writer) in open { try writer.finish() }
        return Pass(frames: index, fingerprints: fingerprints)
    }

    /// A lossless input file (FFV1, one thread: the same bytes on every run), for frames like `first`.
    static func losslessWriter(file: URL, first: VideoPicture, rate: Rational) throws -> MediaWriter {
        try? FileManager.default.removeItem(at: file)
        return try MediaWriter(path: file.path, video: .init(
            size: PixelSize(width: first.width, height: first.height), rate: rate,
            encoding: VideoEncoding(codec: .ffv1, pixelFormat: ffv1Format(for: first.pixelFormat)),
            color: first.color, threads: 1))
    }

    /// One frame of a lossless input, in the file's pixel format.
    static func writeLossless(_ picture: VideoPicture, to writer: MediaWriter, converter: PixelConverter) throws {
        var picture = picture
        if picture.pixelFormat != writer.pixelFormat {
            picture = try (try? picture.relabeled(as: writer.pixelFormat))
                ?? converter.picture(from: converter.rgbImage(from: picture), pixelFormat: writer.pixelFormat, color: picture.color)
        }
        try writer.write(picture)
    }

    /// The source's frames exactly, depth and chroma included (rgb48 → gbrp16le, not 8-bit yuv444p as before).
    static func ffv1Format(for native: String) -> String { PixelFormats.ffv1Lossless(for: native) }
}
