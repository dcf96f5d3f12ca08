/// Sequential reader over an ncnn `.bin`: no header, each layer's records in `.param` order.
/// Convolution-like weights start with a 4-byte tag (0x01306B47: fp16 follows, padded to 4 bytes;
/// 0: fp32 follows); biases, PReLU slopes and MemoryData are raw fp32.
public final class WeightReader {
    private let bytes: [UInt8]
    public private(set) var offset = 0
    /// Name of the layer being loaded, for error messages.
    var layerName = ""

    static let fp16Tag: UInt32 = 0x0130_6B47

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    private func need(_ n: Int, _ what: String) throws {
        guard n >= 0, n <= remaining else {
            throw InferenceError.weightFile(layer: layerName, reason: "too short: \(what) needs \(n) bytes at offset \(offset) but only \(remaining) remain")
        }
    }

    private func readUInt32() throws -> UInt32 {
        try need(4, "a 4-byte tag")
        let v = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        offset += 4
        return v
    }

    /// Raw little-endian fp32 values.
    public func readRaw(count: Int) throws -> [Float] {
        guard count >= 0, count <= 1 << 28 else {
            throw InferenceError.weightFile(layer: layerName, reason: "declares an absurd record of \(count) values")
        }
        try need(count * 4, "\(count) fp32 values")
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + count * 4)]))
            }
        }
        offset += count * 4
        return out
    }

    /// A tagged record (fp16 or fp32) of `count` values.
    public func readTagged(count: Int) throws -> [Float] {
        guard count >= 0, count <= 1 << 28 else {
            throw InferenceError.weightFile(layer: layerName, reason: "declares an absurd weight record of \(count) values")
        }
        let tag = try readUInt32()
        if tag == 0 { return try readRaw(count: count) }
        guard tag == WeightReader.fp16Tag else {
            throw InferenceError.weightFile(layer: layerName, reason: String(format: "has unsupported weight tag 0x%08X at offset %d (only fp16 0x01306B47 and fp32 0 are supported)", tag, offset - 4))
        }
        let padded = (count * 2 + 3) / 4 * 4
        try need(padded, "\(count) fp16 values")
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { src in
            let base = src.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt16.self)
            out.withUnsafeMutableBufferPointer { lk_fp16_to_fp32(base, $0.baseAddress!, count) }
        }
        offset += padded
        return out
    }
}

import CLumiereKernels
import Foundation
