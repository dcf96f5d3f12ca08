import Inference
import XCTest

final class DeconvolutionTests: XCTestCase {
    func testDeconvolutionMatchesNcnn() throws {
        // Default options take the 4×4 stride-2 sub-pixel fast path; .gemm the reference path.
        try ReferenceCases.check(prefix: "Deconvolution_", optionSets: [
            EngineOptions(), EngineOptions(threads: 2), EngineOptions(convolution: .gemm),
            EngineOptions(threads: 2, instructionSet: .portable), EngineOptions(threads: 3, instructionSet: .avx2),
        ])
    }
}
