import Foundation
import Inference
import TestSupport
import XCTest

/// `GPUNet(precision: .fp16 / .fp16Storage)`: fp16 blobs, with fp16 multiply-adds in the convolutions where the device
/// offers shaderFloat16 (lavapipe does) or fp32 arithmetic. Each layer stays within fp16 rounding of the CPU engine;
/// whole models on real pictures stay ≥ 45 dB PSNR from the fp32 GPU result in both modes; the blobs really take
/// half the memory; fp16 arithmetic is really used where offered.
final class GPUPrecisionTests: XCTestCase {
    typealias S = GPUTestSupport

    /// The device index, or a skip (a failure under LUMIERE_STRICT=1) when it has no 16-bit storage buffers.
    func fp16Device() throws -> Int {
        let device = try S.deviceIndex()
        do { _ = try GPUNet(net: S.net(inputs: 1, layers: ["ReLU r 1 1 in0 out"]), device: device, precision: .fp16) } catch GPUError.unsupported(let why) {
            throw Fixtures.missing("gpu:\(device) cannot store fp16 blobs: \(why)")
        }
        return device
    }

    /// PSNR of `got` against `want` on the 0…1 scale, both clamped to it (as frames are written).
    static func psnr(_ got: Tensor, _ want: Tensor) -> Double {
        let g = got.toArray(), w = want.toArray()
        precondition(g.count == w.count)
        let mse = zip(g, w).reduce(0.0) { sum, p in
            let d = Double(min(max(p.0, 0), 1)) - Double(min(max(p.1, 0), 1))
            return sum + d * d
        } / Double(max(1, g.count))
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }

    func run(_ net: Net, device: Int, _ precision: GPUPrecision, inputs: [String: Tensor], outputs: [String]) throws -> [String: Tensor] {
        try GPUNet(net: net, device: device, precision: precision).run(inputs: inputs, outputs: outputs)
    }

    /// Every layer kind once, fp16 blobs against the CPU engine: within 4e-3 of the output's scale with fp32 arithmetic
    /// (fp16 keeps 11 significant bits, 4.9e-4 relative; a 3×3 convolution over 8 channels sums 72 rounded inputs),
    /// 1e-2 with fp16 multiply-adds.
    func testLayersWithinFP16Rounding() throws {
        let device = try fp16Device()
        var random = S.Random(seed: 300)
        let conv = "Convolution conv 1 1 in0 c 0=8 1=3 4=1 5=1 6=\(8 * 8 * 9) 9=2 -23310=1,0.2"
        let layers = [conv, "Split sp 1 2 c c1 c2", "Deconvolution d 1 1 c1 up 0=2 1=4 3=2 4=1 5=1 6=\(2 * 8 * 16)",
                      "Interp i 1 1 c2 ci 0=2 1=2.0 2=2.0", "Crop cr 1 1 ci flow -23309=1,0 -23310=1,2 -23311=1,0",
                      "rife.Warp w 2 1 up flow warped", "MemoryData m 0 1 m 0=1 1=1 2=2", "BinaryOp b 2 1 warped m scaled 0=2",
                      "Eltwise e 2 1 scaled up sum 0=1 -23301=2,1.0,0.5", "Sigmoid s 1 1 sum sig",
                      "Concat cat 3 1 sig up up cat2", "Slice sl 1 2 cat2 out rest -23300=2,2,-233", "PixelShuffle ps 1 1 rest shuffled 0=2"]
        let weights = S.weights(tagged: random.values(8 * 8 * 9, -0.3, 0.3), raw: [random.values(8)])
            + S.weights(tagged: random.values(2 * 8 * 16, -0.3, 0.3), raw: [random.values(2), [0.5, 2]])
        // Both convolution shaders: the tiled 3×3 one (default) and the reference one (`.gemm`).
        for options in [EngineOptions(), EngineOptions(convolution: .gemm)] {
            let net = try S.net(inputs: 1, layers: layers, weights: weights, options: options, registry: .withRIFE)
            let inputs = ["in0": S.tensor(8, 11, 13, seed: 301)]
            let cpu = try net.run(inputs: inputs, outputs: ["out", "shuffled"])
            for (precision, tolerance) in [(GPUPrecision.fp16Storage, Float(4e-3)), (.fp16, 1e-2)] {
                let half = try run(net, device: device, precision, inputs: inputs, outputs: ["out", "shuffled"])
                let full = try GPUNet(net: net, device: device).run(inputs: inputs, outputs: ["out", "shuffled"])
                for name in ["out", "shuffled"] {
                    let want = cpu[name]!.toArray(), got = half[name]!.toArray()
                    XCTAssertEqual(half[name]!.shapeDescription, cpu[name]!.shapeDescription)
                    let scale = max(1, want.map(abs).max()!)
                    let error = zip(got, want).map { abs($0 - $1) }.max()! / scale
                    XCTAssertLessThanOrEqual(error, tolerance, "\(name): \(precision) differs from the CPU engine by \(error) (relative)")
                    // …and it is fp16: rounded where fp32 on the same device is not.
                    XCTAssertNotEqual(got, full[name]!.toArray(), "\(name): fp16 gave exactly the fp32 result")
                    print("\(precision) layers (\(options.convolution) convolution), \(name): max relative error \(error)")
                }
            }
        }
    }

    /// `.fp16` multiply-adds in fp16 exactly when the device offers shaderFloat16 (`ComputeDeviceInfo.fp16`), and then
    /// gives other results than `.fp16Storage`; `.fp16Storage` never does.
    func testFP16ArithmeticWhereOffered() throws {
        let device = try fp16Device()
        var random = S.Random(seed: 320)
        let net = try S.net(inputs: 1, layers: ["Convolution conv 1 1 in0 out 0=16 1=3 4=1 5=0 6=\(16 * 16 * 9)"],
                            weights: S.weights(tagged: random.values(16 * 16 * 9, -0.3, 0.3)))
        let arithmetic = try GPUNet(net: net, device: device, precision: .fp16), storage = try GPUNet(net: net, device: device, precision: .fp16Storage)
        let offered = try ComputeDevices.list()[device].fp16
        XCTAssertEqual(arithmetic.fp16Arithmetic, offered)
        XCTAssertFalse(storage.fp16Arithmetic)
        XCTAssertFalse(try GPUNet(net: net, device: device).fp16Arithmetic)
        let inputs = ["in0": S.tensor(16, 9, 11, seed: 321)]
        let a = try arithmetic.run(inputs: inputs, outputs: ["out"])["out"]!.toArray(), b = try storage.run(inputs: inputs, outputs: ["out"])["out"]!.toArray()
        if offered { XCTAssertNotEqual(a, b, "fp16 arithmetic gave exactly the fp32-arithmetic result") } else { XCTAssertEqual(a, b) }
    }

    /// fp16 blobs take half the bytes of fp32 ones (a run's pool holds what its largest blobs need).
    func testFP16BlobsTakeHalfTheMemory() throws {
        let device = try fp16Device()
        let net = try S.net(inputs: 1, layers: ["ReLU r 1 1 in0 a", "Sigmoid s 1 1 a out"])
        let inputs = ["in0": S.tensor(16, 64, 64, seed: 310)]   // 256 KiB as fp32
        let full = try GPUNet(net: net, device: device), half = try GPUNet(net: net, device: device, precision: .fp16)
        _ = try full.run(inputs: inputs, outputs: ["out"])
        _ = try half.run(inputs: inputs, outputs: ["out"])
        // Both hold the fp32 staging for the input and output (2 × 256 KiB); the device blobs (two: the Sigmoid's output
        // reuses the input's buffer) halve.
        let staging = 2 * 16 * 64 * 64 * 4
        XCTAssertEqual(Double(half.bufferBytes - staging), Double(full.bufferBytes - staging) / 2, accuracy: 3 * 4096,
                       "fp16 \(half.bufferBytes) bytes, fp32 \(full.bufferBytes) bytes")
    }

    func testSRModelFP16PSNR() throws {
        let device = try fp16Device()
        let stem = "realesr-animevideov3/realesr-animevideov3-x4"
        let net = try Net(paramURL: GPUModelTests.models.appendingPathComponent(stem + ".param"),
                          weightsURL: GPUModelTests.models.appendingPathComponent(stem + ".bin"))
        // 24×24: lavapipe's reference convolutions take about a minute per run of the 48×40 crop on this shared machine.
        let image = try GPUModelTests.crop(width: 24, height: 24)
        let input = net.inputNames[0], output = net.definitions.last!.tops[0]
        func upscale(_ runner: InferenceRunner) throws -> Tensor {
            try TiledUpscaler(net: runner, inputName: input, outputName: output, scale: 4, border: .samePadding(context: 20)).upscale(image)
        }
        let full = try upscale(GPUNet(net: net, device: device))
        for precision in [GPUPrecision.fp16, .fp16Storage] {
            let half = try upscale(GPUNet(net: net, device: device, precision: precision))
            let psnr = GPUPrecisionTests.psnr(half, full)
            print("\(stem): \(precision) vs fp32 PSNR \(String(format: "%.2f", psnr)) dB")
            XCTAssertGreaterThanOrEqual(psnr, 45, "\(precision)")
            XCTAssertLessThan(psnr, .infinity, "\(precision) gave exactly the fp32 result")
        }
    }

    func checkRIFE(_ model: String) throws {
        let device = try fp16Device()
        let net = try GPURIFEModelTests.net(model)
        let inputs = try GPURIFEModelTests.inputs()
        let full = try GPUNet(net: net, device: device).run(inputs: inputs, outputs: ["out0"])["out0"]!
        for precision in [GPUPrecision.fp16, .fp16Storage] {
            let half = try run(net, device: device, precision, inputs: inputs, outputs: ["out0"])["out0"]!
            let psnr = GPUPrecisionTests.psnr(half, full)
            print("\(model): \(precision) vs fp32 PSNR \(String(format: "%.2f", psnr)) dB")
            XCTAssertGreaterThanOrEqual(psnr, 45, "\(precision)")
            XCTAssertLessThan(psnr, .infinity, "\(precision) gave exactly the fp32 result")
        }
    }

    func testRIFEv40FP16PSNR() throws { try checkRIFE("rife-v4.0-ncnn") }
    func testRIFEv425FP16PSNR() throws { try checkRIFE("rife-v4.25-ncnn") }
}
