import Foundation
import Inference
import XCTest

/// The shipped `rife.Warp`: its fast threaded path against the readable definition, hand-checked
/// border values, and the whole RIFE v4.0 / v4.25 graphs against ncnn (numpy warp) on real frames.
final class RIFEWarpTests: XCTestCase {
    /// Deterministic pseudo-random values (LCG) in [lo, hi).
    func random(_ n: Int, seed: UInt64, _ lo: Float, _ hi: Float) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return lo + (hi - lo) * Float(s >> 40) / Float(1 << 24)
        }
    }

    func run(_ image: Tensor, _ flow: Tensor, threads: Int, isa: EngineOptions.InstructionSet = .best) throws -> Tensor {
        let layer = RIFEWarpLayer()
        return try layer.forward([image, flow], context: ExecutionContext(options: EngineOptions(threads: threads, instructionSet: isa)))[0]
    }

    func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.toArray(), b.toArray()).map { abs($0 - $1) }.max() ?? 0
    }

    func testFastPathMatchesReferenceOnRandomData() throws {
        let c = 5, h = 37, w = 53
        let image = try Tensor(channels: c, height: h, width: w, values: random(c * h * w, seed: 1, -2, 2))
        // Flow reaching well past every border so the clamped taps are exercised.
        let flow = try Tensor(channels: 2, height: h, width: w, values: random(2 * h * w, seed: 2, -70, 70))
        let want = try RIFEWarpLayer.reference(image: image, flow: flow)
        for threads in [1, 2, 3] {
            for isa in EngineOptions.InstructionSet.allCases {  // the vector path (16 pixels) and the scalar one
                let got = try run(image, flow, threads: threads, isa: isa)
                XCTAssertEqual(got.shapeDescription, "[5x37x53]")
                XCTAssertLessThanOrEqual(maxError(got, want), 1e-5, "threads \(threads) \(isa)")
            }
        }
    }

    func testHandComputedSamplesWithClampedTaps() throws {
        // 1 channel, 2x3 image: row 0 = 0 1 2, row 1 = 10 11 12.
        let image = try Tensor(channels: 1, height: 2, width: 3, values: [0, 1, 2, 10, 11, 12])
        var dx = [Float](repeating: 0, count: 6), dy = [Float](repeating: 0, count: 6)
        dx[0] = 0.5; dy[0] = 0.5      // (0,0) → (0.5,0.5): mean of 0,1,10,11 = 5.5
        dx[2] = 0.75                   // (2,0) → (2.75,0): right tap clamped to x=2 → 2
        dx[3] = -1.25; dy[3] = -3      // (0,1) → (-1.25,-2): all taps clamp to (0,0) → 0
        dx[4] = 0.25; dy[4] = 0.5      // (1,1) → (1.25,1.5): y1 clamps to 1 → 11.25
        let flow = try Tensor(channels: 2, height: 2, width: 3, values: dx + dy)
        let got = try run(image, flow, threads: 1).toArray()
        let want: [Float] = [5.5, 1, 2, 0, 11.25, 12]
        for i in 0..<6 { XCTAssertEqual(got[i], want[i], accuracy: 1e-6, "pixel \(i)") }
    }

    func testRejectsMismatchedFlowAndSurvivesNonFiniteFlow() throws {
        let image = Tensor(channels: 3, height: 4, width: 4)
        XCTAssertThrowsError(try run(image, Tensor(channels: 2, height: 4, width: 5), threads: 1))
        XCTAssertThrowsError(try run(image, Tensor(channels: 1, height: 4, width: 4), threads: 1))
        let flow = try Tensor(channels: 2, height: 4, width: 4, values: [Float](repeating: .nan, count: 16) + [Float](repeating: .infinity, count: 16))
        for isa in EngineOptions.InstructionSet.allCases {
            let out = try run(image, flow, threads: 2, isa: isa)
            XCTAssertTrue(out.toArray().allSatisfy { $0.isFinite }, "\(isa)")
        }
    }

    func checkGraph(_ name: String) throws {
        let cCases = try ReferenceCases.cases(prefix: name) // outside XCTUnwrap: a skip thrown inside its autoclosure would be a failure
        let c = try XCTUnwrap(cCases.first)
        let inputs = try c.inputs.mapValues { try ReferenceCases.readTensor($0) }
        let want = try ReferenceCases.readTensor(c.outputs["out0"]!)
        for threads in [1, 2] {
            let net = try Net(paramURL: URL(fileURLWithPath: c.param), weightsURL: URL(fileURLWithPath: c.bin),
                              options: EngineOptions(threads: threads), registry: .withRIFE)
            let got = try XCTUnwrap(try net.run(inputs: inputs, outputs: ["out0"])["out0"])
            XCTAssertEqual(got.shapeDescription, want.shapeDescription)
            let err = ReferenceCases.maxError(got, want)
            print("RIFEWarpTests: \(name) threads \(threads) max |ours - ncnn| = \(err)")
            XCTAssertLessThanOrEqual(err, 1e-3, "\(name) threads \(threads)")
        }
        XCTAssertGreaterThan(ReferenceCases.maxError(want, inputs["in0"]!), 1e-2)
    }

    func testRIFEv40WithOurWarpMatchesNcnn() throws { try checkGraph("rife-v4.0") }
    func testRIFEv425WithOurWarpMatchesNcnn() throws { try checkGraph("rife-v4.25") }
}
