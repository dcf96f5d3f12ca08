import Foundation
import Inference
import XCTest

/// Every other layer the GPU backend runs, against the CPU engine on random data with odd sizes.
final class GPULayerTests: XCTestCase {
    typealias S = GPUTestSupport

    func run(_ layers: [String], inputs: [Tensor], weights: [UInt8] = [], output: String = "out", options: EngineOptions = EngineOptions(),
             _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let device = try S.deviceIndex()
        let net = try S.net(inputs: inputs.count, layers: layers, weights: weights, options: options)
        var named: [String: Tensor] = [:]
        for (i, t) in inputs.enumerated() { named["in\(i)"] = t }
        try S.compare(net, device: device, inputs: named, outputs: [output], what, file: file, line: line)
    }

    func testDeconvolutionWaifu2xShapeAndOthers() throws {
        var random = S.Random(seed: 20)
        // waifu2x-upconv7's last layer: 4×4 stride 2, pad 3, bias (here 8 → 3 channels on an odd input).
        try run(["Deconvolution deconv 1 1 in0 out 0=3 1=4 3=2 4=3 5=1 6=\(3 * 8 * 16)"], inputs: [S.tensor(8, 9, 11, seed: 21)],
                weights: S.weights(tagged: random.values(3 * 8 * 16, -0.5, 0.5), raw: [random.values(3)]), "Deconvolution 4x4 s2 p3")
        // 3×3 stride 1 with ReLU, no bias; 3×2 stride 3×2 dilated with output padding.
        try run(["Deconvolution deconv 1 1 in0 out 0=5 1=3 5=0 6=\(5 * 4 * 9) 9=1"], inputs: [S.tensor(4, 7, 6, seed: 22)],
                weights: S.weights(tagged: random.values(5 * 4 * 9, -0.5, 0.5)), "Deconvolution 3x3 ReLU")
        try run(["Deconvolution deconv 1 1 in0 out 0=2 1=3 11=2 2=2 3=3 13=2 18=1 5=1 6=\(2 * 3 * 6)"], inputs: [S.tensor(3, 5, 4, seed: 23)],
                weights: S.weights(tagged: random.values(2 * 3 * 6, -0.5, 0.5), raw: [random.values(2)]), "Deconvolution strided dilated")
    }

    func testReLUAndLeakyReLUAndPReLU() throws {
        try run(["ReLU relu 1 1 in0 out"], inputs: [S.tensor(3, 7, 9, seed: 30)], "ReLU")
        try run(["ReLU relu 1 1 in0 out 0=0.2"], inputs: [S.tensor(5, 3, 17, seed: 31)], "LeakyReLU")
        try run(["PReLU prelu 1 1 in0 out 0=6"], inputs: [S.tensor(6, 5, 7, seed: 32)],
                weights: S.weights(tagged: nil, raw: [S.Random.values(seed: 33, 6, 0, 1)]), "PReLU per channel")
        try run(["PReLU prelu 1 1 in0 out 0=1"], inputs: [S.tensor(4, 9, 3, seed: 34)], weights: S.weights(tagged: nil, raw: [[0.3]]), "PReLU one slope")
        try run(["PReLU prelu 1 1 in0 out 0=5"], inputs: [S.tensor(dims: 2, 1, 5, 13, seed: 35)],
                weights: S.weights(tagged: nil, raw: [S.Random.values(seed: 36, 5, 0, 1)]), "PReLU 2-D per row")
    }

    func testPixelShuffleBothModes() throws {
        try run(["PixelShuffle ps 1 1 in0 out 0=4"], inputs: [S.tensor(48, 5, 7, seed: 40)], "PixelShuffle ×4")
        try run(["PixelShuffle ps 1 1 in0 out 0=3 1=1"], inputs: [S.tensor(18, 4, 3, seed: 41)], "PixelShuffle ×3 DCR")
        try run(["PixelShuffle ps 1 1 in0 out 0=2"], inputs: [S.tensor(4, 1, 1, seed: 42)], "PixelShuffle 1x1")
    }

    func testInterpModesOfTheModels() throws {
        let x = S.tensor(3, 13, 11, seed: 50)
        try run(["Interp up 1 1 in0 out 0=1 1=4.000000e+00 2=4.000000e+00"], inputs: [x], "nearest ×4 (SR skip)")
        try run(["Interp down 1 1 in0 out 0=3 1=5.000000e-01 2=5.000000e-01"], inputs: [S.tensor(3, 28, 22, seed: 51)], "bicubic ×0.5 (animevideov3 x2)")
        try run(["Interp down 1 1 in0 out 0=3 1=7.500000e-01 2=7.500000e-01"], inputs: [S.tensor(3, 36, 28, seed: 52)], "bicubic ×0.75 (x3)")
        try run(["Interp bl 1 1 in0 out 0=2 1=2.000000e+00 2=2.000000e+00"], inputs: [x], "bilinear ×2")
        try run(["Interp bl 1 1 in0 out 0=2 3=7 4=19 6=1"], inputs: [x], "bilinear to 7x19, align corners")
        try run(["Interp bc 1 1 in0 out 0=3 3=20 4=9"], inputs: [x], "bicubic to 20x9")
        try run(["Interp nn 1 1 in0 out 0=1 3=5 4=30"], inputs: [x], "nearest to 5x30")
    }

    func testBinaryOpsAndBroadcasts() throws {
        let a = S.tensor(4, 7, 9, seed: 60), b = S.tensor(4, 7, 9, seed: 61, range: 0.5...2)
        for op in 0...9 {
            try run(["BinaryOp op 2 1 in0 in1 out 0=\(op)"], inputs: [op == 6 ? S.tensor(4, 7, 9, seed: 62, range: 0.5...2) : a, b], "BinaryOp \(op)")
        }
        try run(["BinaryOp op 1 1 in0 out 0=2 1=1 2=0.75"], inputs: [a], "BinaryOp scalar mul")
        try run(["BinaryOp op 1 1 in0 out 0=7 1=1 2=-2.5"], inputs: [a], "BinaryOp scalar rsub")
        try run(["BinaryOp op 2 1 in0 in1 out 0=0"], inputs: [a, S.tensor(1, 7, 9, seed: 63)], "broadcast c=1")
        try run(["BinaryOp op 2 1 in0 in1 out 0=2"], inputs: [a, S.tensor(4, 1, 1, seed: 64)], "broadcast per channel")
        try run(["BinaryOp op 2 1 in0 in1 out 0=1"], inputs: [a, S.tensor(dims: 1, 1, 1, 4, seed: 65)], "1-D per channel")
        try run(["BinaryOp op 2 1 in0 in1 out 0=3"], inputs: [S.tensor(4, 7, 1, seed: 66, range: 1...2), S.tensor(1, 1, 9, seed: 67, range: 1...2)],
                "outer broadcast")
    }

    /// Split shares the blob; both consumers see the same values (and the pool does not hand its buffer out early).
    func testSplitFeedsSeveralConsumers() throws {
        try run(["Split split 1 3 in0 a b c", "ReLU relu 1 1 a ra", "BinaryOp add 2 1 ra b s", "BinaryOp mul 2 1 s c out 0=2"],
                inputs: [S.tensor(3, 6, 5, seed: 70)], "Split into three")
    }

    /// A small SR-shaped graph (Split, convolutions with fused PReLU, PixelShuffle, nearest up, add, bicubic down).
    static func miniatureSR() throws -> Net {
        var r = S.Random(seed: 80)
        let bytes = S.weights(tagged: r.values(8 * 3 * 9, -0.5, 0.5), raw: [r.values(8), r.values(8, 0, 0.5)])
            + S.weights(tagged: r.values(12 * 8 * 9, -0.5, 0.5), raw: [r.values(12)])
        return try S.net(inputs: 1, layers: [
            "Split s 1 2 in0 a b",
            "Convolution c1 1 1 a c1 0=8 1=3 4=1 5=1 6=216",
            "PReLU p1 1 1 c1 p1 0=8",
            "Convolution c2 1 1 p1 c2 0=12 1=3 4=1 5=1 6=864",
            "PixelShuffle ps 1 1 c2 ps 0=2",
            "Interp up 1 1 b up 0=1 1=2.000000e+00 2=2.000000e+00",
            "BinaryOp add 2 1 ps up sum",
            "Interp down 1 1 sum out 0=3 1=5.000000e-01 2=5.000000e-01",
        ], weights: bytes)
    }

    /// One GPUNet over inputs of changing sizes: the pool hands out buffers of other sizes, and a size seen before
    /// reuses its buffers; every run still matches the CPU engine.
    func testOneNetworkManySizes() throws {
        let device = try S.deviceIndex()
        let net = try GPULayerTests.miniatureSR()
        let gpu = try GPUNet(net: net, device: device)
        for (i, (h, w)) in [(9, 7), (16, 12), (9, 7), (5, 6), (16, 12)].enumerated() {
            let x = S.tensor(3, h, w, seed: UInt64(90 + i))
            let want = try net.run(inputs: ["in0": x], outputs: ["out"])["out"]!
            let got = try gpu.run(inputs: ["in0": x], outputs: ["out"])["out"]!
            XCTAssertEqual(got.shapeDescription, want.shapeDescription)
            let error = zip(got.toArray(), want.toArray()).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(error, 1e-4, "run \(i) at \(w)x\(h)")
        }
        XCTAssertGreaterThan(gpu.weightBytes, (216 + 864) * 4)
    }

    /// Two GPUNets on one device, run from two threads at once (each has its own command pool; submission is locked).
    func testTwoNetworksOnTwoThreads() throws {
        let device = try S.deviceIndex()
        let net = try GPULayerTests.miniatureSR()
        let gpus = [try GPUNet(net: net, device: device), try GPUNet(net: net, device: device)]
        let x = S.tensor(3, 11, 13, seed: 99)
        let want = try net.run(inputs: ["in0": x], outputs: ["out"])["out"]!.toArray()
        let errors = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2)
        defer { errors.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            var worst: Float = 0
            for _ in 0..<3 {
                guard let got = try? gpus[i].run(inputs: ["in0": x], outputs: ["out"])["out"] else { worst = .infinity; break }
                worst = max(worst, zip(got.toArray(), want).map { abs($0 - $1) }.max() ?? .infinity)
            }
            errors[i] = worst
        }
        XCTAssertLessThanOrEqual(errors[0], 1e-4)
        XCTAssertLessThanOrEqual(errors[1], 1e-4)
    }
}
