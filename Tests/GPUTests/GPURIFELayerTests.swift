import Inference
import XCTest

/// The layers the RIFE graphs add to the SR models' set (Crop, Slice, Concat, Eltwise, MemoryData, Sigmoid, rife.Warp)
/// and the RIFE variants of Deconvolution / Interp / BinaryOp, against the CPU engine on random data with odd sizes,
/// in the forms and on the axes flownet.param uses (models/rife-v4.0-ncnn, models/rife-v4.25-ncnn) and a few more.
final class GPURIFELayerTests: XCTestCase {
    typealias S = GPUTestSupport

    func run(_ layers: [String], inputs: [Tensor], weights: [UInt8] = [], outputs: [String] = ["out"], registry: LayerRegistry = .standard,
             _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let device = try S.deviceIndex()
        let net = try S.net(inputs: inputs.count, layers: layers, weights: weights, registry: registry)
        var named: [String: Tensor] = [:]
        for (i, t) in inputs.enumerated() { named["in\(i)"] = t }
        try S.compare(net, device: device, inputs: named, outputs: outputs, what, file: file, line: line)
    }

    func testCropForms() throws {
        let x = S.tensor(7, 9, 11, seed: 100)
        // flownet.param's channel crops (numpy form, axis 0) — v4.0's and v4.25's.
        for (start, end) in [(0, 2), (0, 4), (2, 4), (4, 5), (0, 3), (0, 1)] {
            try run(["Crop c 1 1 in0 out -23309=1,\(start) -23310=1,\(end) -23311=1,0"], inputs: [x], "Crop channels \(start)..<\(end)")
        }
        try run(["Crop c 1 1 in0 out -23309=2,1,-4 -23310=2,-1,-233 -23311=2,1,2"], inputs: [x], "Crop rows/columns, negative and -233")
        try run(["Crop c 1 1 in0 out -23309=1,3 -23310=1,-2 -23311=1,-1"], inputs: [S.tensor(dims: 2, 1, 5, 13, seed: 101)], "Crop 2-D last axis")
        try run(["Crop c 1 1 in0 out 0=1 1=2 2=1 3=5 4=4 5=3"], inputs: [x], "Crop offsets and sizes")
        try run(["Crop c 1 1 in0 out 0=2 1=1 6=3 7=2 3=-233 4=-233 5=-233"], inputs: [x], "Crop offsets from both sides")
        try run(["Crop c 2 1 in0 in1 out 0=3 1=2 2=1"], inputs: [x, S.tensor(4, 5, 6, seed: 102)], "Crop to a reference blob")
        try run(["Crop c 1 1 in0 out -23309=1,0 -23310=1,7 -23311=1,0", "Sigmoid s 1 1 out o2"], inputs: [x], outputs: ["out", "o2"],
                "Crop that keeps everything (passes its input through)")
    }

    func testSliceForms() throws {
        // v4.25: four / one / the rest of the channels.
        try run(["Slice s 1 3 in0 a b c -23300=3,4,1,-233 1=0"], inputs: [S.tensor(11, 7, 5, seed: 110)], outputs: ["a", "b", "c"], "Slice 4,1,rest")
        try run(["Slice s 1 2 in0 a b -23300=2,-233,-233 1=1"], inputs: [S.tensor(3, 10, 5, seed: 111)], outputs: ["a", "b"], "Slice rows in halves")
        try run(["Slice s 1 3 in0 a b c -23302=2,3,-2 1=-1"], inputs: [S.tensor(2, 3, 9, seed: 112)], outputs: ["a", "b", "c"], "Slice columns at indices")
        try run(["Slice s 1 2 in0 a b -23300=2,5,-233 1=0"], inputs: [S.tensor(dims: 1, 1, 1, 13, seed: 113)], outputs: ["a", "b"], "Slice 1-D")
    }

    func testConcatAxes() throws {
        let a = S.tensor(3, 9, 7, seed: 120), b = S.tensor(5, 9, 7, seed: 121), c = S.tensor(1, 9, 7, seed: 122), d = S.tensor(2, 9, 7, seed: 123)
        try run(["Concat cat 2 1 in0 in1 out 0=0"], inputs: [a, b], "Concat 2 on channels")
        try run(["Concat cat 4 1 in0 in1 in2 in3 out"], inputs: [a, b, c, d], "Concat 4 on channels")
        try run(["Concat cat 3 1 in0 in1 in2 out 0=1"], inputs: [S.tensor(2, 3, 5, seed: 124), S.tensor(2, 4, 5, seed: 125), S.tensor(2, 1, 5, seed: 126)],
                "Concat on rows")
        try run(["Concat cat 2 1 in0 in1 out 0=-1"], inputs: [S.tensor(2, 3, 5, seed: 127), S.tensor(2, 3, 2, seed: 128)], "Concat on columns")
        try run(["Concat cat 2 1 in0 in1 out 0=0"], inputs: [S.tensor(dims: 2, 1, 3, 4, seed: 129), S.tensor(dims: 2, 1, 2, 4, seed: 130)], "Concat 2-D rows")
        // Many inputs (7: RIFE's largest Concat) on each axis; an input twice.
        for (axis, n) in [(0, 7), (0, 9), (1, 9), (2, 8)] {
            let shapes = (0..<n).map { i in (axis == 0 ? 1 + i % 3 : 2, axis == 1 ? 1 + i % 3 : 3, axis == 2 ? 1 + i % 3 : 5) }
            let names = (0..<n).map { "in\($0)" }.joined(separator: " ")
            try run(["Concat cat \(n) 1 \(names) out 0=\(axis)"], inputs: shapes.enumerated().map { S.tensor($1.0, $1.1, $1.2, seed: 131 + UInt64($0)) },
                    "Concat \(n) on axis \(axis)")
        }
        try run(["Concat cat 3 1 in0 in1 in0 out 0=0"], inputs: [a, b], "Concat with an input twice")
    }

    func testEltwiseOps() throws {
        let a = S.tensor(4, 7, 9, seed: 140), b = S.tensor(4, 7, 9, seed: 141), c = S.tensor(4, 7, 9, seed: 142)
        try run(["Eltwise e 2 1 in0 in1 out 0=1 -23301=2,1.000000e+00,4.000000e+00"], inputs: [a, b], "Eltwise sum 1, 4 (v4.0)")
        try run(["Eltwise e 3 1 in0 in1 in2 out 0=1 -23301=3,0.5,-2,3"], inputs: [a, b, c], "Eltwise weighted sum of 3")
        try run(["Eltwise e 3 1 in0 in1 in2 out 0=1"], inputs: [a, b, c], "Eltwise sum of 3")
        try run(["Eltwise e 3 1 in0 in1 in2 out 0=0"], inputs: [a, b, c], "Eltwise product of 3")
        try run(["Eltwise e 2 1 in0 in1 out 0=2"], inputs: [a, b], "Eltwise max")
    }

    /// v4.25's per-channel scale and shift: MemoryData c × 1 × 1 broadcast against the feature map.
    func testMemoryDataBroadcast() throws {
        let scale = S.Random.values(seed: 150, 6), shift = S.Random.values(seed: 151, 6)
        try run(["MemoryData m 0 1 m 0=1 1=1 2=6", "MemoryData n 0 1 n 0=1 1=1 2=6", "BinaryOp mul 2 1 in0 m t 0=2", "BinaryOp add 2 1 t n out 0=0"],
                inputs: [S.tensor(6, 5, 7, seed: 152)], weights: S.weights(tagged: nil, raw: [scale, shift]), "MemoryData scale and shift")
        // A 2-D constant against a 3-D blob: ncnn reshapes 3 × 4 to 3 channels × 4 rows × 1 column.
        try run(["MemoryData m 0 1 m 0=4 1=3", "BinaryOp add 2 1 in0 m out"], inputs: [S.tensor(3, 4, 5, seed: 153)],
                weights: S.weights(tagged: nil, raw: [S.Random.values(seed: 154, 12)]), "MemoryData 2-D broadcast")
    }

    /// The constant is the network's, not the run's: after its last reader in one run, no later layer (here the
    /// scalar add, whose output has the constant's size, 4 KiB, a pool size) may take its buffer, and later runs still
    /// see it.
    func testMemoryDataSurvivesRuns() throws {
        let device = try S.deviceIndex()
        let net = try S.net(inputs: 1, layers: ["MemoryData m 0 1 m 0=1 1=1 2=1024", "BinaryOp mul 2 1 in0 m t 0=2", "BinaryOp add 1 1 t out 0=0 1=1 2=1.0"],
                            weights: S.weights(tagged: nil, raw: [S.Random.values(seed: 160, 1024)]))
        let gpu = try GPUNet(net: net, device: device)
        for seed in [161, 162, 163] as [UInt64] {
            let inputs = ["in0": S.tensor(1024, 1, 1, seed: seed)]
            let want = try net.run(inputs: inputs, outputs: ["out"])["out"]!, got = try gpu.run(inputs: inputs, outputs: ["out"])["out"]!
            let error = zip(got.toArray(), want.toArray()).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(error, 1e-5, "run with seed \(seed)")
        }
    }

    func testSigmoid() throws {
        try run(["Sigmoid s 1 1 in0 out"], inputs: [S.tensor(3, 7, 9, seed: 170, range: -8...8)], "Sigmoid 3-D")
        try run(["Sigmoid s 1 1 in0 out"], inputs: [S.tensor(dims: 2, 1, 5, 13, seed: 171, range: -8...8)], "Sigmoid 2-D")
    }

    func testRIFEWarp() throws {
        let flow = S.tensor(2, 13, 11, seed: 181, range: -5...5)
        // A few NaN flows (read as no motion) and flows far outside the image (every tap clamps to an edge).
        flow.withUnsafeMutableValues { v in v[3] = .nan; v[13 * 11 + 40] = .nan; v[7] = 1e6; v[13 * 11 + 9] = -1e6 }
        let layers = ["rife.Warp w 2 1 in0 in1 out 0=6"]
        try run(layers, inputs: [S.tensor(3, 13, 11, seed: 180), flow], registry: .withRIFE, "rife.Warp RGB")
        try run(layers, inputs: [S.tensor(8, 13, 11, seed: 182), flow], registry: .withRIFE, "rife.Warp features")
        try run(layers, inputs: [S.tensor(1, 1, 1, seed: 183), S.tensor(2, 1, 1, seed: 184, range: -3...3)], registry: .withRIFE, "rife.Warp 1x1")
        // A flow of the wrong size is the CPU layer's typed error, at run time.
        let gpu = try GPUNet(net: S.net(inputs: 2, layers: layers, registry: .withRIFE), device: S.deviceIndex())
        XCTAssertThrowsError(try gpu.run(inputs: ["in0": S.tensor(3, 13, 11, seed: 185), "in1": S.tensor(2, 13, 10, seed: 186)], outputs: ["out"])) { error in
            guard case InferenceError.invalidInput(let why) = error else { return XCTFail("expected invalidInput, got \(error)") }
            XCTAssertTrue(why.contains("2x13x11"), why)
        }
    }

    func testRIFEVariantsOfTheFirstSliceLayers() throws {
        var random = S.Random(seed: 190)
        // v4.25's deconvolution with every parameter spelled out (4×4 stride 2 pad 1, no output padding).
        try run(["Deconvolution d 1 1 in0 out 0=4 1=4 11=4 12=1 13=2 14=1 18=0 19=0 2=1 3=2 4=1 5=1 6=\(4 * 6 * 16)"],
                inputs: [S.tensor(6, 5, 7, seed: 191)], weights: S.weights(tagged: random.values(4 * 6 * 16, -0.5, 0.5), raw: [random.values(4)]),
                "Deconvolution v4.25")
        // v4.0's, with its shorter parameters.
        try run(["Deconvolution d 1 1 in0 out 0=5 1=4 3=2 4=1 5=1 6=\(5 * 3 * 16)"],
                inputs: [S.tensor(3, 6, 5, seed: 192)], weights: S.weights(tagged: random.values(5 * 3 * 16, -0.5, 0.5), raw: [random.values(5)]),
                "Deconvolution v4.0")
        // Bilinear resizes by the flow scales, align_corner 0 spelled out; an Interp without a scale passes through.
        let x = S.tensor(2, 32, 48, seed: 193)
        for scale in ["6.250000e-02", "1.250000e-01", "2.500000e-01", "5.000000e-01"] {
            try run(["Interp i 1 1 in0 out 0=2 1=\(scale) 2=\(scale) 6=0"], inputs: [x], "bilinear ×\(scale)")
        }
        for scale in ["2.000000e+00", "4.000000e+00", "8.000000e+00", "1.600000e+01"] {
            try run(["Interp i 1 1 in0 out 0=2 1=\(scale) 2=\(scale)"], inputs: [S.tensor(2, 3, 5, seed: 194)], "bilinear ×\(scale)")
        }
        try run(["Interp i 1 1 in0 t 0=2", "Sigmoid s 1 1 t out"], inputs: [x], "Interp without scale")
        // Scalar BinaryOps of the flow arithmetic (div, add, mul by 0) and the timestep's broadcast.
        let a = S.tensor(4, 7, 9, seed: 195)
        for (op, value) in [(3, "2.000000e+00"), (0, "1.000000e+00"), (2, "0.000000e+00"), (2, "1.600000e+01"), (7, "1.000000e+00")] {
            try run(["BinaryOp b 1 1 in0 out 0=\(op) 1=1 2=\(value)"], inputs: [a], "BinaryOp \(op) scalar \(value)")
        }
        try run(["BinaryOp b 2 1 in0 in1 out 0=2"], inputs: [a, S.tensor(1, 7, 9, seed: 196)], "BinaryOp mul by a 1-channel plane")
    }
}
