import Inference
import XCTest

final class PReLUTests: XCTestCase {
    func testPReLUMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "PReLU_")
    }
}
