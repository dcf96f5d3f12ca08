import Coordinator
import Foundation
import Media
import Planning
import Processors
import Shared
import TestSupport
import XCTest

/// Issue 15, item 4: `restore --model path/to/NAME.param`, the user's own ncnn model.
final class OwnModelTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("own-model") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    // MARK: A small model the test writes itself

    /// Three 3×3 convolutions (3 → 8 → 8 → 12 channels, ReLU after the first two) and a ×2 PixelShuffle, with
    /// deterministic pseudo-random weights, written in ncnn's format: `.param` text; `.bin` with each convolution's
    /// weights behind a 4-byte tag 0 (raw float32) and its bias untagged (docs/models.md).
    /// `types` renames layers' types (an unknown one for the refusal test); `seed` changes the weights.
    static func writeTinyModel(in dir: URL, name: String = "tiny", seed: UInt64 = 1, types: [String: String] = [:],
                               padding: Int = 1) throws -> URL {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next() -> Float {  // xorshift64*, uniform in [-1, 1)
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return Float((state &* 0x2545_F491_4F6C_DD1D) >> 40) / Float(1 << 23) - 1
        }
        let convs = [("conv0", 3, 8, "9=1"), ("conv1", 8, 8, "9=1"), ("conv2", 8, 12, "")]
        var lines = ["Input            input 0 1 in0"]
        var bin = Data()
        var bottom = "in0"
        for (layer, cin, cout, act) in convs {
            let top = layer == "conv2" ? "c2" : "\(layer)_out"
            let count = cin * cout * 9
            lines.append("\(types[layer] ?? "Convolution") \(layer) 1 1 \(bottom) \(top) 0=\(cout) 1=3 4=\(padding) 5=1 6=\(count) \(act)")
            var tag: UInt32 = 0
            bin.append(Data(bytes: &tag, count: 4))
            var weights = (0..<count).map { _ in next() * 0.5 / Float(cin * 3) }
            var bias = (0..<cout).map { _ in 0.1 + 0.1 * next() }
            weights.withUnsafeMutableBytes { bin.append(contentsOf: $0) }
            bias.withUnsafeMutableBytes { bin.append(contentsOf: $0) }
            bottom = top
        }
        lines.append("\(types["ps"] ?? "PixelShuffle") ps 1 1 c2 out0 0=2")
        let text = "7767517\n\(lines.count) \(lines.count)\n" + lines.joined(separator: "\n") + "\n"
        let param = dir.appendingPathComponent("\(name).param")
        try Data(text.utf8).write(to: param)
        try bin.write(to: dir.appendingPathComponent("\(name).bin"))
        return param
    }

    /// A few frames of real footage, FFV1 at a constant `rate`: the 1906 film (218x160 as FFmpeg decodes it), which is at hand even
    /// without ../shared (scripts/setup.sh puts it in footage/).
    private func clip(frames: Int = 6, rate: String = "15") throws -> URL {
        let source = try XCTUnwrap(Fixtures.footage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv"), "needs the 1906 film (scripts/setup.sh)")
        let clip = dir.appendingPathComponent("clip.mkv")
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-ss", "8", "-i", source, "-frames:v", "\(frames)", "-vf", "setsar=1,setpts=N/(\(rate)*TB)",
                                    "-r", rate, "-c:v", "ffv1", "-an", clip.path])
        return clip
    }

    private func frames(_ path: String) throws -> [RGBImage] {
        let reader = try ConstantRateReader(path: path)
        let converter = PixelConverter()
        var images: [RGBImage] = []
        while let frame = try reader.next() { images.append(try converter.rgbImage(from: frame.picture)) }
        return images
    }

    private static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    // MARK: (1) restore --model /…/tiny.param on real footage

    /// Through the real CLI and its local workers, tiled (64-pixel tiles, so the measured context matters): twice the
    /// size, six frames, each equal to the engine run in this process on the whole frame (16-bit output: within
    /// its quantisation); and the engine equals ncnn itself (the PyPI wheel) on the first frame.
    func testOwnModelRestoresRealFootageLikeTheEngineAndNcnn() throws {
        let clip = try clip()
        let param = try Self.writeTinyModel(in: dir)
        let output = dir.appendingPathComponent("out.mkv")
        let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", clip.path, "-o", output.path, "--model", param.path, "--scale", "2",
                                                                    "--codec", "ffv1", "--pixel-format", "gbrp16le", "--tile", "64", "--quiet"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let video = try Fixtures.probe(output.path, stream: "v:0")
        XCTAssertEqual(video["width"], "436")
        XCTAssertEqual(video["height"], "320")
        XCTAssertEqual(video["nb_read_frames"], "6")

        let model = try OwnModel.inspect(param.path)
        XCTAssertEqual(model.scale, 2)
        XCTAssertEqual(model.context, 8, "3 convolutions (radius 3) + the shuffle (1) + 2, at least 8")
        let engine = try OwnModelUpscaler(model: model, threads: 2, tileSize: 0)
        let inputs = try frames(clip.path), outputs = try frames(output.path)
        XCTAssertEqual(inputs.count, 6)
        XCTAssertEqual(outputs.count, 6)
        var expected: [RGBImage] = []
        for (input, restored) in zip(inputs, outputs) {
            let mine = try engine.apply(input)
            expected.append(mine)
            XCTAssertEqual(mine.size, restored.size)
            XCTAssertLessThan(Self.maxDifference(mine.pixels, restored.pixels), 2.0 / 65535, "the CLI's frame is the engine's, up to 16-bit rounding")
        }
        // The model changes the picture (it is not a plain resize): far from Lanczos.
        let lanczos = try PixelConverter().resize(inputs[0], to: outputs[0].size)
        XCTAssertGreaterThan(Self.maxDifference(lanczos.pixels, outputs[0].pixels), 0.05)

        // The oracle: ncnn (PyPI wheel, CPU, fp32, no Winograd/sgemm) on the first frame.
        guard (try? Fixtures.run("python3", ["-c", "import ncnn, numpy"])) != nil else { throw Fixtures.missing("python3 with ncnn and numpy (pip install ncnn)") }
        let frameFile = dir.appendingPathComponent("frame.f32"), ncnnFile = dir.appendingPathComponent("ncnn.f32")
        var pixels = inputs[0].pixels
        try pixels.withUnsafeMutableBytes { try Data($0).write(to: frameFile) }
        let script = """
        import ncnn, numpy as np, sys
        p, b, src, dst, h, w = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        net = ncnn.Net(); o = net.opt
        o.num_threads = 1; o.use_vulkan_compute = False; o.use_fp16_storage = False; o.use_fp16_packed = False
        o.use_fp16_arithmetic = False; o.use_bf16_storage = False; o.use_winograd_convolution = False; o.use_sgemm_convolution = False
        assert net.load_param(p) == 0 and net.load_model(b) == 0
        a = np.ascontiguousarray(np.fromfile(src, dtype=np.float32).reshape(3, h, w))
        ex = net.create_extractor(); m = ncnn.Mat(a).clone(); ex.input("in0", m)
        r, out = ex.extract("out0"); assert r == 0
        np.clip(np.array(out), 0, 1).astype(np.float32).tofile(dst)
        """
        try Fixtures.run("python3", ["-c", script, param.path, model.weights.path, frameFile.path, ncnnFile.path,
                                     "\(inputs[0].height)", "\(inputs[0].width)"])
        let oracle = try Data(contentsOf: ncnnFile).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(oracle.count, expected[0].pixels.count)
        XCTAssertLessThan(Self.maxDifference(oracle, expected[0].pixels), 1e-4, "our engine runs the model as ncnn does")
    }

    // MARK: (2) a real model by path equals the same model by name

    func testCatalogueModelByPathEqualsItByName() throws {
        let clip = try clip(frames: 3)
        let path = Fixtures.repositoryRoot.appendingPathComponent("models/realesr-general-x4v3/RealESRGAN_General_x4_v3.param").path
        let model = try OwnModel.inspect(path)
        XCTAssertEqual(model.scale, 4, "the probe run finds ×4")
        XCTAssertEqual(model.context, 37, "34 convolutions + the shuffle + 2 (the catalogue counts 34 by hand)")
        var hashes: [String] = []
        for (name, processor) in [("by-name.mkv", "realesr-general"), ("by-path.mkv", path)] {
            let output = dir.appendingPathComponent(name)
            let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", clip.path, "-o", output.path, "--model", processor, "--scale", "4",
                                                                        "--codec", "ffv1", "--quiet"], in: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            let video = try Fixtures.probe(output.path, stream: "v:0")
            XCTAssertEqual(video["width"], "872")
            XCTAssertEqual(video["nb_read_frames"], "3")
            hashes.append(try Fixtures.run("ffmpeg", ["-v", "error", "-i", output.path, "-map", "0:v", "-f", "framemd5", "-"])
                .split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n"))
        }
        XCTAssertEqual(hashes[0].split(separator: "\n").count, 3)
        XCTAssertEqual(hashes[0], hashes[1], "the same model by path gives the same frames")
    }

    // MARK: (3) refused before any work

    func testUnsupportedLayerIsRefusedBeforeAnyWork() throws {
        let clip = try clip(frames: 2)
        let param = try Self.writeTinyModel(in: dir, name: "odd", types: ["conv1": "Foo"])
        let before = Fixtures.tree(dir)
        let started = Date()
        let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", clip.path, "-o", "out.mp4", "--model", param.path, "--quiet"], in: dir)
        XCTAssertEqual(result.status, 1, result.stderr)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line: \(result.stderr)")
        XCTAssert(result.stderr.contains("model \(param.path): layer 'conv1' has type 'Foo', which Lumière's engine does not implement (supported: "),
                  result.stderr)
        XCTAssert(result.stderr.contains("Convolution") && result.stderr.contains("PixelShuffle"), "lists what is supported: \(result.stderr)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(Fixtures.tree(dir), before, "no job directory, no output")

        // A model whose output is not a whole multiple of its input (unpadded convolutions shrink 24x16 to 36x20)…
        let shrinking = try Self.writeTinyModel(in: dir, name: "valid", padding: 0)
        XCTAssertThrowsError(try OwnModel.inspect(shrinking.path)) { error in
            XCTAssert("\(error)".contains("for a 24x16 picture it gives 36x20"), "\(error)")
        }
        // …a missing weights file and a value that is not a .param are refused as well, naming the file.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("valid.bin"))
        XCTAssertThrowsError(try OwnModel.inspect(shrinking.path)) { XCTAssert("\($0)".contains("valid.bin does not exist"), "\($0)") }
        XCTAssertThrowsError(try OwnModel.inspect("some/folder")) { XCTAssert("\($0)".contains("is not an ncnn .param file"), "\($0)") }
    }

    /// A model whose output size does not follow its input (Interp to a fixed 48x32) passes the 24x16 probe as ×2,
    /// but a frame of another size is refused rather than cropped or stretched.
    func testOutputSizeThatDoesNotFollowTheProbeIsRefused() throws {
        let param = dir.appendingPathComponent("fixed.param")
        try Data("7767517\n2 2\nInput input 0 1 in0\nInterp resize 1 1 in0 out0 0=2 3=32 4=48\n".utf8).write(to: param)
        try Data().write(to: dir.appendingPathComponent("fixed.bin"))
        let model = try OwnModel.inspect(param.path)
        XCTAssertEqual(model.scale, 2)
        let upscaler = try OwnModelUpscaler(model: model, threads: 1, tileSize: 0)
        XCTAssertEqual(try upscaler.apply(RGBImage(width: 24, height: 16)).size, PixelSize(width: 48, height: 32))
        XCTAssertThrowsError(try upscaler.apply(RGBImage(width: 40, height: 30))) { error in
            XCTAssert("\(error)".contains("a 40x30 tile gave 48x32, not ×2 as the probe run found"), "\(error)")
        }
    }

    // MARK: (4) the model's content is in the recipe, the resume keys and the workers' check

    func testChangedWeightsChangeTheKeysAndAreRefusedByAWorker() throws {
        let param = try Self.writeTinyModel(in: dir)
        let settings = RestoreSettings(input: "film.mkv", output: "out.mkv", geometry: .scale(2), processor: param.path)
        let source = PixelSize(width: 176, height: 144)
        let geometry = try OutputGeometry(source: source, sampleAspect: .one, request: .scale(2))
        let recipe = try settings.recipe(source: source, geometry: geometry)
        XCTAssertEqual(recipe.processor, param.path)
        XCTAssertEqual(recipe.modelScale, 2)
        XCTAssertEqual(recipe.modelParamSHA256, SHA256.hex(SHA256.hash(try Data(contentsOf: param))))
        XCTAssertEqual(recipe.modelWeightsSHA256, try JobKeys.checksum(of: dir.appendingPathComponent("tiny.bin")))
        // What a worker decodes: the same recipe; it builds the filter.
        XCTAssertEqual(try RenderRecipe(json: recipe.json()), recipe)
        XCTAssertEqual(try FilterFactory.make(recipe, threads: 1).name, param.path)

        // New weights at the same path (another seed): another recipe, so other resume keys…
        _ = try Self.writeTinyModel(in: dir, seed: 2)
        let changed = try settings.recipe(source: source, geometry: geometry)
        XCTAssertEqual(changed.modelParamSHA256, recipe.modelParamSHA256)
        XCTAssertNotEqual(changed.modelWeightsSHA256, recipe.modelWeightsSHA256)
        func key(_ r: RenderRecipe) -> String { JobKeys.segmentKey(input: "film", settings: String(decoding: r.json(), as: UTF8.self), frames: 0..<10) }
        XCTAssertNotEqual(key(changed), key(recipe))
        // …and a worker whose copy differs from the coordinator's refuses the segment, saying what to do.
        XCTAssertThrowsError(try FilterFactory.make(recipe, threads: 1)) { error in
            XCTAssertEqual("\(error)", "this worker has no model at \(param.path) with SHA-256 \(recipe.modelParamSHA256!) (and \(recipe.modelWeightsSHA256!) for its .bin): "
                + "its .bin hashes \(changed.modelWeightsSHA256!); copy the model to the same path on every worker")
        }
        XCTAssertNoThrow(try FilterFactory.make(changed, threads: 1))
        // A worker without the files at all.
        var elsewhere = recipe
        elsewhere.processor = dir.appendingPathComponent("nowhere/tiny.param").path
        XCTAssertThrowsError(try FilterFactory.make(elsewhere, threads: 1)) { XCTAssert("\($0)".hasPrefix("this worker has no model at \(elsewhere.processor) with SHA-256"), "\($0)") }

        // Recipes on the wire: a model path must be absolute and come with both hashes.
        for bad in [{ (r: inout RenderRecipe) in r.modelWeightsSHA256 = nil }, { $0.processor = "tiny.param" }, { $0.modelParamSHA256 = "xyz" },
                    { $0.processor = "realesr-general" }] {
            var r = recipe
            bad(&r)
            XCTAssertThrowsError(try RenderRecipe(json: r.json()), "\(r)")
        }
    }

    /// A "remote" worker whose copy of the model differs: it runs in its own mount namespace where another .bin is
    /// mounted over the model's, so the same path holds other weights. The coordinator's job fails, every attempt
    /// with the worker's sentence; no output is written.
    func testAWorkerWithAnotherCopyOfTheModelFailsTheSegmentSayingWhy() throws {
        try Fixtures.require(getuid() == 0 && (try? Fixtures.run("unshare", ["-m", "true"])) != nil,
                             "root and unshare(1) (a worker with its own view of the model's path)")
        let clip = try clip(frames: 2)
        let param = try Self.writeTinyModel(in: dir)
        let model = try OwnModel.inspect(param.path)
        let other = dir.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        _ = try Self.writeTinyModel(in: other, seed: 3)
        let socket = "ipc://\(dir.path)/farm.sock"
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        worker.arguments = ["unshare", "-m", "sh", "-c", "mount --bind \"$1\" \"$2\" && exec \"$3\" --connect \"$4\" --threads 1 --log-level error", "sh",
                            other.appendingPathComponent("tiny.bin").path, model.weights.path,
                            try Fixtures.product("lumiere-worker").path, socket]
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        try worker.run()
        defer { kill(worker.processIdentifier, SIGKILL); worker.waitUntilExit() }
        let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", clip.path, "-o", "out.mkv", "--model", param.path, "--codec", "ffv1",
                                                                    "--bind", socket, "--workers", "0", "--quiet"], in: dir, timeout: 120)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssert(result.stderr.contains("this worker has no model at \(param.path) with SHA-256 \(model.paramSHA256) (and \(model.weightsSHA256) for its .bin)"),
                  result.stderr)
        XCTAssert(result.stderr.contains("copy the model to the same path on every worker"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.mkv").path))
        XCTAssertEqual(try JobKeys.checksum(of: model.weights), model.weightsSHA256, "the coordinator's own copy is untouched")
    }

    /// The same command after the weights changed (same path, same size): the kept job's segment is not reused —
    /// the result is the new model's, equal to a fresh run with it.
    func testResumeAfterTheWeightsChangedRedoesTheWork() throws {
        let clip = try clip(frames: 4)
        let param = try Self.writeTinyModel(in: dir)
        func restore(_ output: String) throws -> String {
            // --overwrite: out.mkv is made twice on purpose (the same command again).
            let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", clip.path, "-o", output, "--model", "./tiny.param", "--codec", "ffv1",
                                                                        "--keep-job", "--quiet", "--overwrite"], in: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            return try Fixtures.run("ffmpeg", ["-v", "error", "-i", dir.appendingPathComponent(output).path, "-map", "0:v", "-f", "framemd5", "-"])
                .split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        }
        let old = try restore("out.mkv")
        let bin = dir.appendingPathComponent("tiny.bin"), size = try Data(contentsOf: bin).count
        _ = try Self.writeTinyModel(in: dir, seed: 7)
        XCTAssertEqual(try Data(contentsOf: bin).count, size)
        XCTAssert(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.mkv.lumiere-job").path))
        let resumed = try restore("out.mkv")
        XCTAssertNotEqual(resumed, old, "a result of the old weights was reused")
        XCTAssertEqual(resumed, try restore("fresh.mkv"))
        _ = param
    }

    /// `--fps` with an own model: priced as the catalogue's default super-resolution model, and it runs.
    func testRetimingWithAnOwnModel() throws {
        XCTAssertEqual(ModelCatalogue.secondsPerMegapixel("/x/tiny.param", kind: .superResolution),
                       ModelCatalogue.entry(named: ModelCatalogue.defaultSuperResolution)!.secondsPerMegapixel)
        let clip = try clip(frames: 6)
        let param = try Self.writeTinyModel(in: dir)
        let output = dir.appendingPathComponent("retimed.mkv")
        let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", clip.path, "-o", output.path, "--model", param.path, "--scale", "2",
                                                                    "--fps", "30", "--codec", "ffv1", "--quiet"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let video = try Fixtures.probe(output.path, stream: "v:0")
        XCTAssertEqual(video["width"], "436")
        XCTAssertEqual(video["r_frame_rate"], "30/1")
        XCTAssertEqual(video["nb_read_frames"], "12", "6 frames at 15 fps are 12 at 30")
    }
}
