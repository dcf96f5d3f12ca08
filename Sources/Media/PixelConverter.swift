import CFFmpeg
import Shared

/// swscale: converts between native pictures and planar float RGB, and resizes float RGB.
/// RGB of more than 8 bits is converted exactly instead (`DeepRGB`: swscale's float path keeps ~12 bits).
/// Keeps its swscale context between calls of the same shape. Not thread-safe.
public final class PixelConverter {
    private var context: OpaquePointer?

    public init() {}
    deinit { sws_freeContext(context) }

    /// Native picture (any pixel format) → planar float RGB in [0, 1] at the same size.
    public func rgbImage(from picture: VideoPicture) throws -> RGBImage {
        if let deep = DeepRGB(picture.pixelFormat) { return deep.rgbImage(from: picture) }
        var image = RGBImage(width: picture.width, height: picture.height)
        let src = picture.avFormat
        try prepare(from: (picture.width, picture.height, src), to: (picture.width, picture.height, AV_PIX_FMT_GBRPF32LE),
                    flags: SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, color: picture.color)
        try withPlanes(of: picture) { srcData, srcStride in
            try image.withFloatPlanes { dstData, dstStride in
                try FFmpeg.check(sws_scale(context, srcData, srcStride, 0, Int32(picture.height), dstData, dstStride), "sws_scale to RGB")
            }
        }
        return image
    }

    /// Planar float RGB → a native picture of `pixelFormat` (values outside [0, 1] are clipped).
    public func picture(from image: RGBImage, pixelFormat: String, color: ColorDescription) throws -> VideoPicture {
        var picture = try VideoPicture(pixelFormat: pixelFormat, width: image.width, height: image.height, color: color)
        if let deep = DeepRGB(pixelFormat), !deep.hasAlpha {
            deep.write(image, into: &picture)
            return picture
        }
        try prepare(from: (image.width, image.height, AV_PIX_FMT_GBRPF32LE), to: (image.width, image.height, picture.avFormat),
                    flags: SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, color: color)
        var clipped = image
        for i in clipped.pixels.indices { clipped.pixels[i] = min(max(clipped.pixels[i], 0), 1) }
        try clipped.withFloatPlanes { srcData, srcStride in
            try withMutablePlanes(of: &picture) { dstData, dstStride in
                try FFmpeg.check(sws_scale(context, srcData, srcStride, 0, Int32(image.height), dstData, dstStride), "sws_scale from RGB")
            }
        }
        return picture
    }

    /// Resizes planar float RGB with a windowed-sinc (Lanczos, a = 3) filter.
    public func resize(_ image: RGBImage, to size: PixelSize) throws -> RGBImage {
        guard size.width > 0, size.height > 0, size.width <= MediaInput.maxDimension, size.height <= MediaInput.maxDimension else {
            throw MediaError.invalidSize("cannot resize to \(size)")
        }
        if size == image.size { return image }
        var out = RGBImage(width: size.width, height: size.height)
        try prepare(from: (image.width, image.height, AV_PIX_FMT_GBRPF32LE), to: (size.width, size.height, AV_PIX_FMT_GBRPF32LE),
                    flags: SWS_LANCZOS | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, color: nil)
        try image.withFloatPlanes { srcData, srcStride in
            try out.withFloatPlanes { dstData, dstStride in
                try FFmpeg.check(sws_scale(context, srcData, srcStride, 0, Int32(image.height), dstData, dstStride), "sws_scale resize")
            }
        }
        return out
    }

    private func prepare(from src: (Int, Int, AVPixelFormat), to dst: (Int, Int, AVPixelFormat), flags: Int32, color: ColorDescription?) throws {
        context = sws_getCachedContext(context, Int32(src.0), Int32(src.1), src.2, Int32(dst.0), Int32(dst.1), dst.2, flags, nil, nil, nil)
        guard let context else {
            throw MediaError.ffmpeg(operation: "sws_getCachedContext \(src.0)x\(src.1)→\(dst.0)x\(dst.1)", code: -22, message: "unsupported conversion")
        }
        guard let color else { return }
        let coefficients = sws_getCoefficients(color.matrix == .bt709 ? SWS_CS_ITU709 : SWS_CS_ITU601)
        // The YUV side's range is what the picture says; RGB is always full range.
        let srcIsYUV = (av_pix_fmt_desc_get(src.2).pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB)) == 0
        let dstIsYUV = (av_pix_fmt_desc_get(dst.2).pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB)) == 0
        _ = sws_setColorspaceDetails(context, coefficients, srcIsYUV ? (color.fullRange ? 1 : 0) : 1,
                                     coefficients, dstIsYUV ? (color.fullRange ? 1 : 0) : 1, 0, 1 << 16, 1 << 16)
    }
}

// MARK: - pointer plumbing for sws_scale

@discardableResult
private func withPlanes<R>(of picture: VideoPicture, _ body: ([UnsafePointer<UInt8>?], [Int32]) throws -> R) throws -> R {
    let strides = picture.bytesPerRow.map { Int32($0) } + Array(repeating: 0, count: 4 - picture.planeCount)
    return try picture.data.withUnsafeBufferPointer { buffer in
        let pointers = picture.planeOffsets.map { UnsafePointer(buffer.baseAddress! + $0) as UnsafePointer<UInt8>? }
        return try body(pointers + Array(repeating: nil, count: 4 - picture.planeCount), strides)
    }
}

@discardableResult
private func withMutablePlanes<R>(of picture: inout VideoPicture, _ body: ([UnsafeMutablePointer<UInt8>?], [Int32]) throws -> R) throws -> R {
    let strides = picture.bytesPerRow.map { Int32($0) } + Array(repeating: 0, count: 4 - picture.planeCount)
    let offsets = picture.planeOffsets
    return try picture.data.withUnsafeMutableBufferPointer { buffer in
        let pointers = offsets.map { (buffer.baseAddress! + $0) as UnsafeMutablePointer<UInt8>? }
        return try body(pointers + Array(repeating: nil, count: 4 - offsets.count), strides)
    }
}

extension RGBImage {
    /// GBRPF32 plane pointers (FFmpeg orders G, B, R) into our R, G, B planes.
    @discardableResult
    func withFloatPlanes<R>(_ body: ([UnsafePointer<UInt8>?], [Int32]) throws -> R) throws -> R {
        let stride = Int32(width * MemoryLayout<Float>.size)
        let plane = planeCount
        return try pixels.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let size = plane * MemoryLayout<Float>.size
            return try body([base + size, base + 2 * size, base, nil], [stride, stride, stride, 0])
        }
    }

    @discardableResult
    mutating func withFloatPlanes<R>(_ body: ([UnsafeMutablePointer<UInt8>?], [Int32]) throws -> R) throws -> R {
        let stride = Int32(width * MemoryLayout<Float>.size)
        let plane = planeCount
        return try pixels.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let size = plane * MemoryLayout<Float>.size
            return try body([base + size, base + 2 * size, base, nil], [stride, stride, stride, 0])
        }
    }
}
