import Foundation
import Inference
import XCTest

/// Loader validation: corrupt or inconsistent model files give typed errors naming the layer.
final class ModelLoadingTests: XCTestCase {
    let models = ReferenceCases.modelsDirectory
    var animeParam: String { (try? String(contentsOf: models.appendingPathComponent("realesr-animevideov3/realesr-animevideov3-x4.param"), encoding: .utf8)) ?? "" }
    var animeBin: [UInt8] { (try? [UInt8](Data(contentsOf: models.appendingPathComponent("realesr-animevideov3/realesr-animevideov3-x4.bin")))) ?? [] }

    func loadError(_ param: String, _ bin: [UInt8], registry: LayerRegistry = .standard) -> InferenceError? {
        do {
            _ = try Net(paramText: param, weights: bin, registry: registry)
            return nil
        } catch let e as InferenceError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)")
            return nil
        }
    }

    func testIntactModelLoads() throws {
        XCTAssertFalse(animeBin.isEmpty, "model files missing under \(models.path)")
        let net = try Net(paramText: animeParam, weights: animeBin)
        XCTAssertEqual(net.inputNames, ["data"])
    }

    func testTruncatedWeightsNameTheLayer() {
        let e = loadError(animeParam, Array(animeBin.dropLast(1000)))
        guard case let .weightFile(layer, reason)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(layer, "Conv_34")
        XCTAssertTrue(reason.contains("too short"), reason)
        XCTAssertTrue(e!.description.contains("Conv_34"))
    }

    func testWeightsTooLong() {
        let e = loadError(animeParam, animeBin + [0, 0, 0, 0])
        guard case let .weightFile(_, reason)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(reason.contains("too long"), reason)
    }

    func testEmptyWeights() {
        guard case let .weightFile(layer, _)? = loadError(animeParam, []) else { return XCTFail("no error") }
        XCTAssertEqual(layer, "Conv_0")
    }

    func testUnknownWeightTag() {
        var bin = animeBin
        bin[0] = 0x55
        guard case let .weightFile(layer, reason)? = loadError(animeParam, bin) else { return XCTFail("no error") }
        XCTAssertEqual(layer, "Conv_0")
        XCTAssertTrue(reason.contains("tag"), reason)
    }

    func testGarbledLayerType() {
        let garbled = animeParam.replacingOccurrences(of: "PReLU                    PRelu_5", with: "PReLX                    PRelu_5")
        XCTAssertEqual(loadError(garbled, animeBin), .unknownLayerType(layer: "PRelu_5", type: "PReLX"))
    }

    func testMissingBlob() {
        let garbled = animeParam.replacingOccurrences(of: "1 1 56 57", with: "1 1 5x6 57")
        XCTAssertEqual(loadError(garbled, animeBin), .missingBlob(layer: "Conv_2", blob: "5x6"))
    }

    func testBadMagicAndHeader() {
        guard case .malformedParam(line: 1, _)? = loadError("1234\n" + animeParam.split(separator: "\n", maxSplits: 1)[1], animeBin) else {
            return XCTFail("bad magic accepted")
        }
        let noCounts = animeParam.replacingOccurrences(of: "\n40 41\n", with: "\n40\n")
        guard case .malformedParam(line: 2, _)? = loadError(noCounts, animeBin) else { return XCTFail("bad header accepted") }
        let wrongCount = animeParam.replacingOccurrences(of: "\n40 41\n", with: "\n41 41\n")
        guard case .malformedParam? = loadError(wrongCount, animeBin) else { return XCTFail("layer count mismatch accepted") }
    }

    func testGarbledParameterValues() {
        let badKey = animeParam.replacingOccurrences(of: "Conv_4                   1 1 59 60 0=64", with: "Conv_4                   1 1 59 60 x=64")
        guard case .malformedParam(line: 9, _)? = loadError(badKey, animeBin) else { return XCTFail("bad key accepted") }
        let badValue = animeParam.replacingOccurrences(of: "Conv_4                   1 1 59 60 0=64", with: "Conv_4                   1 1 59 60 0=6#4")
        guard case .malformedParam(line: 9, _)? = loadError(badValue, animeBin) else { return XCTFail("bad value accepted") }
        let truncatedLine = animeParam.replacingOccurrences(of: "Conv_4                   1 1 59 60", with: "Conv_4                   1 2 59")
        guard case .malformedParam(line: 9, _)? = loadError(truncatedLine, animeBin) else { return XCTFail("short line accepted") }
    }

    func testAbsurdSizes() {
        let huge = animeParam.replacingOccurrences(of: "Conv_0                   1 1 input.1_splitncnn_1 54 0=64", with: "Conv_0                   1 1 input.1_splitncnn_1 54 0=999999999")
        guard case let .invalidParameter(layer, _)? = loadError(huge, animeBin) else { return XCTFail("absurd num_output accepted") }
        XCTAssertEqual(layer, "Conv_0")
        let inconsistent = animeParam.replacingOccurrences(of: "6=1728", with: "6=1727")
        guard case .invalidParameter(layer: "Conv_0", _)? = loadError(inconsistent, animeBin) else { return XCTFail("bad weight size accepted") }
        let array = animeParam.replacingOccurrences(of: "0=64 1=3 4=1 5=1 6=1728", with: "0=64 1=3 4=1 5=1 6=1728 -23310=99999999,1")
        guard case .malformedParam? = loadError(array, animeBin) else { return XCTFail("absurd array accepted") }
    }

    /// Convolution and Deconvolution share one window parser (KernelWindow): each limit holds for both.
    func testAbsurdWindowsAreRefusedInConvolutionAndDeconvolution() throws {
        let folder = models.appendingPathComponent("waifu2x-upconv7-photo")
        let param = try String(contentsOf: folder.appendingPathComponent("scale2.0x_model.param"), encoding: .utf8)
        let bin = try [UInt8](Data(contentsOf: folder.appendingPathComponent("scale2.0x_model.bin")))
        XCTAssertNil(loadError(param, bin), "the intact model must load")
        let conv = "0=16 1=3 5=1 6=432", deconv = "0=3 1=4 3=2 4=3 5=1 6=12288"
        let cases: [(layer: String, from: String, to: String)] = [
            ("conv1_layer", conv, "0=16 1=0 5=1 6=432"),             // kernel 0
            ("conv1_layer", conv, "0=16 1=3 3=65 5=1 6=432"),        // stride past 64
            ("conv1_layer", conv, "0=16 1=3 4=5000 5=1 6=432"),      // padding past 1024
            ("conv1_layer", conv, "0=16 1=3 2=0 5=1 6=432"),         // dilation 0
            ("conv7_layer", deconv, "0=3 1=99 3=2 4=3 5=1 6=12288"), // kernel past 64
            ("conv7_layer", deconv, "0=3 1=4 3=2 4=-7 5=1 6=12288"), // negative padding that is not "same"
            ("conv7_layer", deconv, "0=3 1=4 3=2 4=3 5=1 6=12288 18=2000"), // output padding past 1024
            ("conv7_layer", deconv, "0=0 1=4 3=2 4=3 5=1 6=12288"),  // num_output 0
            ("conv7_layer", deconv, "0=3 1=4 3=2 4=3 5=1 6=12287"),  // weights not out × in × kernel
        ]
        for c in cases {
            XCTAssertTrue(param.contains(c.from), "fixture changed: \(c.from)")
            let broken = param.replacingOccurrences(of: c.from, with: c.to)
            guard case let .invalidParameter(layer, reason)? = loadError(broken, bin) else {
                XCTFail("\(c.to) accepted"); continue
            }
            XCTAssertEqual(layer, c.layer, "\(c.to): \(reason)")
        }
    }

    func testMissingFilesAreReported() {
        XCTAssertThrowsError(try Net(paramURL: URL(fileURLWithPath: "/nonexistent/x.param"), weightsURL: URL(fileURLWithPath: "/nonexistent/x.bin"))) { e in
            guard case .unreadableFile? = e as? InferenceError else { return XCTFail("\(e)") }
        }
    }

    /// RIFE graphs need the interpolation engineer's `rife.Warp`: without it loading names the
    /// layer; with a registered creator both RIFE graphs load and consume their weights exactly.
    func testRIFEGraphsLoadWithCustomLayerHook() throws {
        for dir in ["rife-v4.0-ncnn", "rife-v4.25-ncnn"] {
            let param = try String(contentsOf: models.appendingPathComponent("\(dir)/flownet.param"), encoding: .utf8)
            let bin = try [UInt8](Data(contentsOf: models.appendingPathComponent("\(dir)/flownet.bin")))
            guard case let .unknownLayerType(_, type)? = loadError(param, bin) else { return XCTFail("\(dir) loaded without rife.Warp") }
            XCTAssertEqual(type, "rife.Warp")
            var registry = LayerRegistry.standard
            registry.register("rife.Warp") { _, _ in PassThroughLayer() }
            let net = try Net(paramText: param, weights: bin, registry: registry)
            XCTAssertEqual(net.inputNames, ["in0", "in1", "in2"])
        }
    }
}

final class PassThroughLayer: Layer {
    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] { [inputs[0]] }
}
