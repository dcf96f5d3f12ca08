import Shared
import XCTest

/// The farm-wide segment id (issue 16 item 5): a job and a `SegmentIndex` in one u64, the same bytes on the wire as
/// when the id was a bare `UInt64` with the job shifted into the high 32 bits by hand.
final class SegmentIDTests: XCTestCase {
    func testJobAndIndexComposeAndComeBack() throws {
        let id = try SegmentID(job: 3, segment: 7)
        XCTAssertEqual(id.wireValue, 3 << 32 | 7)
        XCTAssertEqual(id.job, 3)
        XCTAssertEqual(id.segment, 7)
        XCTAssertEqual(SegmentID(wireValue: id.wireValue), id)
        // Job 0 (`restore`'s own job): the id is the segment index itself.
        XCTAssertEqual(SegmentID(SegmentIndex(41)).wireValue, 41)
        XCTAssertEqual(try SegmentID(job: 0, segment: 41), 41)
        // The largest job and index both fit.
        let last = try SegmentID(job: Int(UInt32.max), segment: SegmentIndex(SegmentIndex.limit - 1))
        XCTAssertEqual(last.wireValue, UInt64.max)
        XCTAssertEqual(last.job, Int(UInt32.max))
        XCTAssertEqual(last.segment.position, SegmentIndex.limit - 1)
        // Ordered by job, then index (the scheduler's tie-break between equal costs).
        XCTAssertLessThan(try SegmentID(job: 1, segment: 900), try SegmentID(job: 2, segment: 0))
        XCTAssertLessThan(try SegmentID(job: 2, segment: 3), try SegmentID(job: 2, segment: 4))
    }

    /// A job id that the high 32 bits cannot carry is a typed error, not a trap (it was a precondition).
    func testAJobOutsideThe32BitsIsATypedError() {
        for job in [-1, Int(UInt32.max) + 1, Int.max] {
            XCTAssertThrowsError(try SegmentID(job: job, segment: 5)) { error in
                XCTAssertEqual(error as? SegmentIDError, .jobOutOfRange(job: job, segment: 5))
                XCTAssertTrue("\(error)".contains("job ids must be 0…4294967295"), "\(error)")
            }
        }
    }

    /// Indices from outside the planner (a file, the wire) are checked, not trusted.
    func testAnIndexOutsideItsRangeIsRefusedFromUntrustedInput() {
        XCTAssertNil(SegmentIndex(validating: -1))
        XCTAssertNil(SegmentIndex(validating: SegmentIndex.limit))
        XCTAssertEqual(SegmentIndex(validating: 12)?.position, 12)
    }

    /// Any u64 a peer sends is some (job, index): decoding never fails on the id, and its bytes are the id's wire value,
    /// little-endian, right after the 4-byte header — as before the type existed (protocol version unchanged).
    func testTheWireCarriesTheSameEightBytes() throws {
        for wire: UInt64 in [0, 42, 3 << 32 | 7, UInt64.max] {
            let lease = LeaseRef(segment: SegmentID(wireValue: wire), attempt: 2)
            let bytes = MessageCodec.encode(.progress(lease, framesDone: 1, framesTotal: 2))
            XCTAssertEqual(Array(bytes[4..<12]), (0..<8).map { UInt8(truncatingIfNeeded: wire >> (8 * UInt64($0))) })
            guard case .progress(let decoded, _, _)? = try? MessageCodec.decode(bytes) else { return XCTFail("\(wire) did not decode") }
            XCTAssertEqual(decoded.segment.wireValue, wire)
            XCTAssertEqual(decoded.segment.job, Int(wire >> 32))
            XCTAssertEqual(decoded.segment.segment.position, Int(wire & 0xFFFF_FFFF))
        }
    }
}
