import Foundation

nonisolated(unsafe) private var referenceDirectory: String?

/// Reference outputs computed by ncnn (the correctness oracle): scripts/ncnn_reference/make_reference.py is run
/// once per test process (python3 with the `ncnn` and `numpy` packages, and the ffmpeg CLI for photo crops).
/// Shared by the engine's tests (InferenceTests.ReferenceCases) and the processors' (NeuralUpscalerTests).
public enum NcnnReference {
    public struct Case: Decodable, Sendable {
        public let name: String, kind: String, param: String, bin: String
        public let inputs: [String: String], outputs: [String: String]
        /// Every blob in layer order ([name, file]) for graph cases: locates the first divergence.
        public let trace: [[String]]?
    }

    /// A tensor as the generator writes it ('LTEN', dims, c, h, w, float32 values, channel-major).
    public struct Values: Sendable {
        public let dims: Int, channels: Int, height: Int, width: Int
        public let values: [Float]
    }

    public static var modelsDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["LUMIERE_MODELS"], !env.isEmpty { return URL(fileURLWithPath: env) }
        // The models ship in the repository (models/).
        return Fixtures.repositoryRoot.appendingPathComponent("models")
    }

    public struct GeneratorFailed: Error, CustomStringConvertible {
        public let description: String
    }

    public static let generated: Result<[Case], Error> = Result(catching: {
        // One directory per test process (parallel test runners must not share it), removed at exit.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-ncnn-ref-\(getpid())")
        referenceDirectory = dir.path
        atexit { if let d = referenceDirectory { try? FileManager.default.removeItem(atPath: d) } }
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/ncnn_reference/make_reference.py")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Model cases run on photo crops from the shared footage; without it only the layer cases are made (and the
        // model cases skip: `cases(prefix:)`).
        p.arguments = ["python3", script.path, dir.path, "--models", modelsDirectory.path] + (hasPhotos ? [] : ["--only", "layers"])
        let pipe = Pipe()
        p.standardError = pipe
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let err = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw GeneratorFailed(description: "reference generator failed (needs python3 with ncnn + numpy, and ffmpeg): \(String(decoding: err, as: UTF8.self).suffix(800))")
        }
        let data = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode([Case].self, from: data)
    })

    public static func cases(prefix: String) throws -> [Case] {
        let all = try generated.get().filter { $0.name.hasPrefix(prefix) }
        guard !all.isEmpty else {
            if !hasPhotos { throw Fixtures.missing("needs ../shared/footage: the ncnn reference for \(prefix) runs on a photo crop") }
            throw GeneratorFailed(description: "no reference cases named \(prefix)*")
        }
        return all
    }

    /// The photos and frame pairs the model cases crop (the shared footage).
    static var hasPhotos: Bool { Fixtures.footage("photos/LadyBird.jpg") != nil && Fixtures.footage("framepairs/rubberwhale1.png") != nil }

    public static func read(_ path: String) throws -> Values {
        let d = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        guard d.count >= 20, d[0..<4] == [76, 84, 69, 78] else { throw GeneratorFailed(description: "\(path) is not an LTEN file") }
        func int(_ o: Int) -> Int { Int(Int32(bitPattern: UInt32(d[o]) | UInt32(d[o + 1]) << 8 | UInt32(d[o + 2]) << 16 | UInt32(d[o + 3]) << 24)) }
        let dims = int(4), c = int(8), h = int(12), w = int(16)
        guard c >= 0, h >= 0, w >= 0, d.count == 20 + c * h * w * 4 else { throw GeneratorFailed(description: "\(path): size mismatch") }
        let values = d[20...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return Values(dims: dims, channels: c, height: h, width: w, values: values)
    }
}
