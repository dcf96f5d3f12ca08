import Foundation
import Inference
import TestSupport
import XCTest

/// What the GPU tests share: the device to run on (a missing prerequisite skips, or fails under LUMIERE_STRICT=1 as in
/// CI, which has lavapipe), single-layer networks written on the fly, and the CPU engine as the oracle.
enum GPUTestSupport {
    /// The device index the tests use: $LUMIERE_GPU_DEVICE, else 0 (lavapipe on a machine without a GPU).
    static func deviceIndex() throws -> Int {
        guard ComputeDevices.shadersAvailable else {
            throw Fixtures.missing("this build has no GPU shaders (glslangValidator was missing at build time): install glslang-tools and rebuild")
        }
        let devices: [ComputeDeviceInfo]
        do { devices = try ComputeDevices.list() } catch let error as GPUError {
            throw Fixtures.missing("no Vulkan (\(error)); install libvulkan1 and mesa-vulkan-drivers")
        }
        guard !devices.isEmpty else { throw Fixtures.missing("Vulkan sees no device; install mesa-vulkan-drivers (lavapipe)") }
        let index = Int(ProcessInfo.processInfo.environment["LUMIERE_GPU_DEVICE"] ?? "") ?? 0
        guard devices.indices.contains(index) else { throw Fixtures.missing("LUMIERE_GPU_DEVICE=\(index): only \(devices.count) device(s)") }
        return index
    }

    /// Seeded uniform values in [lo, hi) (SplitMix64): reproducible inputs and weights.
    struct Random {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> Float {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(z >> 40) / Float(1 << 24)
        }
        mutating func values(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in lo + (hi - lo) * next() } }
        static func values(seed: UInt64, _ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
            var r = Random(seed: seed)
            return r.values(n, lo, hi)
        }
    }

    /// A network of Input layers named in0, in1… (shapes given) followed by `layers` (ncnn .param lines after the type,
    /// e.g. "Convolution conv 1 1 in0 out 0=4 1=3 …"), with `weights` as the .bin.
    static func net(inputs: Int, layers: [String], weights: [UInt8] = [], options: EngineOptions = EngineOptions(),
                    registry: LayerRegistry = .standard) throws -> Net {
        var lines = (0..<inputs).map { "Input in\($0) 0 1 in\($0)" }
        lines += layers
        var blobs = Set<String>()
        for line in lines {
            let f = line.split(separator: " ").map(String.init)
            let nb = Int(f[2])!, nt = Int(f[3])!
            for b in f[4..<(4 + nb + nt)] { blobs.insert(b) }
        }
        let text = "7767517\n\(lines.count) \(blobs.count)\n" + lines.joined(separator: "\n") + "\n"
        return try Net(paramText: text, weights: weights, options: options, registry: registry)
    }

    /// A tagged fp32 weight record (Convolution / Deconvolution weights) then raw records (bias, slopes).
    static func weights(tagged: [Float]?, raw: [[Float]] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        if let tagged {
            bytes += [0, 0, 0, 0]
            tagged.withUnsafeBytes { bytes += $0 }
        }
        for r in raw { r.withUnsafeBytes { bytes += $0 } }
        return bytes
    }

    static func tensor(dims: Int = 3, _ c: Int, _ h: Int, _ w: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
        var random = Random(seed: seed)
        let t = Tensor(dims: dims, channels: c, height: h, width: w)
        let v = random.values(c * h * w, range.lowerBound, range.upperBound)
        t.withUnsafeMutableValues { for i in 0..<v.count { $0[i] = v[i] } }
        return t
    }

    /// Runs `net` on the CPU and on the GPU and checks every output: same shape, max |difference| ≤ `tolerance` ×
    /// max(1, the CPU output's largest magnitude). Returns the largest error seen (relative as checked).
    @discardableResult
    static func compare(_ net: Net, device: Int, inputs: [String: Tensor], outputs: [String], tolerance: Float = 1e-3,
                        _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> Float {
        let cpu = try net.run(inputs: inputs, outputs: outputs)
        let gpu = try GPUNet(net: net, device: device).run(inputs: inputs, outputs: outputs)
        var worst: Float = 0
        for name in outputs {
            guard let want = cpu[name], let got = gpu[name] else { XCTFail("\(what): no output \(name)", file: file, line: line); continue }
            XCTAssertEqual(got.shapeDescription, want.shapeDescription, "\(what): \(name) shape", file: file, line: line)
            XCTAssertEqual(got.dims, want.dims, "\(what): \(name) rank", file: file, line: line)
            guard got.count == want.count else { continue }
            let scale = max(1, want.withUnsafeValues { $0.map(abs).max() ?? 0 })
            let error = got.withUnsafeValues { g in want.withUnsafeValues { w in zip(g, w).map { abs($0 - $1) }.max() ?? 0 } } / scale
            XCTAssertFalse(error.isNaN, "\(what): \(name) has NaN", file: file, line: line)
            XCTAssertLessThanOrEqual(error, tolerance, "\(what): \(name) GPU differs from the CPU engine by \(error) (relative)", file: file, line: line)
            worst = max(worst, error)
        }
        return worst
    }
}
