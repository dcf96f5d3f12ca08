import Inference
import XCTest

final class MemoryDataTests: XCTestCase {
    func testMemoryDataMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "MemoryData_")
    }
}
