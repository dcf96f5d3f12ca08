import CFFmpeg
import Shared

/// Exact conversion between RGB pictures of 9 to 16 bits (gbrp10le … gbrp16le, rgb48, bgr48) and float RGB:
/// value / (2^depth − 1), and back with rounding. swscale (FFmpeg 5.1) carries only about 12 bits through its
/// float formats (measured on a 16-bit gradient: up to 30/65535 off each way), which is what made 16-bit
/// masters come back with ~11 bits; these formats need no matrix or chroma filter, so plain arithmetic is exact.
struct DeepRGB {
    private struct Component { var plane: Int; var step: Int; var offset: Int; var shift: Int }
    /// R, G, B.
    private let components: [Component]
    private let bigEndian: Bool
    private let maximum: Float
    /// Alpha is ignored when reading; pictures with alpha are not written here (it would be left transparent).
    let hasAlpha: Bool

    /// The layout of `pixelFormat`, or nil when it is not a deep RGB format this handles (swscale does the rest).
    init?(_ pixelFormat: String) {
        guard let desc = PixelFormats.descriptor(pixelFormat) else { return nil }
        let d = desc.pointee
        let excluded = UInt64(AV_PIX_FMT_FLAG_FLOAT | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BAYER)
        guard d.flags & UInt64(AV_PIX_FMT_FLAG_RGB) != 0, d.flags & excluded == 0, d.nb_components >= 3 else { return nil }
        let comps = [d.comp.0, d.comp.1, d.comp.2]
        let depth = Int(comps[0].depth)
        // Each component must be one 16-bit word (possibly shifted) so it can be read and written on its own.
        guard (9...16).contains(depth), comps.allSatisfy({ Int($0.depth) == depth && $0.step % 2 == 0 && $0.offset % 2 == 0
                                                            && Int($0.shift) + depth <= 16 }) else { return nil }
        components = comps.map { Component(plane: Int($0.plane), step: Int($0.step), offset: Int($0.offset), shift: Int($0.shift)) }
        bigEndian = d.flags & UInt64(AV_PIX_FMT_FLAG_BE) != 0
        hasAlpha = d.flags & UInt64(AV_PIX_FMT_FLAG_ALPHA) != 0
        maximum = Float((1 << depth) - 1)
    }

    func rgbImage(from picture: VideoPicture) -> RGBImage {
        var image = RGBImage(width: picture.width, height: picture.height)
        let w = picture.width, h = picture.height, scale = 1 / maximum
        picture.data.withUnsafeBytes { src in
            image.pixels.withUnsafeMutableBufferPointer { dst in
                for (c, comp) in components.enumerated() {
                    let mask = UInt16(maximum)
                    for y in 0..<h {
                        let row = picture.planeOffsets[comp.plane] + y * picture.bytesPerRow[comp.plane] + comp.offset
                        for x in 0..<w {
                            let raw = src.loadUnaligned(fromByteOffset: row + x * comp.step, as: UInt16.self)
                            let value = ((bigEndian ? raw.bigEndian : raw.littleEndian) >> UInt16(comp.shift)) & mask
                            dst[c * w * h + y * w + x] = Float(value) * scale
                        }
                    }
                }
            }
        }
        return image
    }

    /// Writes `image` (clipped to [0, 1]) into `picture`, whose format this layout describes.
    func write(_ image: RGBImage, into picture: inout VideoPicture) {
        let w = image.width, h = image.height, maximum = self.maximum
        let offsets = picture.planeOffsets, bytesPerRow = picture.bytesPerRow
        image.pixels.withUnsafeBufferPointer { src in
            picture.data.withUnsafeMutableBytes { dst in
                for (c, comp) in components.enumerated() {
                    for y in 0..<h {
                        let row = offsets[comp.plane] + y * bytesPerRow[comp.plane] + comp.offset
                        for x in 0..<w {
                            let value = UInt16((min(max(src[c * w * h + y * w + x], 0), 1) * maximum).rounded()) << UInt16(comp.shift)
                            dst.storeBytes(of: bigEndian ? value.bigEndian : value.littleEndian, toByteOffset: row + x * comp.step, as: UInt16.self)
                        }
                    }
                }
            }
        }
    }
}
