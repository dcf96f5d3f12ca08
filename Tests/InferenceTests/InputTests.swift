import Inference
import XCTest

final class InputTests: XCTestCase {
    func testInputMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Split_Input_")
    }
}
