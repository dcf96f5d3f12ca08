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

    public init(path: String, sequenceRate: Rational? = nil, videoStream: Int? = nil, interlacing: InterlaceMode = .auto) {
        self.path = path
        self.sequenceRate = sequenceRate
        self.videoStream = videoStream
        self.interlacing = interlacing
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
