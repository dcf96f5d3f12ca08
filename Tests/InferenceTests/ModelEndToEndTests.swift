import Inference
import XCTest

/// Every shipped super-resolution model on a real photo crop against ncnn fp32: max |error| ≤ 1e-3
/// on the 0…1 scale, with our fast path (Winograd, 2 threads) and the portable kernels.
final class ModelEndToEndTests: XCTestCase {
    func check(_ prefix: String, options: [EngineOptions] = [EngineOptions(threads: 2)]) throws {
        try ReferenceCases.check(prefix: prefix, tolerance: 1e-3, relative: false, optionSets: options)
    }

    func testRealESRAnimeVideoV3() throws {
        try check("realesr-animevideov3-", options: [EngineOptions(threads: 2), EngineOptions(instructionSet: .portable)])
    }
    func testRealESRGeneral() throws { try check("realesr-general-x4v3") }
    func testRealESRGeneralWDN() throws { try check("realesr-general-wdn-x4v3") }
    /// RRDBNet (351 convolutions, dense Concat/Eltwise blocks, nearest Interp): issue 15's heavy model.
    func testRealESRGANx4plus() throws { try check("realesrgan-x4plus") }
    func testWaifu2xPhotoAllNoiseLevels() throws { try check("waifu2x-photo-") }
}
