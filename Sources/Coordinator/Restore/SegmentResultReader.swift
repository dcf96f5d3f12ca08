import Foundation
import Media
import Shared

/// Reads one segment's result file front to back, one film frame at a time, and checks that it holds
/// exactly the frames of the segment's input range. With an `interior` (a `SegmentResultWriter` file), its lossless
/// stream holds the frames outside the interior, which the reader steps over (`skipInterior`).
final class SegmentResultReader {
    let segment: SegmentIndex
    let frames: Range<Int>
    let interior: Range<Int>?
    /// The film frame the next `next()` returns.
    private(set) var position: Int
    private let url: URL
    private let decoder: VideoDecoder

    init(segment: SegmentIndex, frames: Range<Int>, url: URL, interior: Range<Int>? = nil) throws {
        self.segment = segment
        self.frames = frames
        self.interior = interior
        self.url = url
        position = frames.lowerBound
        let media = try MediaInput(path: url.path)
        guard interior == nil || media.info.streams.count == 2 else {
            throw AssemblyError.segmentShort(segment: segment, file: url.path, expected: frames.count, got: 0)
        }
        let stream = interior == nil ? try media.primaryVideoStream() : media.info.streams[SegmentResultWriter.losslessStream]
        decoder = try VideoDecoder(input: media, stream: stream, threads: 1)
    }

    func next() throws -> VideoPicture {
        if let interior, interior.contains(position) { throw AssemblyError.outOfOrder(segment: segment, at: position, expected: interior.upperBound) }
        let decoded: DecodedFrame?
        do { decoded = position < frames.upperBound ? try decoder.next() : nil }
        catch let error as MediaError { throw AssemblyError.unusable(segment: segment, file: url.path, detail: "\(error)") }
        guard let frame = decoded else {
            throw AssemblyError.segmentShort(segment: segment, file: url.path, expected: frames.count, got: position - frames.lowerBound)
        }
        position += 1
        return frame.picture
    }

    /// Steps over the interior (its frames are copied as packets, not decoded here).
    func skipInterior() {
        if let interior, position == interior.lowerBound { position = interior.upperBound }
    }

    /// Called after the last frame: the file must not hold more.
    func finish() throws {
        if position == frames.upperBound, try decoder.next() != nil {
            throw AssemblyError.segmentLong(segment: segment, file: url.path, expected: frames.count)
        }
    }
}

/// A segment result that does not match its plan; the journal entry is dropped so the next run redoes it.
public enum AssemblyError: Error, CustomStringConvertible, Equatable {
    case segmentShort(segment: SegmentIndex, file: String, expected: Int, got: Int)
    case segmentLong(segment: SegmentIndex, file: String, expected: Int)
    case outOfOrder(segment: SegmentIndex, at: Int, expected: Int)
    /// The result cannot be read or joined (damaged, or encoded with other settings than the film's).
    case unusable(segment: SegmentIndex, file: String, detail: String)

    /// The segment whose result is at fault (its journal entry is dropped, so the next run redoes it).
    public var segment: SegmentIndex {
        switch self {
        case .segmentShort(let s, _, _, _), .segmentLong(let s, _, _), .outOfOrder(let s, _, _), .unusable(let s, _, _): return s
        }
    }

    public var description: String {
        switch self {
        case .segmentShort(let s, let f, let e, let g): return "segment \(s)'s result \(f) ends after \(g) of \(e) frames; run the same command again to redo it"
        case .segmentLong(let s, let f, let e): return "segment \(s)'s result \(f) holds more than its \(e) frames; run the same command again to redo it"
        case .outOfOrder(let s, let a, let e): return "internal error: segment \(s) asked for frame \(e) while at \(a)"
        case .unusable(let s, let f, let d): return "segment \(s)'s result \(f) cannot be used (\(d)); run the same command again to redo it"
        }
    }
}
