import CFFmpeg
import Shared

/// How Y'CbCr relates to RGB in a picture: the matrix and the value range.
public struct ColorDescription: Sendable, Equatable, Codable {
    public enum Matrix: String, Sendable, Codable { case bt601, bt709 }
    public var matrix: Matrix
    public var fullRange: Bool
    public init(matrix: Matrix, fullRange: Bool) { self.matrix = matrix; self.fullRange = fullRange }

    /// SD (< 720 lines) is BT.601 unless the stream says otherwise; HD is BT.709 — FFmpeg's players do the same.
    public static func defaultFor(height: Int) -> ColorDescription {
        ColorDescription(matrix: height >= 720 ? .bt709 : .bt601, fullRange: false)
    }
}

/// A decoded picture in its native pixel format, owned by Swift: tightly packed rows per plane.
/// Used where exactness matters (FFV1 round trips, intermediates); processors work on `RGBImage`.
public struct VideoPicture: Sendable, Equatable {
    public let pixelFormat: String
    public let width: Int
    public let height: Int
    public var color: ColorDescription
    /// All planes, one after another; plane i starts at `planeOffsets[i]` and is `bytesPerRow[i] * rows[i]` long.
    public var data: [UInt8]
    public let planeOffsets: [Int]
    public let bytesPerRow: [Int]
    public let rows: [Int]

    var avFormat: AVPixelFormat { av_get_pix_fmt(pixelFormat) }
    public var planeCount: Int { planeOffsets.count }

    /// The same bytes under another name with the same layout (yuvj420p → yuv420p, with `color.fullRange` kept).
    public func relabeled(as other: String) throws -> VideoPicture {
        var copy = try VideoPicture(pixelFormat: other, width: width, height: height, color: color)
        guard copy.planeOffsets == planeOffsets, copy.bytesPerRow == bytesPerRow, copy.rows == rows else {
            throw MediaError.unsupportedCodec("\(pixelFormat) and \(other) have different layouts")
        }
        copy.data = data
        return copy
    }

    /// The bytes of plane `index` (tightly packed rows).
    public func plane(_ index: Int) -> ArraySlice<UInt8> {
        data[planeOffsets[index] ..< planeOffsets[index] + bytesPerRow[index] * rows[index]]
    }

    /// An all-zero picture with the layout FFmpeg uses for `pixelFormat`.
    public init(pixelFormat: String, width: Int, height: Int, color: ColorDescription) throws {
        let fmt = av_get_pix_fmt(pixelFormat)
        guard fmt != AV_PIX_FMT_NONE, let desc = av_pix_fmt_desc_get(fmt) else {
            throw MediaError.unsupportedCodec("unknown pixel format \(pixelFormat)")
        }
        guard width > 0, height > 0, width <= MediaInput.maxDimension, height <= MediaInput.maxDimension else {
            throw MediaError.invalidSize("\(width)x\(height)")
        }
        let planeCount = Int(av_pix_fmt_count_planes(fmt))
        var bpr: [Int] = [], rows: [Int] = [], offsets: [Int] = [], total = 0
        for p in 0..<planeCount {
            let lineSize = Int(av_image_get_linesize(fmt, Int32(width), Int32(p)))
            let isChroma = (p == 1 || p == 2) && (desc.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB)) == 0
            let h = isChroma ? -((-height) >> Int(desc.pointee.log2_chroma_h)) : height
            bpr.append(lineSize); rows.append(h); offsets.append(total)
            total += lineSize * h
        }
        self.pixelFormat = pixelFormat
        self.width = width
        self.height = height
        self.color = color
        self.data = [UInt8](repeating: 0, count: total)
        self.planeOffsets = offsets
        self.bytesPerRow = bpr
        self.rows = rows
    }

    /// Copies the visible area of an AVFrame.
    init(copying frame: UnsafePointer<AVFrame>, color: ColorDescription) throws {
        let fmt = AVPixelFormat(rawValue: frame.pointee.format)
        guard let name = av_get_pix_fmt_name(fmt) else { throw MediaError.unsupportedCodec("decoded frame has no pixel format") }
        try self.init(pixelFormat: String(cString: name), width: Int(frame.pointee.width), height: Int(frame.pointee.height), color: color)
        withUnsafeBytes(of: frame.pointee.data) { dataPointers in
            withUnsafeBytes(of: frame.pointee.linesize) { lineSizes in
                let src = dataPointers.bindMemory(to: UnsafeMutablePointer<UInt8>?.self)
                let strides = lineSizes.bindMemory(to: Int32.self)
                let rows = self.rows, bytesPerRow = self.bytesPerRow, offsets = self.planeOffsets
                data.withUnsafeMutableBytes { dst in
                    for p in 0..<offsets.count {
                        guard let base = src[p] else { continue }
                        let stride = Int(strides[p]), count = bytesPerRow[p]
                        for y in 0..<rows[p] {
                            (dst.baseAddress! + offsets[p] + y * count).copyMemory(from: base + y * stride, byteCount: count)
                        }
                    }
                }
            }
        }
    }

    /// Copies into an AVFrame whose buffers are already allocated with this format and size.
    func copy(into frame: UnsafeMutablePointer<AVFrame>) {
        withUnsafeBytes(of: frame.pointee.data) { dataPointers in
            withUnsafeBytes(of: frame.pointee.linesize) { lineSizes in
                let dst = dataPointers.bindMemory(to: UnsafeMutablePointer<UInt8>?.self)
                let strides = lineSizes.bindMemory(to: Int32.self)
                data.withUnsafeBytes { src in
                    for p in 0..<planeOffsets.count {
                        guard let base = dst[p] else { continue }
                        let stride = Int(strides[p]), count = bytesPerRow[p]
                        for y in 0..<rows[p] {
                            UnsafeMutableRawPointer(base + y * stride).copyMemory(from: src.baseAddress! + planeOffsets[p] + y * count, byteCount: count)
                        }
                    }
                }
            }
        }
    }
}

/// A decoded frame with its presentation time.
public struct DecodedFrame: Sendable {
    /// Presentation timestamp in the stream's time base.
    public let pts: Int64
    /// Presentation time in seconds.
    public let time: Rational
    /// How long the frame is shown, in the stream's time base, when the file says.
    public let duration: Int64?
    public var picture: VideoPicture
}
