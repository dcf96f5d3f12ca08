import Inference
import XCTest

/// Convolution on the GPU against the CPU engine: kernel sizes, strides, dilations, paddings (incl. ncnn's "same"
/// -233/-234 and a pad value), bias, every activation the shipped models use (fused PReLU, LeakyReLU, ReLU), odd sizes.
final class GPUConvolutionTests: XCTestCase {
    struct Shape { let cin: Int, cout: Int, h: Int, w: Int, params: String }

    func check(_ s: Shape, bias: Bool = true, activationParams: String = "", seed: UInt64, then extra: [String] = [], extraWeights: [[Float]] = [],
               options: EngineOptions = EngineOptions()) throws {
        let device = try GPUTestSupport.deviceIndex()
        var random = GPUTestSupport.Random(seed: seed)
        let k = s.params.split(separator: " ").first { $0.hasPrefix("1=") }.map { Int($0.dropFirst(2))! } ?? 1
        let kh = s.params.split(separator: " ").first { $0.hasPrefix("11=") }.map { Int($0.dropFirst(3))! } ?? k
        let count = s.cout * s.cin * k * kh
        let w = random.values(count, -0.5, 0.5)
        let b = bias ? [random.values(s.cout)] : []
        let line = "Convolution conv 1 1 in0 conv \(s.params) 0=\(s.cout) 5=\(bias ? 1 : 0) 6=\(count)\(activationParams)"
        let output = extra.isEmpty ? "conv" : "out"
        // Both GPU paths: the fast 3×3 shader where it applies (.auto) and the reference shader (.gemm).
        var reference = options
        reference.convolution = .gemm
        for o in [options, reference] {
            let net = try GPUTestSupport.net(inputs: 1, layers: [line] + extra,
                                             weights: GPUTestSupport.weights(tagged: w, raw: b + extraWeights), options: o)
            try GPUTestSupport.compare(net, device: device, inputs: ["in0": GPUTestSupport.tensor(s.cin, s.h, s.w, seed: seed + 1)], outputs: [output],
                                       "Convolution \(s.params) \(s.cin)→\(s.cout) \(s.h)x\(s.w)\(activationParams) [\(o.convolution)]")
        }
    }

    var unfused: EngineOptions { var o = EngineOptions(); o.fuseLayers = false; return o }

    func testThreeByThreeWithFusedPReLU() throws {
        // The SR models' layer (64 → 64 3×3 pad 1, PReLU fused by Net), small and odd-sized.
        try check(Shape(cin: 16, cout: 12, h: 13, w: 11, params: "1=3 4=1"), seed: 1,
                  then: ["PReLU prelu 1 1 conv out 0=12"], extraWeights: [GPUTestSupport.Random.values(seed: 9, 12, 0, 0.5)])
        // The same with fusion off: PReLU runs as its own shader.
        try check(Shape(cin: 5, cout: 7, h: 9, w: 10, params: "1=3 4=1"), seed: 2,
                  then: ["PReLU prelu 1 1 conv out 0=7"], extraWeights: [GPUTestSupport.Random.values(seed: 8, 7, 0, 0.5)],
                  options: unfused)
    }

    /// More channels than one block (16 outputs) and one chunk (8 inputs), neither a multiple: the tiled shader's edges.
    func testChannelBlocksAndChunks() throws {
        try check(Shape(cin: 19, cout: 35, h: 10, w: 17, params: "1=3 4=1"), seed: 7)
        try check(Shape(cin: 64, cout: 64, h: 9, w: 8, params: "1=3 4=1"), seed: 8,
                  then: ["PReLU prelu 1 1 conv out 0=64"], extraWeights: [GPUTestSupport.Random.values(seed: 17, 64, 0, 0.5)])
    }

    func testFirstLayerAndLastLayerShapes() throws {
        try check(Shape(cin: 3, cout: 8, h: 17, w: 15, params: "1=3 4=1"), seed: 3)   // 3 input channels
        try check(Shape(cin: 8, cout: 48, h: 7, w: 9, params: "1=3 4=1"), seed: 4)   // the ×4 head: 48 = 3·4²
    }

    func testWaifu2xUnpaddedLeakyReLU() throws {
        try check(Shape(cin: 3, cout: 16, h: 14, w: 12, params: "1=3"), activationParams: " 9=2 -23310=1,0.100000", seed: 5)
        try check(Shape(cin: 16, cout: 32, h: 12, w: 10, params: "1=3"), activationParams: " 9=1", seed: 6)   // ReLU
    }

    /// 3×3 stride 2 on `conv3x3s2_r4x8` (RIFE's downsampling): odd sizes, channels no multiple of the 8-channel block,
    /// LeakyReLU, "same" padding, no padding.
    func testThreeByThreeStrideTwo() throws {
        try check(Shape(cin: 19, cout: 13, h: 17, w: 11, params: "1=3 3=2 4=1"), activationParams: " 9=2 -23310=1,0.2", seed: 20)
        try check(Shape(cin: 3, cout: 16, h: 31, w: 29, params: "1=3 3=2 4=1"), seed: 21)      // RIFE's first layer
        try check(Shape(cin: 28, cout: 32, h: 9, w: 14, params: "1=3 3=2 4=-233"), seed: 22)
        try check(Shape(cin: 8, cout: 9, h: 10, w: 13, params: "1=3 3=2"), seed: 23)          // unpadded
    }

    /// Outputs of ≤ `GPUConvolution.lanesMaxPixels` pixels on `conv3x3_lanes` (lanes across output channels): RIFE's
    /// convblocks (192 → 192 at 1×1, 128 at 2×2; stride 2 to 1×1), more output channels than one 64-lane
    /// workgroup, a plane of 3 or 2 pixels (an invocation computes 4), LeakyReLU, a pad value, no padding, no bias; checked
    /// through the layer profile to have run there, within 1e-4 (relative) of the CPU engine, and in fp16.
    func testTinyOutputsRunOnLanes() throws {
        let device = try GPUTestSupport.deviceIndex()
        if ProcessInfo.processInfo.environment["LUMIERE_GPU_LANES"] == "off" { throw XCTSkip("LUMIERE_GPU_LANES=off") }
        let shapes = [Shape(cin: 192, cout: 192, h: 1, w: 1, params: "1=3 4=1"), Shape(cin: 128, cout: 128, h: 2, w: 2, params: "1=3 4=1 9=2 -23310=1,0.2"),
                      Shape(cin: 13, cout: 70, h: 1, w: 3, params: "1=3 4=1"), Shape(cin: 96, cout: 192, h: 2, w: 2, params: "1=3 3=2 4=1"),
                      Shape(cin: 7, cout: 9, h: 3, w: 3, params: "1=3 3=2 4=1 18=0.5"), Shape(cin: 6, cout: 5, h: 4, w: 3, params: "1=3")]
        for (i, s) in shapes.enumerated() {
            var random = GPUTestSupport.Random(seed: 40 + UInt64(i))
            let count = s.cout * s.cin * 9, bias = i != 5
            let net = try GPUTestSupport.net(inputs: 1, layers: ["Convolution conv 1 1 in0 out \(s.params) 0=\(s.cout) 5=\(bias ? 1 : 0) 6=\(count)"],
                                             weights: GPUTestSupport.weights(tagged: random.values(count, -0.3, 0.3), raw: bias ? [random.values(s.cout)] : []))
            let inputs = ["in0": GPUTestSupport.tensor(s.cin, s.h, s.w, seed: 50 + UInt64(i))]
            let what = "\(s.cin)→\(s.cout) \(s.h)x\(s.w) \(s.params)"
            let gpu = try GPUNet(net: net, device: device)
            gpu.profileLayers = true
            _ = try gpu.run(inputs: inputs, outputs: ["out"])
            XCTAssertEqual(gpu.lastLayerProfile.first { $0.type == "Convolution" }?.kind.hasPrefix("conv3x3_lanes "), true, "\(what) ran elsewhere")
            let error = try GPUTestSupport.compare(net, device: device, inputs: inputs, outputs: ["out"], tolerance: 1e-4, what)
            print("conv3x3_lanes \(what): max relative error \(error)")
            let cpu = try net.run(inputs: inputs, outputs: ["out"])["out"]!.toArray()
            for (precision, tolerance) in [(GPUPrecision.fp16Storage, Float(4e-3)), (.fp16, 1e-2)] {
                guard let half = try? GPUNet(net: net, device: device, precision: precision) else { continue }   // no 16-bit storage
                let got = try half.run(inputs: inputs, outputs: ["out"])["out"]!.toArray()
                let e = zip(got, cpu).map { abs($0 - $1) }.max()! / max(1, cpu.map(abs).max()!)
                XCTAssertLessThanOrEqual(e, tolerance, "\(what) \(precision): \(e) (relative)")
            }
        }
    }

    func testOtherKernelsStridesDilationsAndPadding() throws {
        try check(Shape(cin: 4, cout: 6, h: 15, w: 13, params: "1=3 3=2 4=1"), seed: 10)          // 3×3 stride 2 (RIFE)
        try check(Shape(cin: 5, cout: 3, h: 11, w: 12, params: "1=1"), bias: false, seed: 11)     // 1×1 no bias
        try check(Shape(cin: 3, cout: 4, h: 16, w: 13, params: "1=5 11=3 2=2 4=2 14=1"), seed: 12) // 5×3 dilated
        try check(Shape(cin: 3, cout: 4, h: 10, w: 9, params: "1=4 3=2 4=-233"), seed: 13)        // same-upper
        try check(Shape(cin: 2, cout: 3, h: 9, w: 8, params: "1=3 3=2 4=-234"), seed: 14)         // same-lower
        try check(Shape(cin: 2, cout: 3, h: 7, w: 6, params: "1=3 4=2 18=0.5"), seed: 15)         // pad value
    }
}
