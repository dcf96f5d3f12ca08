import Foundation
import Media
import Processors
import Shared

/// `compare --video FILE`: a few seconds from the first `--at` time with every variant side by side, one row of
/// `ContactSheet` cells a frame, labelled as on the sheet (the frame number moving), H.264 at the source's rate —
/// to judge flicker, grain and temporal stability, which a still cannot show. No sound: it is for looking.
struct SideBySideVideo {
    /// Where the writer writes (`OutputTarget.writePath`, renamed into place by the caller), and the name the user gave.
    var path: String
    var name: String
    var seconds: Double

    /// The longest clip: every frame costs every variant's time (seconds a frame with a model at ×4).
    static let maxSeconds = 10.0

    func write(source: MediaSource, threads: Int, start: Int, variants: [CompareVariant], renderers: [SegmentRenderer], costs: [Double],
               crop: PixelRect, sourceSize: PixelSize, note: (String) -> Void) throws {
        let rate = try ConstantRateReader(source: source, threads: threads).rate
        let count = max(1, Int((seconds * rate.doubleValue).rounded()))
        // A trim from `start`: the reader seeks there rather than decoding the film up to it.
        var part = source
        part.trim = MediaSource.Trim(first: Int64(start), count: Int64(count), rate: rate)
        let reader = try ConstantRateReader(source: part, rate: rate, threads: threads)
        let converter = PixelConverter()
        var writer: MediaWriter?
        var index = start, written = 0
        while written < count, let frame = try reader.next() {
            defer { index += 1 }
            let image = try converter.rgbImage(from: frame.picture)
            var cells: [[UInt8]] = [], labels: [[String]] = []
            let moment = ModelComparison.Moment(time: Double(index) / rate.doubleValue, frame: index, t: 0)
            for (i, renderer) in renderers.enumerated() {
                cells.append(ContactSheet.rgb24(try renderer.picture(image), crop: crop))
                labels.append(ModelComparison.label(variant: variants[i], recipe: renderer.recipe, source: sourceSize, cost: costs[i], threads: threads,
                                                    moment: moment))
            }
            let layout = ContactSheet(panel: PixelSize(width: crop.width, height: crop.height), columns: cells.count, rows: 1, labelLines: 4,
                                      longestLine: labels.joined().map(\.count).max() ?? 1)
            var pixels = layout.compose([cells])
            try TextOverlay.draw(labels.enumerated().flatMap { layout.labels($0.element, row: 0, column: $0.offset) }, on: &pixels,
                                 width: layout.size.width, height: layout.size.height, font: try TextOverlay.font())
            // H.264 in 4:2:0 needs even sides: one more column or row of the ground where the sheet's is odd.
            let size = PixelSize(width: layout.size.width + layout.size.width % 2, height: layout.size.height + layout.size.height % 2)
            let picture = try converter.picture(from: SideBySideVideo.image(pixels, size: layout.size, canvas: size), pixelFormat: "yuv420p",
                                                color: .defaultFor(height: size.height))
            if writer == nil {
                writer = try MediaWriter(path: path, video: .init(size: size, rate: rate, encoding: VideoEncoding(codec: .h264, crf: 18, preset: "medium", pixelFormat: "yuv420p"),
                                                                  color: .defaultFor(height: size.height), threads: threads))
            }
            try writer?.write(picture)
            written += 1
        }
        try writer?.finish()
        note("wrote \(name): \(written) frames at \(rate) fps, \(variants.count) variant(s) side by side")
    }

    /// Interleaved RGB24 of `size` as float RGB on a `canvas` at least as large (the rest the sheet's ground).
    static func image(_ rgb: [UInt8], size: PixelSize, canvas: PixelSize) -> RGBImage {
        var image = RGBImage(width: canvas.width, height: canvas.height)
        let plane = canvas.pixelCount
        for y in 0..<canvas.height {
            for x in 0..<canvas.width {
                for c in 0..<3 {
                    let value = x < size.width && y < size.height ? rgb[(y * size.width + x) * 3 + c] : ContactSheet.ground[c]
                    image.pixels[c * plane + y * canvas.width + x] = Float(value) / 255
                }
            }
        }
        return image
    }
}
