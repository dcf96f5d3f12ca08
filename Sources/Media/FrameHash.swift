import CFFmpeg
import Foundation

/// A fingerprint of decoded pictures, for resume keys that cannot lie: a segment's result is reused only when the
/// frames it was made from hash the same. libavutil's 128-bit MurmurHash3: it guards against edits and damage,
/// not against an adversary (who could equally replace the results), and runs at memory speed, so hashing costs
/// nothing next to the decode that produces the frames (see docs/reliability.md for the measurement).
public struct FrameHash: Sendable, Hashable, CustomStringConvertible {
    /// 16 bytes.
    public let bytes: [UInt8]
    public var description: String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The hash of one picture: its layout (format, size, plane geometry) and every byte of its planes.
    public init(_ picture: VideoPicture) throws {
        var context: OpaquePointer?
        guard av_hash_alloc(&context, "murmur3") >= 0, let context else { throw MediaError.ffmpeg(operation: "av_hash_alloc(murmur3)", code: lumiere_averror_enomem(), message: "out of memory") }
        defer { var c: OpaquePointer? = context; av_hash_freep(&c) }
        av_hash_init(context)
        let header = "\(picture.pixelFormat) \(picture.width)x\(picture.height) \(picture.bytesPerRow) \(picture.rows)"
        Array(header.utf8).withUnsafeBufferPointer { av_hash_update(context, $0.baseAddress, $0.count) }
        picture.data.withUnsafeBufferPointer { av_hash_update(context, $0.baseAddress, $0.count) }
        var out = [UInt8](repeating: 0, count: Int(av_hash_get_size(context)))
        av_hash_final_bin(context, &out, Int32(out.count))
        bytes = out
    }

    /// One hex string for a run of frames (a segment's input), order-sensitive.
    public static func combined(_ hashes: some Sequence<FrameHash>) -> String {
        var context: OpaquePointer?
        guard av_hash_alloc(&context, "murmur3") >= 0, let context else { return "" }
        defer { var c: OpaquePointer? = context; av_hash_freep(&c) }
        av_hash_init(context)
        var count = 0
        for hash in hashes {
            hash.bytes.withUnsafeBufferPointer { av_hash_update(context, $0.baseAddress, $0.count) }
            count += 1
        }
        var out = [UInt8](repeating: 0, count: Int(av_hash_get_size(context)))
        av_hash_final_bin(context, &out, Int32(out.count))
        return "\(count)f-" + out.map { String(format: "%02x", $0) }.joined()
    }
}
