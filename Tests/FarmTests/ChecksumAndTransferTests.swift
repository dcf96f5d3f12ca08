import Shared
import XCTest

final class ChecksumAndTransferTests: XCTestCase {
    /// Reference values computed with the C xxHash library (libxxhash 0.8.1, XXH64 seed 0).
    func testXXHash64MatchesTheReferenceImplementation() {
        XCTAssertEqual(XXHash64.checksum([UInt8]()), 0xEF46_DB37_51D8_E999)
        XCTAssertEqual(XXHash64.checksum(Array("a".utf8)), 0xD24E_C4F1_A98C_6E5B)
        XCTAssertEqual(XXHash64.checksum(Array("123456789".utf8)), 0x8CB8_41DB_40E6_AE83)
        let data = (0..<1000).map { UInt8(($0 * 31 + 7) % 256) }
        let expected: [(Int, UInt64)] = [
            (3, 0x56E6_9576_32A4_87F9), (4, 0xC60D_15B1_E3FF_8F04), (8, 0x3DA5_C7AA_2696_83E0), (31, 0x4A74_F3A1_A39A_D4A1),
            (32, 0x8D57_D6A4_671C_C43D), (33, 0x62C9_FD21_ED85_7664), (63, 0x5C32_0A0D_2707_057F), (64, 0x7BBA_BBC4_5729_D17E),
            (100, 0xEFA0_AD2D_3E70_C151), (1000, 0x9959_4F48_2804_3D35),
        ]
        for (length, value) in expected { XCTAssertEqual(XXHash64.checksum(data[0..<length]), value, "length \(length)") }
    }

    func testXXHash64IncrementalEqualsOneShotAndDetectsABitFlip() {
        var rng = SplitMix64(seed: 3)
        let data = (0..<100_003).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var crc = XXHash64()
        var index = 0
        for size in [1, 7, 8, 9, 4096, 31, 100_003] where index < data.count {
            let end = min(data.count, index + size)
            crc.update(data[index..<end])
            index = end
        }
        crc.update(data[index...])
        XCTAssertEqual(crc.checksum, XXHash64.checksum(data))
        var flipped = data
        flipped[50_000] ^= 0x10
        XCTAssertNotEqual(XXHash64.checksum(flipped), XXHash64.checksum(data))
    }

    func testSenderRespectsCreditAndReceiverReassemblesInOrder() throws {
        let lease = LeaseRef(segment: 1, attempt: 1)
        let data = (0..<1_000).map { UInt8($0 % 256) }
        var sender = ChunkSender(lease: lease, totalBytes: UInt64(data.count), chunkBytes: 300)
        var receiver = ChunkReceiver(lease: lease, expected: PayloadDescription(byteCount: UInt64(data.count), checksum: XXHash64.checksum(data)))
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
        var receiver = ChunkReceiver(lease: lease, expected: PayloadDescription(byteCount: 10, checksum: XXHash64.checksum(data)))
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
