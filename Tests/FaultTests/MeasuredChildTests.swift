import Foundation
import TestSupport
import XCTest

/// The memory limits of the hostile-input tests are measured in child processes (`MeasuredChild`): this shows the
/// measurement sees an allocation made there, so those limits can fail.
final class MeasuredChildTests: XCTestCase {
    func testAnAllocationInTheChildIsSeen() throws {
        if MeasuredChild.isChild {
            let bytes = 256 << 20
            let block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
            memset(block, 1, bytes) // touched, so resident
            block.deallocate()
            return
        }
        let result = try MeasuredChild.run(test: "FaultTests.MeasuredChildTests/testAnAllocationInTheChildIsSeen")
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertGreaterThan(result.peakKiB, 256 << 10, "a 256 MiB allocation in the child was not seen")
        XCTAssertLessThan(result.peakKiB, 512 << 10)
    }

    /// The parent's own peak does not leak into the child's measurement (it did with wait4's ru_maxrss: a full suite
    /// run, whose process had reached 3.1 GiB, measured every child at 3.1 GiB).
    func testTheParentsPeakIsNotTheChilds() throws {
        if MeasuredChild.isChild { return }
        let bytes = 768 << 20
        let block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        memset(block, 1, bytes) // the test process now peaks above 768 MiB
        block.deallocate()
        let result = try MeasuredChild.run(test: "FaultTests.MeasuredChildTests/testTheParentsPeakIsNotTheChilds")
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertGreaterThan(result.peakKiB, 0)
        XCTAssertLessThan(result.peakKiB, 512 << 10, "the child's measurement includes the parent's 768 MiB")
    }
}
