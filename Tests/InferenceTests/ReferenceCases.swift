import Foundation
import Inference
import TestSupport
import XCTest

/// Reference outputs computed by ncnn (`NcnnReference` in TestSupport runs the generator), as engine tensors.
enum ReferenceCases {
    typealias Case = NcnnReference.Case

    static var modelsDirectory: URL { NcnnReference.modelsDirectory }

    static func cases(prefix: String) throws -> [Case] { try NcnnReference.cases(prefix: prefix) }

    /// Reads a tensor written by the generator.
    static func readTensor(_ path: String) throws -> Tensor {
        let v = try NcnnReference.read(path)
        let t = Tensor(dims: v.dims, channels: v.channels, height: v.height, width: v.width)
        t.withUnsafeMutableValues { buf in for i in 0..<v.values.count { buf[i] = v.values[i] } }
        return t
    }

    /// max |a - b| over all values; +inf when shapes differ or any value is NaN or infinite.
    static func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        guard a.channels == b.channels, a.height == b.height, a.width == b.width else { return .infinity }
        return a.withUnsafeValues { x in b.withUnsafeValues { y in maxAbsDifference(x, y) } }
    }

    /// Runs every case with `prefix` under each option set and checks all outputs against ncnn.
    static func check(prefix: String, tolerance: Float = 1e-4, relative: Bool = true,
                      optionSets: [EngineOptions] = [EngineOptions()], file: StaticString = #filePath, line: UInt = #line) throws {
        for c in try cases(prefix: prefix) {
            let inputs = try c.inputs.mapValues { try readTensor($0) }
            for options in optionSets {
                let net = try Net(paramURL: URL(fileURLWithPath: c.param), weightsURL: URL(fileURLWithPath: c.bin), options: options)
                let got = try net.run(inputs: inputs, outputs: Array(c.outputs.keys))
                for (name, path) in c.outputs {
                    let want = try readTensor(path)
                    guard let out = got[name] else { XCTFail("\(c.name): no output \(name)", file: file, line: line); continue }
                    XCTAssertEqual(out.shapeDescription, want.shapeDescription, "\(c.name) \(name) shape", file: file, line: line)
                    let scale = relative ? max(1, want.withUnsafeValues { $0.map(abs).max() ?? 0 }) : 1
                    let err = maxError(out, want)
                    XCTAssertLessThanOrEqual(err, tolerance * scale,
                                             "\(c.name) \(name) [\(options.convolution), \(options.instructionSet), \(options.threads) threads]: max error \(err)",
                                             file: file, line: line)
                }
            }
        }
    }
}
