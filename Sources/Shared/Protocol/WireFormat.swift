/// Little-endian, length-prefixed primitives of the farm wire format.
/// The writer never fails; the reader checks every length against the bytes left and a field limit
/// before allocating, so a hostile length cannot make it allocate more than the message it already holds.
public struct WireWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func bool(_ value: Bool) { u8(value ? 1 : 0) }

    /// Strings longer than the limit are a programming error on the sending side: truncating silently
    /// would corrupt data, so the encoder clips only free text (see `text`) and rejects nothing else here.
    public mutating func string(_ value: String) { blob(Array(value.utf8)) }
    public mutating func blob<C: Collection>(_ value: C) where C.Element == UInt8 {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }
}

public struct WireReader {
    private let bytes: [UInt8]
    private var position: Int

    public init(_ bytes: [UInt8], from start: Int = 0) {
        self.bytes = bytes
        self.position = start
    }

    public var remaining: Int { bytes.count - position }

    private mutating func take(_ count: Int, _ field: String) throws -> ArraySlice<UInt8> {
        guard count <= remaining else { throw ProtocolError.truncated(field: field, needed: count, available: remaining) }
        defer { position += count }
        return bytes[position..<position + count]
    }

    public mutating func u8(_ field: String) throws -> UInt8 { try take(1, field).first! }

    public mutating func u32(_ field: String) throws -> UInt32 {
        var value: UInt32 = 0
        for (shift, byte) in try take(4, field).enumerated() { value |= UInt32(byte) << (8 * shift) }
        return value
    }

    public mutating func u64(_ field: String) throws -> UInt64 {
        var value: UInt64 = 0
        for (shift, byte) in try take(8, field).enumerated() { value |= UInt64(byte) << (8 * shift) }
        return value
    }

    public mutating func bool(_ field: String) throws -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        case let other: throw ProtocolError.invalidValue(field: field, reason: "boolean byte \(other) is neither 0 nor 1")
        }
    }

    public mutating func blob(_ field: String, limit: Int) throws -> [UInt8] {
        let length = Int(try u32(field))
        guard length <= limit else { throw ProtocolError.fieldTooLarge(field: field, size: length, limit: limit) }
        return Array(try take(length, field))
    }

    public mutating func string(_ field: String, limit: Int = FarmProtocol.maxStringBytes) throws -> String {
        let raw = try blob(field, limit: limit)
        // Decoding repairs invalid sequences with U+FFFD, so a round trip that changes the bytes means invalid
        // UTF-8 (portable to older macOS, unlike String(validating:)).
        let text = String(decoding: raw, as: UTF8.self)
        guard text.utf8.elementsEqual(raw) else { throw ProtocolError.invalidUTF8(field: field) }
        return text
    }

    /// A count prefix for a list, checked against its limit before any element is read.
    public mutating func count(_ field: String, limit: Int = FarmProtocol.maxListCount) throws -> Int {
        let count = Int(try u32(field))
        guard count <= limit else { throw ProtocolError.fieldTooLarge(field: field, size: count, limit: limit) }
        return count
    }

    public func finish() throws {
        guard remaining == 0 else { throw ProtocolError.trailingBytes(count: remaining) }
    }
}
