import Foundation
import Shared

/// What to read as the film: a file, or an image sequence (how film scans arrive: `scan/frame_%06d.dpx`), and
/// which of its video streams. One value from the command line to every reader of the source.
public struct MediaSource: Sendable, Codable, Equatable {
    /// A file, or a sequence pattern with one `%d` / `%0Nd` field (FFmpeg's image2 convention).
    public var path: String
    /// Frames per second of an image sequence (`--input-rate`); files carry their own rate.
    public var sequenceRate: Rational?
    /// The video stream to restore, as FFmpeg numbers streams (`probe` lists them); nil: FFmpeg's best pick.
    public var videoStream: Int?
    /// What to do with interlaced video (`--interlaced`): deinterlaced as it is decoded unless told otherwise.
    public var interlacing: InterlaceMode
    /// Only part of the film (`restore --start/--duration/--frames`): every reader presents just these frames of the
    /// constant-rate sequence, and a writer carrying the audio keeps just their time.
    public var trim: Trim?

    public init(path: String, sequenceRate: Rational? = nil, videoStream: Int? = nil, interlacing: InterlaceMode = .auto, trim: Trim? = nil) {
        self.path = path
        self.sequenceRate = sequenceRate
        self.videoStream = videoStream
        self.interlacing = interlacing
        self.trim = trim
    }

    /// A range of the constant-rate sequence: `count` frames (nil: to the end) from frame `first`, at `rate` (the
    /// sequence's rate, so that the cut's time is exact: `offset`, `duration`).
    public struct Trim: Sendable, Codable, Equatable {
        public var first: Int64
        public var count: Int64?
        public var rate: Rational

        public init(first: Int64, count: Int64?, rate: Rational) {
            self.first = first
            self.count = count
            self.rate = rate
        }

        /// Where the kept part starts, from the film's first frame.
        public var offset: Rational { Rational(first) / rate }
        public var duration: Rational? { count.map { Rational($0) / rate } }

        /// The frames at `start` (the frame shown then) for `duration` (rounded to whole frames) or `frames`, at `rate`.
        public init(start: Double, duration: Double?, frames: Int64?, rate: Rational) {
            let perSecond = rate.doubleValue
            first = Int64((start * perSecond + 1e-9).rounded(.down))
            count = frames ?? duration.map { max(1, Int64(($0 * perSecond).rounded())) }
            self.rate = rate
        }
    }

    /// A sequence pattern: its file name has one `%d` or `%0Nd` (N ≤ 9) field.
    public var isSequence: Bool { MediaSource.numberField(in: URL(fileURLWithPath: path).lastPathComponent) != nil }

    /// The `%…d` field of a sequence file name: its range in `name` and its zero-padded width (0: not padded).
    static func numberField(in name: String) -> (range: Range<String.Index>, width: Int)? {
        guard let percent = name.firstIndex(of: "%") else { return nil }
        var i = name.index(after: percent)
        var digits = ""
        while i < name.endIndex, name[i].isNumber { digits.append(name[i]); i = name.index(after: i) }
        guard i < name.endIndex, name[i] == "d", digits.count <= 2, !(name[name.index(after: i)...].contains("%")) else { return nil }
        if !digits.isEmpty, !digits.hasPrefix("0") { return nil }
        return (percent..<name.index(after: i), Int(digits) ?? 0)
    }

    /// The files of a sequence in frame order, with their numbers (at most `limit`; more is refused).
    public func sequenceFiles(limit: Int = 10_000_000) throws -> [(number: Int, path: String)] {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        guard let field = MediaSource.numberField(in: name) else { return [] }
        let directory = url.deletingLastPathComponent()
        let prefix = String(name[..<field.range.lowerBound]), suffix = String(name[field.range.upperBound...])
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            throw MediaError.fileNotFound(path: directory.path)
        }
        var files: [(Int, String)] = []
        for candidate in names where candidate.hasPrefix(prefix) && candidate.hasSuffix(suffix) && candidate.count > prefix.count + suffix.count {
            let digits = candidate.dropFirst(prefix.count).dropLast(suffix.count)
            guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let number = Int(digits) else { continue }
            if field.width > 0 ? digits.count != max(field.width, String(number).count) : digits.first == "0" && digits.count > 1 { continue }
            files.append((number, directory.appendingPathComponent(candidate).path))
            if files.count > limit { throw MediaError.invalidSetting("\(path) matches more than \(limit) files") }
        }
        return files.sorted { $0.0 < $1.0 }
    }
}
