import Inference
import XCTest

final class InterpTests: XCTestCase {
    func testInterpMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Interp_")
    }
}
