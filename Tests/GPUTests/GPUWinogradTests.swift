import Foundation
import Inference
import XCTest

/// The Winograd paths of 3×3 stride-1 convolutions, F(2×2, 3×3) and F(4×4, 3×3) (winograd<m>3_input, winograd_t4k8,
/// winograd<m>3_output), against the CPU engine on awkward sizes: odd widths and heights (part-empty edge tiles), a 1×1
/// image, channel counts that are no multiple of 4 or of the shader's 8-channel block, no padding, a pad value,
/// "same" padding, bias and activations; fp16 blobs and fp16 arithmetic too. Each case also checks, through the layer
/// profile, that the Winograd variant asked for really ran.
final class GPUWinogradTests: XCTestCase {
    typealias S = GPUTestSupport

    struct Case { let cin: Int, cout: Int, h: Int, w: Int, params: String }

    /// A one-convolution net (3×3 weights in [-0.5, 0.5], a bias, `params` after the shape) and its input.
    func make(_ c: Case, seed: UInt64) throws -> (Net, [String: Tensor]) {
        var random = S.Random(seed: seed)
        let count = c.cout * c.cin * 9
        let net = try S.net(inputs: 1, layers: ["Convolution conv 1 1 in0 out 0=\(c.cout) 1=3 5=1 6=\(count) \(c.params)"],
                            weights: S.weights(tagged: random.values(count, -0.5, 0.5), raw: [random.values(c.cout)]))
        return (net, ["in0": S.tensor(c.cin, c.h, c.w, seed: seed + 1)])
    }

    /// The shaders the net's convolution ran, from a profiled run.
    func kinds(_ net: Net, _ inputs: [String: Tensor], device: Int, precision: GPUPrecision = .fp32) throws -> [String] {
        let gpu = try GPUNet(net: net, device: device, precision: precision)
        gpu.profileLayers = true
        _ = try gpu.run(inputs: inputs, outputs: ["out"])
        return gpu.lastLayerProfile.filter { $0.type == "Convolution" }.map(\.kind)
    }

    func winogradIsOn() throws {
        if ProcessInfo.processInfo.environment["LUMIERE_GPU_WINOGRAD"] == "off" { throw XCTSkip("LUMIERE_GPU_WINOGRAD=off") }
    }

    /// Runs `body` with nets loaded for F(side×side, 3×3) (LUMIERE_GPU_WINOGRAD_TILE, read at load), for each side.
    func forEachTile(_ body: (_ side: Int) throws -> Void) throws {
        let before = getenv("LUMIERE_GPU_WINOGRAD_TILE").map { String(cString: $0) }
        defer { if let before { setenv("LUMIERE_GPU_WINOGRAD_TILE", before, 1) } else { unsetenv("LUMIERE_GPU_WINOGRAD_TILE") } }
        for side in [2, 4] {
            setenv("LUMIERE_GPU_WINOGRAD_TILE", "\(side)", 1)
            try body(side)
        }
    }

    func testAwkwardSizesMatchTheCPULayer() throws {
        try winogradIsOn()
        let device = try S.deviceIndex()
        let cases = [
            Case(cin: 17, cout: 21, h: 7, w: 5, params: "4=1"),                        // odd sizes, channels no multiple of 4
            Case(cin: 16, cout: 16, h: 1, w: 1, params: "4=1"),                        // one pixel: one tile, 3 of 4 empty
            Case(cin: 33, cout: 18, h: 13, w: 3, params: "4=1 9=2 -23310=1,0.2"),      // LeakyReLU, more tiles than 8
            Case(cin: 16, cout: 20, h: 6, w: 9, params: ""),                          // unpadded: 4×7 output
            Case(cin: 20, cout: 16, h: 5, w: 6, params: "4=1 18=0.5"),                 // pad value
            Case(cin: 18, cout: 19, h: 9, w: 11, params: "4=-233 9=1"),               // "same" padding, ReLU
            Case(cin: 64, cout: 64, h: 31, w: 37, params: "4=1"),                      // the SR layer, 304 tiles
        ]
        try forEachTile { side in
            for (i, c) in cases.enumerated() {
                let (net, inputs) = try make(c, seed: 500 + UInt64(i) * 10)
                let what = "Winograd F(\(side),3) \(c.cin)→\(c.cout) \(c.h)x\(c.w) \(c.params)"
                XCTAssertEqual(try kinds(net, inputs, device: device).first?.hasPrefix("winograd\(side)3 "), true, "\(what) did not run")
                // In fp32 Winograd differs from the direct sum by rounding only (measured on lavapipe: ≤ 1.1e-5, the 64 → 64 case): 1e-4 catches any slip.
                let error = try S.compare(net, device: device, inputs: inputs, outputs: ["out"], tolerance: 1e-4, what)
                print("\(what): max relative error \(error)")
            }
        }
    }

    /// The rule (`GPUConvolution.winogradSide`, from GPUBenchmarkTests.testWinogradCrossover) as a net sees it: by
    /// channels and output size, the direct shader, F(2,3) or F(4,3); never Winograd under 16 channels or for a
    /// strided layer. Each against the CPU engine too.
    func testTheRulePicksBySizeAndChannels() throws {
        try winogradIsOn()
        let device = try S.deviceIndex()
        let before = getenv("LUMIERE_GPU_WINOGRAD_TILE").map { String(cString: $0) }
        unsetenv("LUMIERE_GPU_WINOGRAD_TILE")
        defer { if let before { setenv("LUMIERE_GPU_WINOGRAD_TILE", before, 1) } }
        let cases: [(Case, String)] = [
            (Case(cin: 3, cout: 64, h: 32, w: 32, params: "4=1"), "conv3x3_"),        // 3 input channels
            (Case(cin: 64, cout: 12, h: 32, w: 32, params: "4=1"), "conv3x3_"),       // 12 outputs
            (Case(cin: 32, cout: 32, h: 33, w: 33, params: "4=1 3=2"), "conv3x3s2_"),  // stride 2: the direct stride-2 shader
            (Case(cin: 32, cout: 32, h: 33, w: 33, params: "4=1 2=2"), "convolution"), // dilated: the reference shader
            (Case(cin: 64, cout: 64, h: 4, w: 4, params: "4=1"), "conv3x3_"),          // too small
            (Case(cin: 64, cout: 64, h: 8, w: 9, params: "4=1"), "winograd23 "),
            (Case(cin: 32, cout: 40, h: 8, w: 8, params: "4=1"), "conv3x3_"),          // F(2,3) needs 64 channels
            (Case(cin: 40, cout: 32, h: 16, w: 17, params: "4=1"), "winograd43 "),
            (Case(cin: 16, cout: 24, h: 16, w: 16, params: "4=1"), "conv3x3_"),        // 16 channels: F(4,3) from 32×32
            (Case(cin: 16, cout: 24, h: 32, w: 33, params: "4=1"), "winograd43 "),
        ]
        for (i, (c, want)) in cases.enumerated() {
            let (net, inputs) = try make(c, seed: 600 + UInt64(i) * 10)
            let kind = try kinds(net, inputs, device: device).first ?? ""
            XCTAssertTrue(kind.hasPrefix(want), "\(c.cin)→\(c.cout) \(c.h)x\(c.w) \(c.params) ran \(kind), expected \(want)")
            try S.compare(net, device: device, inputs: inputs, outputs: ["out"], "\(kind) \(c.cin)→\(c.cout) \(c.h)x\(c.w)")
        }
    }

    /// fp16 blobs (fp32 products) and fp16 products: within fp16 rounding of the CPU engine, like the other layers
    /// (GPUPrecisionTests' tolerances); F(2,3)'s fp16 products really differ from fp32 ones where the device has them,
    /// F(4,3)'s stay fp32.
    func testFP16() throws {
        try winogradIsOn()
        let device = try S.deviceIndex()
        let (net, inputs) = try make(Case(cin: 24, cout: 17, h: 11, w: 9, params: "4=1"), seed: 700)
        let cpu = try net.run(inputs: inputs, outputs: ["out"])["out"]!.toArray()
        try forEachTile { side in
            var results: [GPUPrecision: [Float]] = [:]
            for (precision, tolerance) in [(GPUPrecision.fp16Storage, Float(4e-3)), (.fp16, 1e-2)] {
                let gpu: GPUNet
                do { gpu = try GPUNet(net: net, device: device, precision: precision) } catch GPUError.unsupported(let why) { throw XCTSkip(why) }
                XCTAssertEqual(try kinds(net, inputs, device: device, precision: precision).first?.hasPrefix("winograd\(side)3 "), true)
                let got = try gpu.run(inputs: inputs, outputs: ["out"])["out"]!.toArray()
                let scale = max(1, cpu.map(abs).max()!)
                let error = zip(got, cpu).map { abs($0 - $1) }.max()! / scale
                XCTAssertLessThanOrEqual(error, tolerance, "\(precision): Winograd F(\(side),3) differs from the CPU engine by \(error) (relative)")
                print("Winograd F(\(side),3) \(precision): max relative error \(error)")
                results[precision] = got
                // F(2,3) multiplies in fp16 where the device can; F(4,3) always in fp32 (too coarse in fp16: 2.6e-2 here).
                if precision == .fp16, gpu.fp16Arithmetic, side == 2 { XCTAssertNotEqual(got, results[.fp16Storage], "fp16 products gave the fp32 products' result") }
                if precision == .fp16, side == 4 { XCTAssertEqual(got, results[.fp16Storage], "F(4,3) products are not fp32 under .fp16") }
            }
        }
    }
}
