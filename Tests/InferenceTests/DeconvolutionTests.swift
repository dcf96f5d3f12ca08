import Inference
import XCTest

final class DeconvolutionTests: XCTestCase {
    func testDeconvolutionMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Deconvolution_", optionSets: [EngineOptions(), EngineOptions(threads: 2)])
    }
}
