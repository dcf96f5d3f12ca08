import Inference
import XCTest

final class EltwiseTests: XCTestCase {
    func testEltwiseMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Eltwise_")
    }
}
