import Shared

/// Finds near-identical consecutive frames (a frame printed twice, a stalled projector, telecine repeats).
///
/// Score of two frames: luma thumbnails (box-averaged to at most 160 pixels wide, which averages film grain away),
/// their difference with its mean removed (so flicker — a whole-frame brightness change — does not count as a
/// change), and the 95th percentile of its magnitude (so a moving detail anywhere in the picture does count).
/// Measured (docs/interpolation.md): bit-identical repeats score 0; the slowest real motion in our footage scores
/// 0.0029 (a slow pan in trailer_bbb) and 0.0043 (balle1 at 187 fps); the 1906 film's grain alone scores ≥ 0.0138.
public enum DuplicateDetector {
    /// Below this score two frames are one picture. Catches digital repeats, not the slowest real motion.
    public static let defaultThreshold = 0.002
    public static let thumbnailWidth = 160

    public struct Thumbnail: Sendable, Equatable {
        public let width: Int
        public let height: Int
        public let luma: [Float]
    }

    public static func thumbnail(_ image: RGBImage) -> Thumbnail {
        let block = max(1, (image.width + thumbnailWidth - 1) / thumbnailWidth)
        let w = max(1, image.width / block), h = max(1, image.height / block)
        var luma = [Float](repeating: 0, count: w * h)
        let plane = image.planeCount
        image.pixels.withUnsafeBufferPointer { p in
            let scale = 1 / Float(block * block)
            for ty in 0..<h {
                for tx in 0..<w {
                    var sum: Float = 0
                    for y in (ty * block)..<min(image.height, (ty + 1) * block) {
                        let row = y * image.width
                        for x in (tx * block)..<min(image.width, (tx + 1) * block) {
                            let i = row + x
                            sum += 0.299 * p[i] + 0.587 * p[plane + i] + 0.114 * p[2 * plane + i]
                        }
                    }
                    luma[ty * w + tx] = sum * scale
                }
            }
        }
        return Thumbnail(width: w, height: h, luma: luma)
    }

    /// 0 for identical pictures, larger the more they differ (values are on the 0…1 pixel scale). Thumbnails of
    /// different sizes (never two frames of one segment) score as different.
    public static func score(_ a: Thumbnail, _ b: Thumbnail) -> Double {
        guard a.width == b.width, a.height == b.height, !a.luma.isEmpty else { return .infinity }
        var difference = [Float](repeating: 0, count: a.luma.count)
        var mean: Double = 0
        for i in 0..<difference.count {
            difference[i] = a.luma[i] - b.luma[i]
            mean += Double(difference[i])
        }
        let offset = Float(mean / Double(difference.count))
        var magnitudes = difference.map { abs($0 - offset) }
        magnitudes.sort()
        let rank = min(magnitudes.count - 1, Int((Double(magnitudes.count - 1) * 0.95).rounded()))
        return Double(magnitudes[rank])
    }
}
