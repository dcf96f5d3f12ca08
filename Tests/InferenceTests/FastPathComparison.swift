import Inference
import XCTest

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
            let err = zip(got.toArray(), reference.toArray()).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(err, relativeTolerance * scale, "\(label) [\(isa), \(threads) threads]", file: file, line: line)
        }
    }
}
