import Inference
import XCTest

final class ReLUTests: XCTestCase {
    func testReLUMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "ReLU_")
    }
}
