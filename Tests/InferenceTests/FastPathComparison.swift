import Inference
import XCTest

/// max |a - b|, and +inf when the lengths differ or any value of either is NaN or infinite: `max(m, d)` keeps `m`
/// when `d` is NaN, so an all-NaN output would otherwise pass every comparison.
func maxAbsDifference<A: Collection, B: Collection>(_ a: A, _ b: B) -> Float where A.Element == Float, B.Element == Float {
    guard a.count == b.count else { return .infinity }
    var m: Float = 0
    for (x, y) in zip(a, b) {
        guard x.isFinite, y.isFinite else { return .infinity }
        m = Swift.max(m, abs(x - y))
    }
    return m
}

/// Runs a one-layer net with every instruction set at 1–3 threads and compares with a reference output
/// (the `.gemm` path): the check every fast-path test shares.
func assertEveryInstructionSetMatches(paramText: String, weights: [UInt8], input: Tensor, reference: Tensor, label: String,
                                      relativeTolerance: Float = 2e-6, file: StaticString = #filePath, line: UInt = #line) throws {
    let scale = max(1, reference.toArray().map(abs).max() ?? 0)
    for threads in 1...3 {
        for isa in EngineOptions.InstructionSet.allCases {
            let net = try Net(paramText: paramText, weights: weights, options: EngineOptions(threads: threads, instructionSet: isa))
            let got = try net.run(inputs: ["in0": input], outputs: ["out0"])["out0"]!
            XCTAssertEqual(got.shapeDescription, reference.shapeDescription, label, file: file, line: line)
            let err = maxAbsDifference(got.toArray(), reference.toArray())
            XCTAssertLessThanOrEqual(err, relativeTolerance * scale, "\(label) [\(isa), \(threads) threads]", file: file, line: line)
        }
    }
}

/// Issue 14, item 4: a NaN or an infinity anywhere is a failure of every engine comparison, never a pass.
final class ComparisonNaNTests: XCTestCase {
    func testNaNAndInfinityNeverCompareAsClose() {
        let reference: [Float] = [0, 1, 2, 3]
        XCTAssertEqual(maxAbsDifference(reference, reference), 0)
        XCTAssertEqual(maxAbsDifference([0, 1, 2, 3.5], reference), 0.5)
        XCTAssertEqual(maxAbsDifference([Float](repeating: .nan, count: 4), reference), .infinity, "all NaN")
        XCTAssertEqual(maxAbsDifference([0, .nan, 2, 3], reference), .infinity, "one NaN")
        XCTAssertEqual(maxAbsDifference([0, 1, .infinity, 3], reference), .infinity)
        XCTAssertEqual(maxAbsDifference([0, 1, 2], reference), .infinity, "lengths differ")
        let a = Tensor(dims: 3, channels: 1, height: 2, width: 2), b = Tensor(dims: 3, channels: 1, height: 2, width: 2)
        a.withUnsafeMutableValues { for i in 0..<$0.count { $0[i] = .nan } }
        XCTAssertEqual(ReferenceCases.maxError(a, b), .infinity, "the ncnn comparison fails on a NaN output")
    }
}
