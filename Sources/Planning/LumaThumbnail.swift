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
    /// Cell indices are tabulated once per column, so the per-pixel work is three loads, a multiply-add
    /// and one accumulation; the cost is reading the frame (memory-bound: ≈ 12 ms for 1080p, 58 ms for 4K on
    /// the shared 2-core build machine under load). Cheaper still: ask the decoder for a small grey picture.
    public init(image: RGBImage, width: Int = LumaThumbnail.defaultWidth, height: Int = LumaThumbnail.defaultHeight) {
        let w = min(width, image.width), h = min(height, image.height)
        let columnCell = (0..<image.width).map { $0 * w / image.width }
        var columnsPerCell = [Int](repeating: 0, count: w)
        for c in columnCell { columnsPerCell[c] += 1 }
        var rowsPerCell = [Int](repeating: 0, count: h)
        for y in 0..<image.height { rowsPerCell[y * h / image.height] += 1 }
        var sums = [Float](repeating: 0, count: w * h)
        var rowSums = [Float](repeating: 0, count: w)
        let plane = image.planeCount, imageWidth = image.width
        image.pixels.withUnsafeBufferPointer { p in
            columnCell.withUnsafeBufferPointer { cells in
                rowSums.withUnsafeMutableBufferPointer { acc in
                    for y in 0..<image.height {
                        let row = y * imageWidth
                        for x in 0..<imageWidth {
                            let i = row + x
                            acc[cells[x]] += 0.2126 * p[i] + 0.7152 * p[plane + i] + 0.0722 * p[2 * plane + i]
                        }
                        let cellRow = (y * h / image.height) * w
                        for c in 0..<w { sums[cellRow + c] += acc[c]; acc[c] = 0 }
                    }
                }
            }
        }
        var values = [Float](repeating: 0, count: w * h)
        for cy in 0..<h {
            for cx in 0..<w {
                let n = Float(rowsPerCell[cy] * columnsPerCell[cx])
                values[cy * w + cx] = min(max(sums[cy * w + cx] / n, 0), 1)
            }
        }
        self.init(width: w, height: h, values: values)
    }

    /// Bytes of 8-bit grey (e.g. `ffmpeg -f rawvideo -pix_fmt gray`), as a thumbnail.
    public init(gray8: [UInt8], width: Int, height: Int) {
        self.init(width: width, height: height, values: gray8.map { Float($0) / 255 })
    }

    public var mean: Float { values.reduce(0, +) / Float(values.count) }
}
