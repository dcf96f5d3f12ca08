import Inference
import XCTest

final class ConcatTests: XCTestCase {
    func testConcatMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Concat_")
    }
}
