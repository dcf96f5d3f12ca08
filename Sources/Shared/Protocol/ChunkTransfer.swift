/// The sending half of a credit-based file transfer (zguide ch. 7): the sender may only have as many chunks
/// in flight as the receiver has granted, so memory on both sides stays bounded by the window.
public struct ChunkSender: Sendable {
    public let lease: LeaseRef
    public let totalBytes: UInt64
    public let chunkBytes: Int
    public private(set) var nextOffset: UInt64 = 0
    public private(set) var credit: UInt32 = 0

    public init(lease: LeaseRef, totalBytes: UInt64, chunkBytes: Int = FarmProtocol.maxChunkBytes) {
        precondition(chunkBytes > 0 && chunkBytes <= FarmProtocol.maxChunkBytes, "chunk size out of protocol range")
        self.lease = lease
        self.totalBytes = totalBytes
        self.chunkBytes = chunkBytes
    }

    public var isFinished: Bool { nextOffset >= totalBytes }

    public mutating func grant(_ chunks: UInt32) { credit = credit.addingReportingOverflow(chunks).overflow ? .max : credit + chunks }

    /// The next range to send, if any is left and credit allows; consumes one credit.
    public mutating func takeNextChunk() -> (offset: UInt64, length: Int)? {
        guard credit > 0, !isFinished else { return nil }
        let length = Int(min(UInt64(chunkBytes), totalBytes - nextOffset))
        defer { nextOffset += UInt64(length); credit -= 1 }
        return (nextOffset, length)
    }
}

/// The receiving half: accepts chunks strictly in order, never beyond the announced size, and checks the
/// checksum at the end. DEALER↔ROUTER preserves order per peer, so an out-of-order chunk means a bad peer.
public struct ChunkReceiver: Sendable {
    public let lease: LeaseRef
    public let expected: PayloadDescription
    public private(set) var receivedBytes: UInt64 = 0
    private var crc = XXHash64()

    /// Chunks granted up front; one more is granted per chunk consumed.
    public static let initialWindow: UInt32 = 16

    public init(lease: LeaseRef, expected: PayloadDescription) {
        self.lease = lease
        self.expected = expected
    }

    public var isComplete: Bool { receivedBytes == expected.byteCount }

    public enum TransferError: Error, Equatable, CustomStringConvertible {
        case outOfOrder(expectedOffset: UInt64, got: UInt64)
        case overrun(announced: UInt64, wouldReach: UInt64)
        case checksumMismatch(announced: UInt64, actual: UInt64)

        public var description: String {
            switch self {
            case .outOfOrder(let expected, let got): return "chunk at offset \(got) arrived, expected offset \(expected)"
            case .overrun(let announced, let reach): return "chunks run to \(reach) bytes, beyond the announced \(announced)"
            case .checksumMismatch(let announced, let actual):
                return "checksum mismatch: announced \(String(announced, radix: 16)), received data has \(String(actual, radix: 16))"
            }
        }
    }

    /// Validates and accounts one chunk; the caller writes the bytes only after this returns.
    public mutating func accept(offset: UInt64, bytes: [UInt8]) throws {
        guard offset == receivedBytes else { throw TransferError.outOfOrder(expectedOffset: receivedBytes, got: offset) }
        let end = receivedBytes + UInt64(bytes.count)
        guard end <= expected.byteCount else { throw TransferError.overrun(announced: expected.byteCount, wouldReach: end) }
        crc.update(bytes)
        receivedBytes = end
    }

    /// Call once complete: throws if the bytes do not match the announced checksum.
    public func verify() throws {
        guard crc.checksum == expected.checksum else {
            throw TransferError.checksumMismatch(announced: expected.checksum, actual: crc.checksum)
        }
    }

    public var actualChecksum: UInt64 { crc.checksum }
}
