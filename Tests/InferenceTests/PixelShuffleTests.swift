import Inference
import XCTest

final class PixelShuffleTests: XCTestCase {
    func testPixelShuffleMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "PixelShuffle_")
    }
}
