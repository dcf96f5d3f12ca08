/// Why a farm message was rejected. Every decode failure is one of these: never a crash, never a trap.
public enum ProtocolError: Error, Equatable, CustomStringConvertible, Sendable {
    case empty
    case badMagic
    case unsupportedVersion(got: UInt8, supported: UInt8)
    case unknownMessageType(UInt8)
    case frameTooLarge(size: Int, limit: Int)
    case truncated(field: String, needed: Int, available: Int)
    case fieldTooLarge(field: String, size: Int, limit: Int)
    case invalidUTF8(field: String)
    case invalidValue(field: String, reason: String)
    case trailingBytes(count: Int)

    public var description: String {
        switch self {
        case .empty:
            return "empty farm message: a peer sent a zero-length frame"
        case .badMagic:
            return "not a Lumière farm message (bad magic bytes): the peer is not a Lumière worker/coordinator"
        case .unsupportedVersion(let got, let supported):
            return "farm protocol version \(got) is not supported (this build speaks \(supported)): run the same Lumière version on coordinator and workers"
        case .unknownMessageType(let type):
            return "unknown farm message type \(type): the peer speaks a different protocol revision"
        case .frameTooLarge(let size, let limit):
            return "farm message of \(size) bytes exceeds the \(limit)-byte limit"
        case .truncated(let field, let needed, let available):
            return "farm message truncated in \(field): needs \(needed) bytes, \(available) left"
        case .fieldTooLarge(let field, let size, let limit):
            return "field \(field) is \(size) long, above the limit of \(limit)"
        case .invalidUTF8(let field):
            return "field \(field) is not valid UTF-8"
        case .invalidValue(let field, let reason):
            return "field \(field) is invalid: \(reason)"
        case .trailingBytes(let count):
            return "farm message has \(count) unexpected trailing bytes"
        }
    }
}
