import Foundation
import Inference
import XCTest

nonisolated(unsafe) private var referenceDirectory: String?

/// Reference outputs computed by ncnn: scripts/ncnn_reference/make_reference.py is run once per
/// test process (python3 with the `ncnn` and `numpy` packages, and the ffmpeg CLI for photo crops).
enum ReferenceCases {
    struct Case: Decodable {
        let name: String, kind: String, param: String, bin: String
        let inputs: [String: String], outputs: [String: String]
        /// Every blob in layer order ([name, file]) for graph cases: locates the first divergence.
        let trace: [[String]]?
    }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var modelsDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["LUMIERE_MODELS"], !env.isEmpty { return URL(fileURLWithPath: env) }
        // As ModelLocator: the repo-local copy made by setup, else the shared one next to the repo.
        let local = repoRoot.appendingPathComponent("models")
        if FileManager.default.fileExists(atPath: local.appendingPathComponent("realesr-animevideov3").path) { return local }
        return repoRoot.appendingPathComponent("../shared/models").standardizedFileURL
    }

    static let generated: Result<[Case], Error> = Result(catching: {
        // One directory per test process (parallel test runners must not share it), removed at exit.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-ncnn-ref-\(getpid())")
        referenceDirectory = dir.path
        atexit { if let d = referenceDirectory { try? FileManager.default.removeItem(atPath: d) } }
        let script = repoRoot.appendingPathComponent("scripts/ncnn_reference/make_reference.py")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script.path, dir.path, "--models", modelsDirectory.path]
        let pipe = Pipe()
        p.standardError = pipe
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let err = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw InferenceError.invalidInput("reference generator failed (needs python3 with ncnn + numpy, and ffmpeg): \(String(decoding: err, as: UTF8.self).suffix(800))")
        }
        let data = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode([Case].self, from: data)
    })

    static func cases(prefix: String) throws -> [Case] {
        let all = try generated.get().filter { $0.name.hasPrefix(prefix) }
        guard !all.isEmpty else { throw InferenceError.invalidInput("no reference cases named \(prefix)*") }
        return all
    }

    /// Reads a tensor written by the generator ('LTEN', dims, c, h, w, float32 values).
    static func readTensor(_ path: String) throws -> Tensor {
        let d = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        guard d.count >= 20, d[0..<4] == [76, 84, 69, 78] else { throw InferenceError.invalidInput("\(path) is not an LTEN file") }
        func int(_ o: Int) -> Int { Int(Int32(bitPattern: UInt32(d[o]) | UInt32(d[o + 1]) << 8 | UInt32(d[o + 2]) << 16 | UInt32(d[o + 3]) << 24)) }
        let dims = int(4), c = int(8), h = int(12), w = int(16)
        guard d.count == 20 + c * h * w * 4 else { throw InferenceError.invalidInput("\(path): size mismatch") }
        let values = d[20...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let t = Tensor(dims: dims, channels: c, height: h, width: w)
        t.withUnsafeMutableValues { buf in for i in 0..<values.count { buf[i] = values[i] } }
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
