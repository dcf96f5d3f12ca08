import Shared
import XCTest

final class ChecksumAndTransferTests: XCTestCase {
    func testCRC64MatchesTheXZCheckValue() {
        XCTAssertEqual(CRC64.checksum(Array("123456789".utf8)), 0x995D_C9BB_DF19_39FA)
        XCTAssertEqual(CRC64.checksum([UInt8]()), 0)
    }

    func testCRC64IncrementalEqualsOneShotAndDetectsABitFlip() {
        var rng = SplitMix64(seed: 3)
        let data = (0..<100_003).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var crc = CRC64()
        var index = 0
        for size in [1, 7, 8, 9, 4096, 31, 100_003] where index < data.count {
            let end = min(data.count, index + size)
            crc.update(data[index..<end])
            index = end
        }
        crc.update(data[index...])
        XCTAssertEqual(crc.checksum, CRC64.checksum(data))
        var flipped = data
        flipped[50_000] ^= 0x10
        XCTAssertNotEqual(CRC64.checksum(flipped), CRC64.checksum(data))
    }

    func testSenderRespectsCreditAndReceiverReassemblesInOrder() throws {
        let lease = LeaseRef(segment: 1, attempt: 1)
        let data = (0..<1_000).map { UInt8($0 % 256) }
        var sender = ChunkSender(lease: lease, totalBytes: UInt64(data.count), chunkBytes: 300)
        var receiver = ChunkReceiver(lease: lease, expected: PayloadDescription(byteCount: UInt64(data.count), checksum: CRC64.checksum(data)))
        XCTAssertNil(sender.takeNextChunk(), "no credit, no chunk")
        sender.grant(2)
        var sent: [(UInt64, Int)] = []
        while let next = sender.takeNextChunk() { sent.append(next) }
        XCTAssertEqual(sent.map(\.0), [0, 300], "exactly the granted two chunks")
        sender.grant(10)
        while let next = sender.takeNextChunk() { sent.append(next) }
        XCTAssertEqual(sent.map(\.1), [300, 300, 300, 100])
        XCTAssertTrue(sender.isFinished)
        for (offset, length) in sent {
            try receiver.accept(offset: offset, bytes: Array(data[Int(offset)..<Int(offset) + length]))
        }
        XCTAssertTrue(receiver.isComplete)
        XCTAssertNoThrow(try receiver.verify())
    }

    func testReceiverRejectsOutOfOrderOverrunAndCorruption() throws {
        let lease = LeaseRef(segment: 1, attempt: 1)
        let data = [UInt8](repeating: 9, count: 10)
        var receiver = ChunkReceiver(lease: lease, expected: PayloadDescription(byteCount: 10, checksum: CRC64.checksum(data)))
        XCTAssertThrowsError(try receiver.accept(offset: 5, bytes: [1])) {
            XCTAssertEqual($0 as? ChunkReceiver.TransferError, .outOfOrder(expectedOffset: 0, got: 5))
        }
        XCTAssertThrowsError(try receiver.accept(offset: 0, bytes: [UInt8](repeating: 9, count: 11))) {
            XCTAssertEqual($0 as? ChunkReceiver.TransferError, .overrun(announced: 10, wouldReach: 11))
        }
        try receiver.accept(offset: 0, bytes: [UInt8](repeating: 8, count: 10))
        XCTAssertTrue(receiver.isComplete)
        XCTAssertThrowsError(try receiver.verify()) {
            guard case .checksumMismatch = $0 as? ChunkReceiver.TransferError else { return XCTFail("\($0)") }
        }
    }
}
