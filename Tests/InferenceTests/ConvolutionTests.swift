import Inference
import XCTest

final class ConvolutionTests: XCTestCase {
    func testConvolutionMatchesNcnn() throws {
        try ReferenceCases.check(prefix: "Convolution_", optionSets: [EngineOptions(), EngineOptions(convolution: .gemm), EngineOptions(threads: 2, instructionSet: .portable), EngineOptions(threads: 2, instructionSet: .avx2)])
    }
}
