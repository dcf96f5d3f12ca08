import Foundation
import Media
import Shared

/// Writes each segment's input frames (a half-open range of the constant-rate sequence) to its own lossless
/// FFV1 file, in one sequential decode of the source, and fingerprints every segment's frames on the way
/// (`FrameHash`): the fingerprint is what makes a finished segment reusable on resume. A target without a file is
/// only fingerprinted (a finished segment being checked). Overlapping segments each get the shared frames.
struct SegmentInputWriter {
    struct Target {
        var id: UInt64
        var frames: Range<Int>
        /// nil: fingerprint only.
        var file: URL?
    }

    struct Pass {
        /// Frames in the source sequence.
        var frames: Int
        /// Each target's `FrameHash.combined` fingerprint.
        var fingerprints: [UInt64: String]
    }

    /// Decodes `source` once, fills every target file and fingerprints every target.
    static func write(source: MediaSource, rate: Rational, targets: [Target], progress: (Int) throws -> Void) throws -> Pass {
        let reader = try ConstantRateReader(source: source, rate: rate)
        var open: [UInt64: MediaWriter] = [:]
        var hashes: [UInt64: [FrameHash]] = [:]
        var fingerprints: [UInt64: String] = [:]
        let byStart = targets.sorted { $0.frames.lowerBound < $1.frames.lowerBound }
        var nextTarget = 0
        var active: [Target] = []
        var index = 0
        let converter = PixelConverter()
        while let frame = try reader.next() {
            while nextTarget < byStart.count, byStart[nextTarget].frames.lowerBound <= index {
                let t = byStart[nextTarget]
                if let file = t.file {
                    try? FileManager.default.removeItem(at: file)
                    open[t.id] = try MediaWriter(path: file.path, video: .init(
                        size: PixelSize(width: frame.picture.width, height: frame.picture.height), rate: rate,
                        encoding: VideoEncoding(codec: .ffv1, pixelFormat: ffv1Format(for: frame.picture.pixelFormat)),
                        color: frame.picture.color, threads: 1))
                }
                active.append(t)
                nextTarget += 1
            }
            let hash = active.isEmpty ? nil : try FrameHash(frame.picture)
            for t in active where t.frames.contains(index) {
                hashes[t.id, default: []].append(hash!)
                if let writer = open[t.id] {
                    var picture = frame.picture
                    if picture.pixelFormat != writer.pixelFormat {
                        picture = try (try? picture.relabeled(as: writer.pixelFormat))
                            ?? converter.picture(from: converter.rgbImage(from: picture), pixelFormat: writer.pixelFormat, color: picture.color)
                    }
                    try writer.write(picture)
                }
                if index == t.frames.upperBound - 1 {
                    try open[t.id]?.finish()
                    open[t.id] = nil
                    fingerprints[t.id] = FrameHash.combined(hashes.removeValue(forKey: t.id) ?? [])
                }
            }
            active.removeAll { $0.frames.upperBound <= index + 1 }
            index += 1
            try progress(index)
        }
        for (_, writer) in open { try writer.finish() }
        return Pass(frames: index, fingerprints: fingerprints)
    }

    /// The source's frames exactly, depth and chroma included (rgb48 → gbrp16le, not 8-bit yuv444p as before).
    static func ffv1Format(for native: String) -> String { PixelFormats.ffv1Lossless(for: native) }
}
