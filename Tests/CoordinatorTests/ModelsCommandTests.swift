import Coordinator
import Foundation
import Planning
import Processors
import Shared
import TestSupport
import XCTest

/// Issue 15: the models ship in the repository, one catalogue holds their facts and hashes, `models` lists them and
/// `models --check` verifies every file; a damaged or missing file is named with its fix, at check time and at load.
final class ModelsCommandTests: XCTestCase {
    private static let shipped = Fixtures.repositoryRoot.appendingPathComponent("models")
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("models-cmd") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Runs `lumiere-coordinator ARGS` in `directory` without $LUMIERE_MODELS; returns status, stdout, stderr.
    private func coordinator(_ arguments: [String], in directory: URL? = nil,
                             environment extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        _ = Fixtures.useBuiltWorker()
        let process = Process()
        process.executableURL = try Fixtures.product("lumiere-coordinator")
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? dir
        var env = ProcessInfo.processInfo.environment
        env["LUMIERE_MODELS"] = nil
        env.merge(extra) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both to the end before waiting (a full pipe would block the child).
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.done { usleep(1000) }
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.data, as: UTF8.self))
    }

    private func sha256(_ url: URL) throws -> String { SHA256.hex(SHA256.hash(try Data(contentsOf: url))) }

    /// A writable copy of the shipped models folder.
    private func copyOfModels() throws -> URL {
        let copy = dir.appendingPathComponent("models")
        try FileManager.default.copyItem(at: Self.shipped, to: copy)
        let files = FileManager.default.enumerator(at: copy, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }
        for f in files + [copy] { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: f.path) }
        return copy
    }

    /// Every file of the catalogue is shipped with the catalogue's size and SHA-256, models/SHA256SUMS says the same,
    /// and no shipped .param/.bin is missing from the catalogue.
    func testCatalogueHashesMatchTheShippedFiles() throws {
        var catalogue: [String: String] = [:]
        for entry in ModelCatalogue.all {
            XCTAssertFalse(entry.files.isEmpty, entry.name)
            for file in entry.files {
                let url = Self.shipped.appendingPathComponent(file.path)
                let data = try Data(contentsOf: url)
                XCTAssertEqual(data.count, file.size, file.path)
                XCTAssertEqual(SHA256.hex(SHA256.hash(data)), file.sha256, file.path)
                catalogue[file.path] = file.sha256
            }
            // The graph each model runs is one of its files.
            for scale in entry.scales.isEmpty ? [nil] : entry.scales.map(Optional.some) {
                for noise in [nil] + entry.noiseLevels.map(Optional.some) {
                    XCTAssertNotNil(entry.file(entry.stem(scale: scale, noise: noise) + ".param"), "\(entry.name) ×\(scale ?? 0) noise \(noise ?? -1)")
                    XCTAssertNotNil(entry.file(entry.stem(scale: scale, noise: noise) + ".bin"), "\(entry.name) ×\(scale ?? 0) noise \(noise ?? -1)")
                }
            }
        }
        let sums = try String(contentsOf: Self.shipped.appendingPathComponent("SHA256SUMS"), encoding: .utf8)
        var listed: [String: String] = [:]
        for line in sums.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            listed[parts[1].trimmingCharacters(in: .whitespaces)] = String(parts[0])
        }
        XCTAssertEqual(listed, catalogue, "models/SHA256SUMS and ModelCatalogue differ")
        let onDisk = FileManager.default.enumerator(atPath: Self.shipped.path)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".param") || $0.hasSuffix(".bin") }
        XCTAssertEqual(Set(onDisk), Set(catalogue.keys), "shipped model files not in the catalogue (or the reverse)")
        XCTAssertEqual(catalogue.count, 26)
    }

    /// The facts the code used to hold in four places now come from the catalogue, unchanged.
    func testCatalogueFactsAreTheOnesTheCodeUsed() {
        XCTAssertEqual(NeuralUpscaler.Model.allCases.map(\.rawValue), ["realesr-animevideov3", "realesr-general", "realesr-general-wdn", "waifu2x-photo", "realesrgan-x4plus"])
        XCTAssertEqual(NeuralUpscaler.Model(rawValue: "realesr-animevideov3")?.supportedScales, [2, 3, 4])
        XCTAssertEqual(NeuralUpscaler.Model(rawValue: "waifu2x-photo")?.supportedScales, [2])
        XCTAssertNil(NeuralUpscaler.Model(rawValue: "rife-v4.0"), "an interpolator is not a super-resolution model")
        XCTAssertEqual(RIFEInterpolator.Model.allCases.map(\.padMultiple), [32, 64])
        XCTAssertEqual(RetimeRecipe.interpolators, ["rife-v4.0", "rife-v4.25", "blend"])
        XCTAssertEqual(FilterFactory.knownProcessors, ["lanczos", "realesr-animevideov3", "realesr-general", "realesr-general-wdn", "waifu2x-photo", "realesrgan-x4plus"])
        XCTAssertEqual(RestoreSettings.defaultProcessor, "realesr-general-wdn")
        XCTAssertEqual(RetimeSettings.defaultInterpolator, "rife-v4.0")
        // Costs (s/MP): measured values, and an unknown model priced as the default of its kind.
        XCTAssertEqual(ModelCatalogue.secondsPerMegapixel("realesr-animevideov3", kind: .superResolution), 4.2)
        XCTAssertEqual(ModelCatalogue.secondsPerMegapixel("lanczos", kind: .superResolution), 0.02)
        XCTAssertEqual(ModelCatalogue.secondsPerMegapixel("someone-elses-model", kind: .superResolution), 7.7)
        XCTAssertEqual(ModelCatalogue.secondsPerMegapixel("rife-v4.25", kind: .interpolation), 0.64)
        XCTAssertEqual(ModelCatalogue.secondsPerMegapixel("rife-v9", kind: .interpolation), 0.40)
    }

    /// `models` run in the checkout lists every model as installed, found in ./models; `--json` says the same.
    func testModelsListsEveryModelInstalled() throws {
        let text = try coordinator(["models"], in: Fixtures.repositoryRoot)
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssert(text.out.hasPrefix("models in \(Self.shipped.standardizedFileURL.path) (found by ./models)"), text.out)
        for entry in ModelCatalogue.all {
            XCTAssert(text.out.contains("\n\(entry.name)  [\(entry.kind.rawValue)"), "\(entry.name) not listed:\n\(text.out)")
            XCTAssert(text.out.contains("licence: \(entry.licence)"), entry.name)
            XCTAssert(text.out.contains("cost: \(entry.secondsPerMegapixel) s per megapixel"), entry.name)
        }
        XCTAssertEqual(text.out.components(separatedBy: "]  installed\n").count - 1, ModelCatalogue.all.count, text.out)

        // From elsewhere, the executable's checkout is found; --json lists the same.
        let json = try coordinator(["models", "--json"])
        XCTAssertEqual(json.status, 0, json.err)
        let listing = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as! [String: Any]
        XCTAssertEqual(listing["foundBy"] as? String, "the executable's checkout")
        let models = listing["models"] as! [[String: Any]]
        XCTAssertEqual(models.map { $0["name"] as! String }, ModelCatalogue.all.map(\.name))
        XCTAssert(models.allSatisfy { $0["installed"] as? Bool == true }, json.out)
    }

    /// `models --check` passes on an intact copy, then fails naming each file of a copy with one byte flipped and one
    /// file removed, and the command that fixes it; nothing else is named.
    func testCheckNamesADamagedAndAMissingFile() throws {
        let copy = try copyOfModels()
        let good = try coordinator(["models", "--check", "--models-dir", copy.path])
        XCTAssertEqual(good.status, 0, good.err)
        XCTAssertEqual(good.out.components(separatedBy: "installed, SHA-256 verified").count - 1, ModelCatalogue.all.count, good.out)

        // One byte flipped in the middle of RIFE v4.25's weights (same size: only the hash can tell).
        let flipped = copy.appendingPathComponent("rife-v4.25-ncnn/flownet.bin")
        var bytes = try Data(contentsOf: flipped)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: flipped)
        let removed = copy.appendingPathComponent("waifu2x-upconv7-photo/noise1_scale2.0x_model.bin")
        try FileManager.default.removeItem(at: removed)

        let bad = try coordinator(["models", "--check", "--models-dir", copy.path])
        XCTAssertEqual(bad.status, 1, bad.err)
        XCTAssert(bad.err.contains("error: damaged model file \(flipped.path) (SHA-256 \(try sha256(flipped)), expected 6c63bed1"), bad.err)
        XCTAssert(bad.err.contains("error: missing model file \(removed.path)\n"), bad.err)
        XCTAssert(bad.err.contains("git checkout -- models"), bad.err)
        XCTAssertEqual(bad.err.components(separatedBy: " model file /").count - 1, 2, "exactly the two files: \(bad.err)")
        XCTAssert(bad.out.contains("rife-v4.25  [interpolation, any time t]  incomplete or damaged (1 of 2 files)"), bad.out)
        XCTAssert(bad.out.contains("rife-v4.0  [interpolation, any time t]  installed, SHA-256 verified"), bad.out)

        // Without --check a flipped byte goes unseen (same size) but the missing file is noted; the exit is 0.
        let list = try coordinator(["models", "--models-dir", copy.path])
        XCTAssertEqual(list.status, 0, list.err)
        XCTAssert(list.err.contains("note: 1 model file(s) damaged or missing"), list.err)

        // $LUMIERE_MODELS is the second place searched, checked the same way; --models-dir wins over it.
        let viaEnv = try coordinator(["models", "--check"], environment: ["LUMIERE_MODELS": copy.path])
        XCTAssertEqual(viaEnv.status, 1, viaEnv.err)
        XCTAssert(viaEnv.out.hasPrefix("models in \(copy.path) (found by LUMIERE_MODELS)"), viaEnv.out)
        let optionWins = try coordinator(["models", "--check", "--models-dir", Self.shipped.path], environment: ["LUMIERE_MODELS": copy.path])
        XCTAssertEqual(optionWins.status, 0, optionWins.err)

        // A --models-dir that holds no models is refused, naming it.
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let none = try coordinator(["models", "--check", "--models-dir", empty.path])
        XCTAssertEqual(none.status, 1)
        XCTAssert(none.err.contains("--models-dir \(empty.path) holds none of"), none.err)
    }

    /// Loading a model whose file is missing or cut short fails at once with the file's path and the fix — in the
    /// library and through `restore`.
    func testMissingModelFileGivesTheClearErrorAtLoad() throws {
        let copy = try copyOfModels()
        let rife = copy.appendingPathComponent("rife-v4.0-ncnn/flownet.bin")
        try FileManager.default.removeItem(at: rife)
        XCTAssertThrowsError(try RIFEInterpolator(modelName: "rife-v4.0", modelsDirectory: copy)) { e in
            XCTAssertEqual(e as? RIFEInterpolator.ConfigurationError, .missingModelFile(rife.path))
            XCTAssert("\(e)".contains("git checkout -- models"), "\(e)")
        }
        let general = copy.appendingPathComponent("realesr-general-x4v3/RealESRGAN_General_x4_v3.bin")
        let handle = try FileHandle(forWritingTo: general)
        try handle.truncate(atOffset: 100_000)
        try handle.close()
        XCTAssertThrowsError(try NeuralUpscaler(modelName: "realesr-general", scale: 4, modelsDirectory: copy)) { e in
            XCTAssertEqual(e as? NeuralUpscaler.ConfigurationError, .damagedModelFile(general.path, detail: "100000 bytes, expected 2435272"))
            XCTAssert("\(e)".contains("is damaged (100000 bytes, expected 2435272) — fix: run `git checkout -- models`"), "\(e)")
        }
        // The intact models of the same copy still load.
        XCTAssertNoThrow(try RIFEInterpolator(modelName: "rife-v4.25", modelsDirectory: copy))

        // restore --models-dir: refused before any work, one line naming the file.
        let clip = dir.appendingPathComponent("clip.mp4")
        try Fixtures.syntheticClip(at: clip.path, seconds: 0.4, size: "64x48")
        for (args, path) in [(["--model", "realesr-general"], general.path), (["--model", "lanczos", "--fps", "30"], rife.path)] {
            let result = try coordinator(["restore", "clip.mp4", "-o", "out.mp4", "--quiet", "--models-dir", copy.path] + args)
            XCTAssertEqual(result.status, 1, "\(args): \(result.err)")
            XCTAssert(result.err.hasPrefix("error: model file \(path) is "), "\(args): \(result.err)")
            XCTAssert(result.err.contains("git checkout -- models"), result.err)
            XCTAssertEqual(result.err.split(separator: "\n").count, 1, "one line: \(result.err)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.mp4").path))
        }
    }

    /// `restore --models-dir` reaches the local workers it starts: with $LUMIERE_MODELS pointing nowhere, the restore
    /// works only if the workers are told the folder too (and fails, naming the bad variable, without the option).
    func testModelsDirReachesTheLocalWorkers() throws {
        let copy = try copyOfModels()
        let clip = dir.appendingPathComponent("clip.mp4")
        try Fixtures.syntheticClip(at: clip.path, seconds: 0.4, size: "64x48")
        let nowhere = ["LUMIERE_MODELS": dir.appendingPathComponent("nowhere").path]
        let args = ["restore", "clip.mp4", "-o", "out.mp4", "--quiet", "--model", "realesr-animevideov3", "--scale", "2", "--preset", "ultrafast", "--workers", "1"]
        let refused = try coordinator(args, environment: nowhere)
        XCTAssertEqual(refused.status, 1, refused.err)
        XCTAssert(refused.err.contains("LUMIERE_MODELS=\(nowhere["LUMIERE_MODELS"]!) holds none of"), refused.err)
        let result = try coordinator(args + ["--models-dir", copy.path], environment: nowhere)
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertEqual(try Fixtures.probe(dir.appendingPathComponent("out.mp4").path, stream: "v:0")["width"], "128")
    }

    /// The search order: --models-dir, $LUMIERE_MODELS, <prefix>/share/lumiere/models, ./models, the executable's checkout.
    func testSearchOrder() throws {
        let fm = FileManager.default
        let prefix = dir.appendingPathComponent("prefix"), work = dir.appendingPathComponent("work"), repo = dir.appendingPathComponent("repo")
        let exe = prefix.appendingPathComponent("bin/lumiere-coordinator")
        let checkoutExe = repo.appendingPathComponent(".build/x86_64-unknown-linux-gnu/release/lumiere-worker")
        for folder in ["prefix/share/lumiere/models/rife-v4.0-ncnn", "work/models/realesr-general-x4v3", "repo/models/waifu2x-upconv7-photo",
                       "option/realesr-animevideov3", "env/rife-v4.25-ncnn", "prefix/bin", "repo/.build/x86_64-unknown-linux-gnu/release"] {
            try fm.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        _ = fm.createFile(atPath: repo.appendingPathComponent("Package.swift").path, contents: Data())
        func found(_ explicit: String?, _ env: [String: String], _ executable: URL?) throws -> (String, ModelLocator.Origin) {
            let hit = try ModelLocator.locate(explicit: explicit, environment: env, currentDirectory: work, executable: executable)
            return (hit.url.path, hit.origin)
        }
        let option = dir.appendingPathComponent("option").path, env = dir.appendingPathComponent("env").path
        XCTAssertEqual(try found(option, ["LUMIERE_MODELS": env], exe).1, .option)
        XCTAssertEqual(try found(nil, ["LUMIERE_MODELS": env], exe).1, .environment)
        XCTAssertEqual(try found(nil, [:], exe).0, prefix.appendingPathComponent("share/lumiere/models").path)
        XCTAssertEqual(try found(nil, [:], checkoutExe).1, .workingDirectory)
        try fm.removeItem(at: work.appendingPathComponent("models"))
        XCTAssertEqual(try found(nil, [:], checkoutExe).0, repo.appendingPathComponent("models").path)
        XCTAssertEqual(try found(nil, [:], checkoutExe).1, .checkout)
        XCTAssertThrowsError(try found(nil, [:], nil)) { e in
            XCTAssertEqual((e as? ModelLocator.NotFound)?.searched, [work.appendingPathComponent("models").path])
            XCTAssert("\(e)".contains("git checkout -- models"), "\(e)")
        }
        XCTAssertThrowsError(try found("/nonexistent/m", ["LUMIERE_MODELS": env], exe)) { e in
            XCTAssert("\(e)".contains("--models-dir /nonexistent/m holds none of"), "\(e)")
        }
    }
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var _data = Data(), _done = false
    func set(_ d: Data) { lock.withLock { _data = d; _done = true } }
    var data: Data { lock.withLock { _data } }
    var done: Bool { lock.withLock { _done } }
}
