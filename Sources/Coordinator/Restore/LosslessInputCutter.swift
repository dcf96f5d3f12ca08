import Foundation
import Media
import Shared

/// Lossless segment inputs while the film streams (issue 16 item 1), for sources whose inputs cannot be the source's
/// packets (an image sequence, interlaced video the coordinator deinterlaces, a codec not proven to cut exactly): each
/// segment's frames, written as the classic split pass writes them (`SegmentInputWriter`: the same FFV1 files, byte for
/// byte), the moment its shot closes and the input gate admits it.
///
/// The frames come from a decode of its own that trails the analysis's, forward only: a shot's segments are planned
/// only once its cut is confirmed, and a shot may be minutes long, so the analysis's frames cannot wait in memory for
/// it (a spool file of the open shot would cost an extra lossless encode and decode of every frame). This is the same
/// second decode the classic split pass made, now running beside the farm instead of before it. The last `keep` frames
/// are held, so a segment that starts inside its predecessor (the overlap, the restoration context) is written without
/// decoding again; a target that starts earlier still reopens the source (counted in `reopened`).
final class LosslessInputCutter {
    private let source: MediaSource
    private let rate: Rational
    private let keep: Int
    private var reader: ConstantRateReader?
    /// Frames the reader has decoded.
    private var position = 0
    /// The last frames decoded: `position - recent.count ..< position`.
    private var recent: [VideoPicture] = []
    private let converter = PixelConverter()
    /// Times the source was decoded again from its start.
    private(set) var reopened = 0
    /// Inputs written, and their bytes.
    private(set) var written = 0
    private(set) var bytes: Int64 = 0

    /// `keep`: frames two consecutive inputs may share (overlap plus both sides' restoration context).
    init(source: MediaSource, rate: Rational, keep: Int) {
        self.source = source
        self.rate = rate
        self.keep = max(0, keep)
    }

    /// Writes every target with a file, in order of its first frame.
    func write(_ targets: [SegmentInputWriter.Target]) throws {
        for target in targets.sorted(by: { $0.frames.lowerBound < $1.frames.lowerBound }) {
            guard let file = target.file else { continue }
            try write(frames: target.frames, to: file)
        }
    }

    private func write(frames: Range<Int>, to file: URL) throws {
        if reader == nil || frames.lowerBound < position - recent.count {
            if reader != nil { reopened += 1 }
            reader = try ConstantRateReader(source: source, rate: rate)
            position = 0
            recent = []
        }
        var writer: MediaWriter?
        func put(_ picture: VideoPicture) throws {
            if writer == nil { writer = try SegmentInputWriter.losslessWriter(file: file, first: picture, rate: rate) }
            try SegmentInputWriter.writeLossless(picture, to: writer!, converter: converter)
        }
        do {
            // The held frames it needs (none when it starts at or after the reading position: a shot's first segment,
            // or the next one to do after segments a resumed job reuses).
            let recentStart = position - recent.count
            let held = max(frames.lowerBound, recentStart)..<max(max(frames.lowerBound, recentStart), min(frames.upperBound, position))
            for n in held { try put(recent[n - recentStart]) }
            while position < frames.upperBound {
                guard let frame = try reader!.next() else {
                    throw SegmentCutError.sourceChanged(path: source.path, detail: "it ended after \(position) frames, before segment frames \(frames) were written")
                }
                position += 1
                recent.append(frame.picture)
                if recent.count > keep { recent.removeFirst(recent.count - keep) }
                if position - 1 >= frames.lowerBound { try put(frame.picture) }
            }
            try writer?.finish()
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
        written += 1
        bytes += (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64) ?? 0
    }
}
