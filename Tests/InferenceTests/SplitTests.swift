import Inference
import XCTest

final class SplitTests: XCTestCase {
    func testSplitMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Split_")
    }
}
