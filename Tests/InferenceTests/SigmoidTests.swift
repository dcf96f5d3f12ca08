import Inference
import XCTest

final class SigmoidTests: XCTestCase {
    func testSigmoidMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Sigmoid_")
    }
}
