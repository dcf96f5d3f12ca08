import Inference
import XCTest

final class SliceTests: XCTestCase {
    func testSliceMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Slice_")
    }
}
