import Shared

/// A small grey picture of a frame (luma in [0, 1]), what shot detection and seam measurement look at:
/// downscaled so that noise and grain average out and a whole film can be scanned quickly.
public struct LumaThumbnail: Sendable, Equatable {
    public static let defaultWidth = 64
    public static let defaultHeight = 36

    public let width: Int
    public let height: Int
    /// Row-major luma, `width * height` values in [0, 1].
    public let values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(width > 0 && height > 0 && values.count == width * height, "LumaThumbnail: \(values.count) values for \(width)x\(height)")
        self.width = width
        self.height = height
        self.values = values
    }

    /// Area-averaged luma (BT.709 weights on the stored values) of `image`, at `width`x`height`.
    /// Every source pixel contributes to the output cell it falls in, so no frame detail is skipped.
    public init(image: RGBImage, width: Int = LumaThumbnail.defaultWidth, height: Int = LumaThumbnail.defaultHeight) {
        let w = min(width, image.width), h = min(height, image.height)
        var sums = [Float](repeating: 0, count: w * h)
        var counts = [Float](repeating: 0, count: w * h)
        let plane = image.planeCount
        image.pixels.withUnsafeBufferPointer { p in
            for y in 0..<image.height {
                let ty = y * h / image.height
                let row = y * image.width
                for x in 0..<image.width {
                    let i = row + x
                    let luma = 0.2126 * p[i] + 0.7152 * p[plane + i] + 0.0722 * p[2 * plane + i]
                    let cell = ty * w + x * w / image.width
                    sums[cell] += luma
                    counts[cell] += 1
                }
            }
        }
        self.init(width: w, height: h, values: zip(sums, counts).map { min(max($0 / $1, 0), 1) })
    }

    /// Bytes of 8-bit grey (e.g. `ffmpeg -f rawvideo -pix_fmt gray`), as a thumbnail.
    public init(gray8: [UInt8], width: Int, height: Int) {
        self.init(width: width, height: height, values: gray8.map { Float($0) / 255 })
    }

    public var mean: Float { values.reduce(0, +) / Float(values.count) }
}
