import Inference
import XCTest

final class CropTests: XCTestCase {
    func testCropMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Crop_")
    }
}
