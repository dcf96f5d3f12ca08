import Inference
import XCTest

final class BinaryOpTests: XCTestCase {
    func testBinaryOpMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "BinaryOp_")
    }
}
