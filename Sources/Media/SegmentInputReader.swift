import CFFmpeg
import Foundation
import Shared

/// A worker's segment input, whichever kind the coordinator sent: a packet cut (`SegmentInputCut`: the source's own
/// packets, decoded here and narrowed to the segment's frames of the film's constant-rate sequence) or a lossless
/// file (every frame is the segment's). The kind is read from the file's metadata, so the protocol is the same.
public final class SegmentInputReader {
    /// The segment's frame rate (the film's constant rate).
    public let rate: Rational
    /// The cut's header; nil for a lossless input.
    public let cut: SegmentInputCut.Header?
    private let path: String
    private let decoder: VideoDecoder
    private var normalizer: ConstantRateNormalizer<DecodedFrame>?
    private var ready: [DecodedFrame] = []
    private var ended = false
    private var hashes: [FrameHash] = []
    private var firstSlot: Int64?
    /// Frames handed out so far.
    public private(set) var framesRead = 0

    public init(path: String) throws {
        self.path = path
        let input = try MediaInput(path: path)
        let stream = try input.primaryVideoStream()
        // Our own intermediates are progressive: a source that needs deinterlacing never travels as a cut.
        decoder = try VideoDecoder(input: input, stream: stream, threads: 1)
        cut = try SegmentInputCut.Header(metadata: input.metadata, path: path)
        if let cut {
            rate = cut.rate
            normalizer = ConstantRateNormalizer(rate: cut.rate, start: cut.start)
        } else {
            rate = stream.baseFrameRate ?? stream.averageFrameRate ?? Rational(25)
        }
    }

    /// The next frame of the segment, or nil at its end. A cut that does not give exactly its frames (or whose
    /// frames hash otherwise than the coordinator's decode) throws `SegmentCutError.framesDiffer`.
    public func next() throws -> DecodedFrame? {
        guard let cut else {
            let frame = try decoder.next()
            if frame != nil { framesRead += 1 }
            return frame
        }
        let first = Int64(cut.frames.lowerBound), last = Int64(cut.frames.upperBound - 1)
        while ready.isEmpty && !ended {
            let before = normalizer!.nextSlot
            let made: [DecodedFrame]
            if let frame = try decoder.next() {
                if let keyframe = cut.keyframeTime, frame.time < keyframe { continue }
                made = normalizer!.push(frame, time: frame.time, duration: frame.duration.map { decoder.stream.timeBase * Rational($0) })
            } else {
                made = normalizer!.finish(through: last)
                ended = true
            }
            guard !made.isEmpty else { continue }
            // Slots before..<before+made.count are final now; the wanted ones are kept.
            if firstSlot == nil {
                firstSlot = before
                if before > first {
                    throw SegmentCutError.framesDiffer(path: path, detail: "its first frame is frame \(before), after the first wanted frame \(first)")
                }
            }
            let lo = Int(max(0, first - before)), hi = Int(min(Int64(made.count), last + 1 - before))
            if lo < hi { ready = Array(made[lo..<hi]) }
            if before + Int64(made.count) > last { ended = true }
        }
        guard !ready.isEmpty else {
            try checkComplete(cut)
            return nil
        }
        let frame = ready.removeFirst()
        if cut.fingerprint != nil { hashes.append(try FrameHash(frame.picture)) }
        framesRead += 1
        return frame
    }

    private func checkComplete(_ cut: SegmentInputCut.Header) throws {
        guard framesRead == cut.frames.count else {
            throw SegmentCutError.framesDiffer(path: path, detail: "it gave \(framesRead) of the \(cut.frames.count) frames \(cut.frames)")
        }
        if let expected = cut.fingerprint {
            let got = FrameHash.combined(hashes)
            guard got == expected else { throw SegmentCutError.framesDiffer(path: path, detail: "its frames hash to \(got), not \(expected)") }
        }
    }
}

extension MediaInput {
    /// The container's own metadata (global tags).
    var metadata: [String: String] {
        var result: [String: String] = [:]
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let e = av_dict_get(context.pointee.metadata, "", entry, AV_DICT_IGNORE_SUFFIX) {
            result[String(cString: e.pointee.key)] = String(cString: e.pointee.value)
            entry = e
        }
        return result
    }
}
