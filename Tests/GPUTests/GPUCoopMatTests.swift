import Foundation
import Inference
import TestSupport
import XCTest

/// The cooperative-matrix 3×3 convolution (`conv3x3_coopmat`, CooperativeMatrixConvolution). The rule, the weight
/// layout and the listing are checked everywhere; that the path is not taken where the device lacks it, on any device
/// (lavapipe here). The shader itself runs only on a device with VK_NV_cooperative_matrix's 16×16×16 fp16 → fp32
/// shape and subgroups of 32 (an NVIDIA GPU; no lavapipe offers it): there those tests compare it with the reference
/// shader and the CPU engine, layer by layer and on whole models, and check from the run's dispatches that it ran.
/// Elsewhere they skip (`Fixtures.hardware`, also under LUMIERE_STRICT=1: CI has no such device by design).
final class GPUCoopMatTests: XCTestCase {
    typealias S = GPUTestSupport
    typealias C = CooperativeMatrixConvolution
    static let coopShader = "conv3x3_coopmat_fp16a"

    /// Runs `body` with LUMIERE_GPU_COOPMAT set to `value` (read when a GPUNet is made), then unsets it.
    func with<T>(coopMat value: String, _ body: () throws -> T) rethrows -> T {
        setenv("LUMIERE_GPU_COOPMAT", value, 1)
        defer { unsetenv("LUMIERE_GPU_COOPMAT") }
        return try body()
    }

    /// The device the tests use (`GPUTestSupport.deviceIndex`), whether it runs the path, and why not.
    func coopMatDevice() throws -> (index: Int, offered: Bool, why: String) {
        let index = try S.deviceIndex()
        let info = try ComputeDevices.list()[index]
        return (index, info.cooperativeMatrixConvolution,
                "gpu:\(index) (\(info.name)) cannot run conv3x3_coopmat: it needs VK_NV_cooperative_matrix with the \(C.shape) shape, "
                + "subgroups of \(C.subgroupSize) and fp16 (an NVIDIA GPU; no lavapipe has it; LUMIERE_GPU_DEVICE=N picks another "
                + "device); its listing: \(info.cooperativeMatrixColumn)")
    }

    // MARK: Everywhere

    /// The device must list exactly the shader's shape (fp16 inputs, fp32 accumulator) and subgroups of 32.
    func testTheRule() {
        let wanted = CooperativeMatrixShape(m: 16, n: 16, k: 16, a: .fp16, b: .fp16, c: .fp32, result: .fp32)
        let halfOnly = CooperativeMatrixShape(m: 16, n: 16, k: 16, a: .fp16, b: .fp16, c: .fp16, result: .fp16)
        let narrow = CooperativeMatrixShape(m: 16, n: 8, k: 16, a: .fp16, b: .fp16, c: .fp32, result: .fp32)
        XCTAssertTrue(C.usable(nvShapes: [halfOnly, narrow, wanted], subgroupSize: 32))
        XCTAssertFalse(C.usable(nvShapes: [halfOnly, narrow], subgroupSize: 32), "fp16 accumulation only, or 16x8")
        XCTAssertFalse(C.usable(nvShapes: [wanted], subgroupSize: 64), "64-wide subgroups (the shader's tiles assume 32)")
        XCTAssertFalse(C.usable(nvShapes: [], subgroupSize: 32))
    }

    /// Packed weights: [block of 32 outputs][k = input · 9 + tap, padded to 16][32 outputs], fp16, zeros elsewhere.
    func testPackedWeightLayout() {
        let inputs = 5, outputs = 37
        let w = S.Random.values(seed: 400, outputs * inputs * 9)
        let packed = C.packWeights(w, inputs: inputs, outputs: outputs)
        XCTAssertEqual(C.paddedK(inputs: inputs), 48)
        XCTAssertEqual(C.paddedK(inputs: 16), 144)
        XCTAssertEqual(packed.count, 2 * 48 * 32)
        var nonZero = 0
        for block in 0..<2 {
            for k in 0..<48 {
                for n in 0..<32 {
                    let oc = block * 32 + n, ic = k / 9, tap = k % 9
                    let value = packed[(block * 48 + k) * 32 + n]
                    if oc < outputs && ic < inputs {
                        XCTAssertEqual(value, Float16(w[(oc * inputs + ic) * 9 + tap]), "oc \(oc) ic \(ic) tap \(tap)")
                        nonZero += 1
                    } else {
                        XCTAssertEqual(value, 0, "padding at block \(block) k \(k) n \(n)")
                    }
                }
            }
        }
        XCTAssertEqual(nonZero, outputs * inputs * 9)
    }

    /// The shader's arithmetic, modelled step by step on the CPU: A gathered as conv3x3_coopmat.comp gathers it
    /// (k = input · 9 + tap, the input pixel ((ox · stride − padLeft + tap % 3), (oy · stride − padTop + tap / 3)), the
    /// pad value outside, 0 past the real k, fp16), times the packed B, over every step of 16, plus the bias: the CPU
    /// engine's convolution within fp16 rounding, at stride 1 and 2. (The GPU runs of the same are the tests below.)
    func testImplicitGEMMModelIsTheConvolution() throws {
        for (n, stride) in [1, 2].enumerated() {
            let inC = 5, outC = 37, h = 7, w = 11
            var random = S.Random(seed: 440 + UInt64(n))
            let weights = random.values(outC * inC * 9, -0.3, 0.3), bias = random.values(outC)
            let net = try S.net(inputs: 1, layers: ["Convolution conv 1 1 in0 out 0=\(outC) 1=3 3=\(stride) 4=1 5=1 6=\(outC * inC * 9)"],
                                weights: S.weights(tagged: weights, raw: [bias]))
            let input = S.tensor(inC, h, w, seed: 450 + UInt64(n))
            let cpu = try net.run(inputs: ["in0": input], outputs: ["out"])["out"]!
            let x = input.toArray(), packed = C.packWeights(weights, inputs: inC, outputs: outC), k = C.paddedK(inputs: inC)
            var model = [Float](repeating: 0, count: cpu.count)
            for oc in 0..<outC {
                for oy in 0..<cpu.height {
                    for ox in 0..<cpu.width {
                        var sum: Float = 0
                        for kk in 0..<k {
                            var a: Float16 = 0
                            if kk < inC * 9 {
                                let c = kk / 9, tap = kk % 9, iy = oy * stride - 1 + tap / 3, ix = ox * stride - 1 + tap % 3
                                a = iy >= 0 && iy < h && ix >= 0 && ix < w ? Float16(x[(c * h + iy) * w + ix]) : 0
                            }
                            sum += Float(a) * Float(packed[((oc / 32) * k + kk) * 32 + oc % 32])
                        }
                        model[(oc * cpu.height + oy) * cpu.width + ox] = sum + bias[oc]
                    }
                }
            }
            let want = cpu.toArray(), scale = max(1, want.map(abs).max()!)
            let error = zip(model, want).map { abs($0 - $1) }.max()! / scale
            XCTAssertLessThanOrEqual(error, 2e-3, "stride \(stride): the model differs from the CPU engine by \(error)")
            print("implicit-GEMM model, stride \(stride), \(inC)→\(outC) at \(w)x\(h): max relative error \(error)")
        }
    }

    /// `--list-devices` names the NV shapes and whether the convolution can run; a KHR-only device reads as before.
    func testListingColumn() {
        let nv = [CooperativeMatrixShape(m: 16, n: 16, k: 16, a: .fp16, b: .fp16, c: .fp16, result: .fp16), C.shape]
        let gpu = ComputeDeviceInfo(index: 0, name: "G", type: .discrete, memoryBytes: 1 << 30, fp16: true, cooperativeMatrix: true,
                                    cooperativeMatrixShapes: [C.shape], nvCooperativeMatrixShapes: nv, subgroupSize: 32)
        XCTAssertEqual(gpu.cooperativeMatrixColumn,
                       "cooperative matrix yes: fp16 16x16x16->fp32; NV: fp16 16x16x16->fp16, fp16 16x16x16->fp32; coopmat conv3x3 yes")
        XCTAssertTrue(gpu.cooperativeMatrixConvolution)
        let noHalf = ComputeDeviceInfo(index: 0, name: "G", type: .discrete, memoryBytes: 1 << 30, fp16: false, cooperativeMatrix: false,
                                       nvCooperativeMatrixShapes: nv, subgroupSize: 32)
        XCTAssertEqual(noHalf.cooperativeMatrixColumn, "cooperative matrix no; NV: fp16 16x16x16->fp16, fp16 16x16x16->fp32; coopmat conv3x3 no")
        let khrOnly = ComputeDeviceInfo(index: 0, name: "G", type: .discrete, memoryBytes: 1 << 30, fp16: true, cooperativeMatrix: true,
                                        cooperativeMatrixShapes: [C.shape])
        XCTAssertEqual(khrOnly.cooperativeMatrixColumn, "cooperative matrix yes: fp16 16x16x16->fp32")
        XCTAssertFalse(khrOnly.cooperativeMatrixConvolution)
    }

    /// On a device without the path (lavapipe), LUMIERE_GPU_COOPMAT=on changes nothing: the run's dispatches show the
    /// register-blocked shader and no conv3x3_coopmat, and the result is the one without the switch.
    func testNotTakenWhereNotOffered() throws {
        let (device, offered, _) = try coopMatDevice()
        if offered { throw XCTSkip("gpu:\(device) has the path (the tests below run it)") }
        var random = S.Random(seed: 410)
        let net = try S.net(inputs: 1, layers: ["Convolution conv 1 1 in0 out 0=8 1=3 4=1 5=1 6=\(8 * 8 * 9)"],
                            weights: S.weights(tagged: random.values(8 * 8 * 9, -0.3, 0.3), raw: [random.values(8)]))
        let inputs = ["in0": S.tensor(8, 9, 11, seed: 411)]
        let precision: GPUPrecision = try ComputeDevices.list()[device].fp16 ? .fp16 : .fp32
        let on = try with(coopMat: "on") { try GPUNet(net: net, device: device, precision: precision) }
        let plain = try GPUNet(net: net, device: device, precision: precision)
        let a = try on.run(inputs: inputs, outputs: ["out"])["out"]!.toArray(), b = try plain.run(inputs: inputs, outputs: ["out"])["out"]!.toArray()
        XCTAssertNil(on.lastRunDispatches[Self.coopShader], "\(on.lastRunDispatches)")
        XCTAssertEqual(on.lastRunDispatches.filter { $0.key.hasPrefix("conv3x3_r") }.values.reduce(0, +), 1, "\(on.lastRunDispatches)")
        XCTAssertEqual(a, b)
    }

    // MARK: On a device with the path

    /// One layer at a time, against the CPU engine (fp32) and the reference shader at fp16: channels not multiples of
    /// 16 or 32, odd sizes, widths across several 32-pixel tiles, stride 1 and 2, bias and a fused activation. Within
    /// 1e-2 of the output's scale, the tolerance of fp16 arithmetic in GPUPrecisionTests.
    func testLayersAgainstReferenceAndCPU() throws {
        let (device, offered, why) = try coopMatDevice()
        try Fixtures.hardware(offered, why)
        let shapes: [(inC: Int, outC: Int, h: Int, w: Int, stride: Int)] = [
            (3, 8, 9, 13, 1), (17, 37, 11, 35, 1), (64, 64, 16, 40, 1), (24, 17, 13, 9, 2), (40, 70, 7, 67, 2), (1, 1, 1, 1, 1),
        ]
        for (n, s) in shapes.enumerated() {
            var random = S.Random(seed: 420 + UInt64(n))
            let layer = "Convolution conv 1 1 in0 out 0=\(s.outC) 1=3 3=\(s.stride) 4=1 5=1 6=\(s.outC * s.inC * 9) 9=2 -23310=1,0.2"
            let weights = S.weights(tagged: random.values(s.outC * s.inC * 9, -0.3, 0.3), raw: [random.values(s.outC)])
            let net = try S.net(inputs: 1, layers: [layer], weights: weights)
            let reference = try S.net(inputs: 1, layers: [layer], weights: weights, options: EngineOptions(convolution: .gemm))
            let inputs = ["in0": S.tensor(s.inC, s.h, s.w, seed: 430 + UInt64(n))]
            let what = "\(s.inC)→\(s.outC) at \(s.w)x\(s.h) stride \(s.stride)"
            let coop = try with(coopMat: "on") { try GPUNet(net: net, device: device, precision: .fp16) }
            let got = try coop.run(inputs: inputs, outputs: ["out"])["out"]!
            XCTAssertEqual(coop.lastRunDispatches[Self.coopShader], 1, "\(what): \(coop.lastRunDispatches)")
            let cpu = try net.run(inputs: inputs, outputs: ["out"])["out"]!
            let ref = try GPUNet(net: reference, device: device, precision: .fp16).run(inputs: inputs, outputs: ["out"])["out"]!
            XCTAssertEqual(got.shapeDescription, cpu.shapeDescription, what)
            let scale = max(1, cpu.toArray().map(abs).max()!)
            for (name, want) in [("CPU engine", cpu), ("reference shader", ref)] {
                let error = zip(got.toArray(), want.toArray()).map { abs($0 - $1) }.max()! / scale
                XCTAssertLessThanOrEqual(error, 1e-2, "\(what): differs from the \(name) by \(error) (relative)")
                print("coopmat \(what): max relative error against the \(name) \(error)")
            }
            // The switch off: the same net takes the other shaders.
            let off = try with(coopMat: "off") { try GPUNet(net: net, device: device, precision: .fp16) }
            _ = try off.run(inputs: inputs, outputs: ["out"])
            XCTAssertNil(off.lastRunDispatches[Self.coopShader], "\(what), LUMIERE_GPU_COOPMAT=off: \(off.lastRunDispatches)")
        }
    }

    /// Every 3×3 layer of a model on the path (the dispatches say so), ≥ 45 dB PSNR against the CPU engine in fp32.
    func checkModel(_ what: String, net: Net, device: Int, output: (InferenceRunner) throws -> Tensor) throws {
        let coop = try with(coopMat: "on") { try GPUNet(net: net, device: device, precision: .fp16) }
        let got = try output(coop)
        let coopRuns = coop.lastRunDispatches[Self.coopShader] ?? 0
        let otherConvolutions = coop.lastRunDispatches.filter { key, _ in
            ["conv3x3_r", "conv3x3s2", "conv3x3_lanes", "winograd"].contains { key.hasPrefix($0) }
        }
        XCTAssertGreaterThan(coopRuns, 0, "\(what): \(coop.lastRunDispatches)")
        XCTAssertTrue(otherConvolutions.isEmpty, "\(what): 3×3 layers off the path: \(otherConvolutions)")
        let want = try output(net)
        let psnr = GPUPrecisionTests.psnr(got, want)
        print("\(what): coopmat fp16 vs CPU fp32 PSNR \(String(format: "%.2f", psnr)) dB, \(coopRuns) conv3x3_coopmat dispatches in the last run")
        XCTAssertGreaterThanOrEqual(psnr, 45, what)
    }

    func testAnimeVideoV3x4() throws {
        let (device, offered, why) = try coopMatDevice()
        try Fixtures.hardware(offered, why)
        let stem = "realesr-animevideov3/realesr-animevideov3-x4"
        let net = try Net(paramURL: GPUModelTests.models.appendingPathComponent(stem + ".param"),
                          weightsURL: GPUModelTests.models.appendingPathComponent(stem + ".bin"))
        let image = try GPUModelTests.crop(width: 48, height: 40)
        let input = net.inputNames[0], output = net.definitions.last!.tops[0]
        try checkModel(stem, net: net, device: device) { runner in
            try TiledUpscaler(net: runner, inputName: input, outputName: output, scale: 4, border: .samePadding(context: 20)).upscale(image)
        }
    }

    func testRIFEv425() throws {
        let (device, offered, why) = try coopMatDevice()
        try Fixtures.hardware(offered, why)
        let net = try GPURIFEModelTests.net("rife-v4.25-ncnn")
        let inputs = try GPURIFEModelTests.inputs()
        try checkModel("rife-v4.25", net: net, device: device) { runner in try runner.run(inputs: inputs, outputs: ["out0"])["out0"]! }
    }
}
