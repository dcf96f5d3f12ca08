import Foundation
import Inference
import XCTest

/// RIFE's convblock tail, BinaryOp mul → BinaryOp add (→ ReLU), run as one dispatch (`GPUScaleResidual`,
/// scale_residual.comp): against the CPU engine, bit for bit against the unfused layers in fp32, in both operand
/// orders, without the ReLU, and left unfused where the run or the graph does not allow it (an intermediate blob asked
/// for as an output, a second reader of the product, a residual that broadcasts). The layer profile says what ran.
final class GPUFusionTests: XCTestCase {
    typealias S = GPUTestSupport

    /// in0 (5 × 7 × 9) → 3×3 convolution → · m (MemoryData, one value per channel) → + residual → `tail` layers.
    func make(mul: String = "c m", add: String = "cm in0", tail: [String], residual: String? = nil, seed: UInt64) throws -> (Net, [String: Tensor]) {
        var random = S.Random(seed: seed)
        let c = 5
        var layers = ["Convolution conv 1 1 in0 c 0=\(c) 1=3 4=1 5=1 6=\(c * c * 9)", "MemoryData m 0 1 m 0=1 1=1 2=\(c)"]
        var raw = [random.values(c), random.values(c, 0.5, 1.5)]
        if let residual { layers.append(residual); raw.append(random.values(c)) }
        layers += ["BinaryOp mul 2 1 \(mul) cm 0=2", "BinaryOp add 2 1 \(add) s 0=0"] + tail
        let net = try S.net(inputs: 1, layers: layers, weights: S.weights(tagged: random.values(c * c * 9, -0.4, 0.4), raw: raw))
        return (net, ["in0": S.tensor(c, 7, 9, seed: seed + 1)])
    }

    /// Outputs and the profile's kinds of one run, fused (the default) or with LUMIERE_GPU_FUSE=off at load.
    func run(_ net: Net, _ inputs: [String: Tensor], outputs: [String], fuse: Bool = true,
             precision: GPUPrecision = .fp32) throws -> (out: [String: [Float]], kinds: [String]) {
        let before = getenv("LUMIERE_GPU_FUSE").map { String(cString: $0) }
        defer { if let before { setenv("LUMIERE_GPU_FUSE", before, 1) } else { unsetenv("LUMIERE_GPU_FUSE") } }
        if fuse { unsetenv("LUMIERE_GPU_FUSE") } else { setenv("LUMIERE_GPU_FUSE", "off", 1) }
        let gpu = try GPUNet(net: net, device: try S.deviceIndex(), precision: precision)
        let plain = try gpu.run(inputs: inputs, outputs: outputs).mapValues { $0.toArray() }
        gpu.profileLayers = true
        let profiled = try gpu.run(inputs: inputs, outputs: outputs).mapValues { $0.toArray() }
        XCTAssertEqual(plain, profiled, "a profiled run differs")
        return (plain, gpu.lastLayerProfile.map(\.kind))
    }

    func testChainIsOneDispatchAndTheUnfusedResultBitForBit() throws {
        let device = try S.deviceIndex()
        let forms: [(mul: String, add: String, tail: [String], kind: String)] = [
            ("c m", "cm in0", ["ReLU r 1 1 s out 0=0.2"], "scale_residual (mul+add+ReLU)"),   // RIFE's spelling
            ("m c", "in0 cm", ["ReLU r 1 1 s out"], "scale_residual (mul+add+ReLU)"),         // operands swapped, plain ReLU
            ("c m", "cm in0", ["Sigmoid g 1 1 s out"], "scale_residual (mul+add)"),           // no ReLU after the add
        ]
        for (i, f) in forms.enumerated() {
            let (net, inputs) = try make(mul: f.mul, add: f.add, tail: f.tail, seed: 1000 + UInt64(i) * 10)
            let what = "mul \(f.mul), add \(f.add), then \(f.tail[0])"
            let fused = try run(net, inputs, outputs: ["out"])
            XCTAssertEqual(fused.kinds.filter { $0.hasPrefix("scale_residual") }, [f.kind], what)
            XCTAssertFalse(fused.kinds.contains("GPUBinaryOp"), "\(what): a BinaryOp ran unfused")
            XCTAssertEqual(fused.kinds.count, net.definitions.count - (f.kind.hasSuffix("ReLU)") ? 2 : 1), "\(what): \(fused.kinds)")
            let unfused = try run(net, inputs, outputs: ["out"], fuse: false)
            XCTAssertFalse(unfused.kinds.contains { $0.hasPrefix("scale_residual") }, "\(what): LUMIERE_GPU_FUSE=off fused")
            XCTAssertEqual(fused.out["out"], unfused.out["out"], "\(what): fused differs from the unfused layers")
            try S.compare(net, device: device, inputs: inputs, outputs: ["out"], tolerance: 1e-4, what)
        }
    }

    func testLeftUnfusedWhereNotAllowed() throws {
        let device = try S.deviceIndex()
        // The product asked for as an output: this run cannot skip it (another run of the same net fuses).
        let (net, inputs) = try make(tail: ["ReLU r 1 1 s out 0=0.2"], seed: 1100)
        let both = try run(net, inputs, outputs: ["out", "cm"])
        XCTAssertFalse(both.kinds.contains { $0.hasPrefix("scale_residual") }, "fused although 'cm' was asked for: \(both.kinds)")
        try S.compare(net, device: device, inputs: inputs, outputs: ["out", "cm"], tolerance: 1e-4, "product as an output")
        XCTAssertTrue(try run(net, inputs, outputs: ["out"]).kinds.contains { $0.hasPrefix("scale_residual") })
        // A second reader of the product: no chain.
        let (shared, sharedInputs) = try make(tail: ["ReLU r 1 1 s t 0=0.2", "BinaryOp again 2 1 t cm out 0=0"], seed: 1110)
        XCTAssertFalse(try run(shared, sharedInputs, outputs: ["out"]).kinds.contains { $0.hasPrefix("scale_residual") })
        try S.compare(shared, device: device, inputs: sharedInputs, outputs: ["out"], tolerance: 1e-4, "product read twice")
        // A residual that broadcasts (one value per channel): the layers run as they are.
        let (broadcast, broadcastInputs) = try make(add: "cm b", tail: ["ReLU r 1 1 s out"], residual: "MemoryData b 0 1 b 0=1 1=1 2=5", seed: 1120)
        XCTAssertFalse(try run(broadcast, broadcastInputs, outputs: ["out"]).kinds.contains { $0.hasPrefix("scale_residual") })
        try S.compare(broadcast, device: device, inputs: broadcastInputs, outputs: ["out"], tolerance: 1e-4, "broadcast residual")
    }

    /// fp16 blobs: the fused step within fp16 rounding of the CPU engine (GPUPrecisionTests' tolerance).
    func testFP16() throws {
        let (net, inputs) = try make(tail: ["ReLU r 1 1 s out 0=0.2"], seed: 1200)
        let cpu = try net.run(inputs: inputs, outputs: ["out"])["out"]!.toArray()
        let half: (out: [String: [Float]], kinds: [String])
        do { half = try run(net, inputs, outputs: ["out"], precision: .fp16Storage) } catch GPUError.unsupported(let why) { throw XCTSkip(why) }
        XCTAssertTrue(half.kinds.contains("scale_residual (mul+add+ReLU)"))
        let error = zip(half.out["out"]!, cpu).map { abs($0 - $1) }.max()! / max(1, cpu.map(abs).max()!)
        XCTAssertLessThanOrEqual(error, 4e-3, "fp16 blobs: \(error) (relative) from the CPU engine")
    }
}
