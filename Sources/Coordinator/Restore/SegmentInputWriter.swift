import Foundation
import Media
import Shared

/// Writes each segment's input frames (a half-open range of the constant-rate sequence) to its own lossless
/// FFV1 file, in one sequential decode of the source. Overlapping segments each get the shared frames.
struct SegmentInputWriter {
    struct Target {
        var id: UInt64
        var frames: Range<Int>
        var file: URL
    }

    /// Decodes `source` once and fills every target file. Returns the number of frames in the source sequence.
    /// The frames are deinterlaced here as in the analysis pass (`interlacing`), so workers get progressive pictures.
    static func write(source: String, rate: Rational, interlacing: InterlaceMode, targets: [Target], progress: (Int) -> Void) throws -> Int {
        let reader = try ConstantRateReader(path: source, rate: rate, interlacing: interlacing)
        var open: [UInt64: MediaWriter] = [:]
        let byStart = targets.sorted { $0.frames.lowerBound < $1.frames.lowerBound }
        var nextTarget = 0
        var index = 0
        let converter = PixelConverter()
        while let frame = try reader.next() {
            while nextTarget < byStart.count, byStart[nextTarget].frames.lowerBound <= index {
                let t = byStart[nextTarget]
                try? FileManager.default.removeItem(at: t.file)
                open[t.id] = try MediaWriter(path: t.file.path, video: .init(
                    size: PixelSize(width: frame.picture.width, height: frame.picture.height), rate: rate,
                    encoding: VideoEncoding(codec: .ffv1, pixelFormat: ffv1Format(for: frame.picture.pixelFormat)),
                    color: frame.picture.color, threads: 1))
                nextTarget += 1
            }
            for t in byStart where t.frames.contains(index) {
                guard let writer = open[t.id] else { continue }
                var picture = frame.picture
                if picture.pixelFormat != writer.pixelFormat {
                    picture = try (try? picture.relabeled(as: writer.pixelFormat))
                        ?? converter.picture(from: converter.rgbImage(from: picture), pixelFormat: writer.pixelFormat, color: picture.color)
                }
                try writer.write(picture)
                if index == t.frames.upperBound - 1 {
                    try writer.finish()
                    open[t.id] = nil
                }
            }
            index += 1
            progress(index)
        }
        for (_, writer) in open { try writer.finish() }
        return index
    }

    /// The source's frames exactly, depth and chroma included (rgb48 → gbrp16le, not 8-bit yuv444p as before).
    static func ffv1Format(for native: String) -> String { PixelFormats.ffv1Lossless(for: native) }
}
