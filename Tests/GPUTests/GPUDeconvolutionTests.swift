import Foundation
import Inference
import XCTest

/// The register-blocked 4×4 stride-2 deconvolution (`deconv4x4s2_r4x8`, `deconv4x4s2_r4x4`; deconv4x4s2_regs.glsl)
/// against the CPU engine on awkward shapes: odd sizes, a 1×1 input, channel counts no multiple of 4 or of the 8-channel
/// block, every cut the models and ncnn use (RIFE's pad 1, waifu2x's pad 3, none, asymmetric, output padding,
/// "same" with an output size), no bias, LeakyReLU; fp16 blobs and arithmetic too. Each case checks through the layer
/// profile that the fast shader ran, and that `.gemm` still runs the reference gather.
final class GPUDeconvolutionTests: XCTestCase {
    typealias S = GPUTestSupport

    struct Case { let cin: Int, cout: Int, h: Int, w: Int, params: String }

    let cases = [
        Case(cin: 16, cout: 4, h: 9, w: 7, params: "4=1 5=1"),                          // RIFE's 16 → 4 (r4x4), odd sizes
        Case(cin: 13, cout: 52, h: 5, w: 6, params: "4=1 5=1 9=2 -23310=1,0.2"),        // RIFE's → 52, LeakyReLU
        Case(cin: 3, cout: 5, h: 2, w: 2, params: "4=1 5=1"),                           // the smallest output the rule sends: 4×4
        Case(cin: 9, cout: 3, h: 8, w: 11, params: "4=3 5=1"),                          // waifu2x's cut of 3 (odd start)
        Case(cin: 6, cout: 10, h: 4, w: 5, params: "5=0"),                              // no cut, no bias: 10x12 output
        Case(cin: 5, cout: 7, h: 6, w: 3, params: "4=0 15=1 14=2 16=1 5=1 18=1 19=1"),  // asymmetric cuts, output padding
        Case(cin: 4, cout: 9, h: 7, w: 9, params: "4=-233 20=15 21=12 5=1"),            // "same" cut to a 15x12 output
    ]

    func make(_ c: Case, seed: UInt64, options: EngineOptions = EngineOptions()) throws -> (Net, [String: Tensor]) {
        var random = S.Random(seed: seed)
        let count = c.cout * c.cin * 16
        let net = try S.net(inputs: 1, layers: ["Deconvolution d 1 1 in0 out 0=\(c.cout) 1=4 3=2 6=\(count) \(c.params)"],
                            weights: S.weights(tagged: random.values(count, -0.5, 0.5), raw: c.params.contains("5=1") ? [random.values(c.cout)] : []),
                            options: options)
        return (net, ["in0": S.tensor(c.cin, c.h, c.w, seed: seed + 1)])
    }

    /// What the net's deconvolution ran, from a profiled run.
    func kind(_ net: Net, _ inputs: [String: Tensor], device: Int, precision: GPUPrecision = .fp32) throws -> String {
        let gpu = try GPUNet(net: net, device: device, precision: precision)
        gpu.profileLayers = true
        _ = try gpu.run(inputs: inputs, outputs: ["out"])
        return gpu.lastLayerProfile.first { $0.type == "Deconvolution" }?.kind ?? "none"
    }

    func testFastShaderMatchesTheCPULayer() throws {
        if ProcessInfo.processInfo.environment["LUMIERE_GPU_DECONV"] == "reference" { throw XCTSkip("LUMIERE_GPU_DECONV=reference") }
        let device = try S.deviceIndex()
        for (i, c) in cases.enumerated() {
            let what = "Deconvolution 4x4s2 \(c.cin)→\(c.cout) \(c.h)x\(c.w) \(c.params)"
            let (net, inputs) = try make(c, seed: 800 + UInt64(i) * 10)
            let ran = try kind(net, inputs, device: device)
            XCTAssertTrue(ran.hasPrefix(c.cout <= 4 ? "deconv4x4s2_r4x4 " : "deconv4x4s2_r4x8 "), "\(what) ran \(ran)")
            // Only the summation order differs from the CPU's (measured on lavapipe: ≤ 4e-7): 1e-4 catches any slip.
            let error = try S.compare(net, device: device, inputs: inputs, outputs: ["out"], tolerance: 1e-4, what)
            print("\(what): max relative error \(error)")
            // The reference gather stays reachable (`.gemm`) and agrees.
            let (reference, _) = try make(c, seed: 800 + UInt64(i) * 10, options: EngineOptions(convolution: .gemm))
            XCTAssertTrue(try kind(reference, inputs, device: device).hasPrefix("deconvolution "), "\(what): .gemm did not run the reference")
            try S.compare(reference, device: device, inputs: inputs, outputs: ["out"], tolerance: 1e-4, "\(what) (reference)")
        }
    }

    /// Other shapes keep the reference gather, and so do 4×4 stride-2 outputs under `fastMinPixels` (a 1×1 input).
    func testOtherShapesRunTheReference() throws {
        let device = try S.deviceIndex()
        let (small, smallInputs) = try make(Case(cin: 7, cout: 6, h: 1, w: 1, params: "4=1 5=1"), seed: 870)
        XCTAssertTrue(try kind(small, smallInputs, device: device).hasPrefix("deconvolution "), "a 2×2 output ran the fast shader")
        try S.compare(small, device: device, inputs: smallInputs, outputs: ["out"], tolerance: 1e-4, "Deconvolution 4x4s2 to 2x2")
        var random = S.Random(seed: 880)
        // 3×3 stride 2, 4×4 stride 1, dilated, 4×2: (params, taps).
        for (params, taps) in [("1=3 3=2 4=1", 9), ("1=4 3=1 4=1", 16), ("1=4 3=2 2=2 4=1", 16), ("1=4 11=2 3=2 4=1", 8)] {
            let net = try S.net(inputs: 1, layers: ["Deconvolution d 1 1 in0 out 0=3 5=0 6=\(3 * 2 * taps) \(params)"],
                                weights: S.weights(tagged: random.values(3 * 2 * taps, -0.5, 0.5)))
            let inputs = ["in0": S.tensor(2, 5, 6, seed: 881)]
            XCTAssertTrue(try kind(net, inputs, device: device).hasPrefix("deconvolution "), params)
            try S.compare(net, device: device, inputs: inputs, outputs: ["out"], tolerance: 1e-4, "Deconvolution \(params)")
        }
    }

    /// fp16 blobs, with fp32 and with fp16 multiply-adds: within fp16 rounding of the CPU engine (the tolerances of
    /// GPUPrecisionTests), and fp16 arithmetic really used where the device offers it.
    func testFP16() throws {
        if ProcessInfo.processInfo.environment["LUMIERE_GPU_DECONV"] == "reference" { throw XCTSkip("LUMIERE_GPU_DECONV=reference") }
        let device = try S.deviceIndex()
        for (i, c) in [cases[1], cases[3]].enumerated() {
            let (net, inputs) = try make(c, seed: 900 + UInt64(i) * 10)
            let cpu = try net.run(inputs: inputs, outputs: ["out"])["out"]!.toArray()
            var results: [GPUPrecision: [Float]] = [:]
            for (precision, tolerance) in [(GPUPrecision.fp16Storage, Float(4e-3)), (.fp16, 1e-2)] {
                let gpu: GPUNet
                do { gpu = try GPUNet(net: net, device: device, precision: precision) } catch GPUError.unsupported(let why) { throw XCTSkip(why) }
                XCTAssertTrue(try kind(net, inputs, device: device, precision: precision).hasPrefix("deconv4x4s2_r4x"))
                let got = try gpu.run(inputs: inputs, outputs: ["out"])["out"]!.toArray()
                let error = zip(got, cpu).map { abs($0 - $1) }.max()! / max(1, cpu.map(abs).max()!)
                XCTAssertLessThanOrEqual(error, tolerance, "\(precision) \(c.cin)→\(c.cout): \(error) (relative) from the CPU engine")
                print("Deconvolution 4x4s2 \(c.cin)→\(c.cout) \(precision): max relative error \(error)")
                results[precision] = got
                if precision == .fp16, gpu.fp16Arithmetic { XCTAssertNotEqual(got, results[.fp16Storage], "fp16 multiply-adds gave the fp32 ones' result") }
            }
        }
    }
}
