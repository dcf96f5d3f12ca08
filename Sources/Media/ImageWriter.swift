import CFFmpeg
import Foundation

/// Still images through FFmpeg's own encoders (PNG): for plots and previews, no extra image library.
public enum ImageWriter {
    /// Largest side accepted, so a wrong size fails here instead of allocating gigabytes.
    public static let maxSide = 16384

    /// Encodes interleaved 8-bit RGB (`width * height * 3` bytes, rows top to bottom) as a PNG file.
    /// The file appears complete or not at all (written beside it, then renamed).
    public static func writePNG(rgb24 pixels: [UInt8], width: Int, height: Int, to path: String) throws {
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        let data = try encodePNG(rgb24: pixels, width: width, height: height)
        let temporary = path + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw MediaError.outputFailed(path: path, detail: "cannot create \(temporary) (directory missing or not writable?)")
        }
        if rename(temporary, path) != 0 {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw MediaError.outputFailed(path: path, detail: "rename failed: \(why)")
        }
    }

    /// The PNG bytes of an interleaved 8-bit RGB picture.
    public static func encodePNG(rgb24 pixels: [UInt8], width: Int, height: Int) throws -> Data {
        guard (1...maxSide).contains(width), (1...maxSide).contains(height) else {
            throw MediaError.invalidSize("\(width)x\(height) for a PNG; each side must be 1…\(maxSide)")
        }
        guard pixels.count == width * height * 3 else {
            throw MediaError.invalidSize("\(pixels.count) bytes for a \(width)x\(height) RGB picture (needs \(width * height * 3))")
        }
        _ = FFmpeg.configureLogging
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_PNG) else {
            throw MediaError.unsupportedCodec("this FFmpeg has no PNG encoder")
        }
        var context = avcodec_alloc_context3(codec)
        guard let ctx = context else { throw MediaError.ffmpeg(operation: "avcodec_alloc_context3", code: -12, message: "out of memory") }
        defer { avcodec_free_context(&context) }
        ctx.pointee.width = Int32(width)
        ctx.pointee.height = Int32(height)
        ctx.pointee.pix_fmt = AV_PIX_FMT_RGB24
        ctx.pointee.time_base = AVRational(num: 1, den: 1)
        try FFmpeg.check(avcodec_open2(ctx, codec, nil), "avcodec_open2(png)")

        var frame = av_frame_alloc()
        guard let f = frame else { throw MediaError.ffmpeg(operation: "av_frame_alloc", code: -12, message: "out of memory") }
        defer { av_frame_free(&frame) }
        f.pointee.width = Int32(width)
        f.pointee.height = Int32(height)
        f.pointee.format = AV_PIX_FMT_RGB24.rawValue
        try FFmpeg.check(av_frame_get_buffer(f, 0), "av_frame_get_buffer")
        let stride = Int(f.pointee.linesize.0)
        let rowBytes = width * 3
        pixels.withUnsafeBufferPointer { source in
            for y in 0..<height {
                (f.pointee.data.0! + y * stride).update(from: source.baseAddress! + y * rowBytes, count: rowBytes)
            }
        }
        f.pointee.pts = 0

        var packet = av_packet_alloc()
        guard let p = packet else { throw MediaError.ffmpeg(operation: "av_packet_alloc", code: -12, message: "out of memory") }
        defer { av_packet_free(&packet) }
        try FFmpeg.check(avcodec_send_frame(ctx, f), "avcodec_send_frame(png)")
        try FFmpeg.check(avcodec_send_frame(ctx, nil), "avcodec_send_frame(png, flush)")
        try FFmpeg.check(avcodec_receive_packet(ctx, p), "avcodec_receive_packet(png)")
        defer { av_packet_unref(p) }
        return Data(bytes: p.pointee.data, count: Int(p.pointee.size))
    }
}
