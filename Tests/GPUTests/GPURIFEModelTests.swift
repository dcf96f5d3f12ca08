import Foundation
import Inference
import TestSupport
import XCTest

/// RIFE v4.0 and v4.25 end to end on the GPU against the CPU engine: a real frame pair (64×64 crops of the Middlebury
/// rubberwhale pair in the shared footage, the size both models' multiples allow), t = 0.5, the warp registered as
/// RIFEInterpolator registers it (`LayerRegistry.withRIFE`); within 1e-3 on the 0…1 scale.
final class GPURIFEModelTests: XCTestCase {
    static func inputs(size: Int = 64) throws -> [String: Tensor] {
        let a = try GPUModelTests.crop("framepairs/rubberwhale1.png", width: size, height: size, x: 150, y: 100)
        let b = try GPUModelTests.crop("framepairs/rubberwhale2.png", width: size, height: size, x: 150, y: 100)
        let t = Tensor(channels: 1, height: size, width: size)
        t.withUnsafeMutableValues { $0.update(repeating: 0.5) }
        return ["in0": a, "in1": b, "in2": t]
    }

    static func net(_ model: String) throws -> Net {
        let dir = GPUModelTests.models.appendingPathComponent(model)
        return try Net(paramURL: dir.appendingPathComponent("flownet.param"), weightsURL: dir.appendingPathComponent("flownet.bin"),
                       options: EngineOptions(threads: 2), registry: .withRIFE)
    }

    func check(_ model: String) throws {
        let device = try GPUTestSupport.deviceIndex()
        let net = try GPURIFEModelTests.net(model)
        let inputs = try GPURIFEModelTests.inputs()
        let start = Date()
        let error = try GPUTestSupport.compare(net, device: device, inputs: inputs, outputs: ["out0"], model)
        print("\(model): max |GPU - CPU| = \(error) (CPU and GPU runs \(String(format: "%.2f", Date().timeIntervalSince(start))) s)")
        // A real interpolation: the output differs from both inputs (a network that returned an input would pass the
        // comparison only if the CPU engine did the same).
        let out = try net.run(inputs: inputs, outputs: ["out0"])["out0"]!
        for name in ["in0", "in1"] {
            let difference = zip(out.toArray(), inputs[name]!.toArray()).map { abs($0 - $1) }.max()!
            XCTAssertGreaterThan(difference, 1e-2, "\(model) returned \(name)")
        }
    }

    func testRIFEv40() throws { try check("rife-v4.0-ncnn") }
    func testRIFEv425() throws { try check("rife-v4.25-ncnn") }
}
