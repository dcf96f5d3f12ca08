import Foundation
import Inference
import Planning
import Shared

/// The user's own ncnn super-resolution model: `restore --model path/to/name.param` (weights `name.bin` beside it).
///
/// Anything that contains "/" or ends in `.param` is such a path; everything else is a catalogue name. Before any
/// work the model is inspected once (`inspect`):
///  1. every layer's type must be one our engine implements (otherwise one line naming the layer and its type);
///  2. both files are hashed (SHA-256): the recipe carries the absolute path and both hashes, and a worker runs the
///     model only when its files at that path hash the same (`verify`);
///  3. the weights load (`Net`: the .bin must be exactly what the .param declares);
///  4. a probe run on a small 24×16 picture gives the scale: the output must be exactly s× the input in both axes,
///     s = 1…8 (models whose unpadded convolutions shrink the picture are refused: see docs/models.md);
///  5. the tile context (how many real neighbour pixels each tile needs) is measured from the graph
///     (`receptiveRadius`).
public struct OwnModel: Sendable, Equatable {
    /// Absolute, standardized path of the `.param` file (what the recipe's `processor` holds).
    public let param: URL
    public let weights: URL
    public let paramSHA256: String
    public let weightsSHA256: String
    /// The model's own scale, from the probe run.
    public let scale: Int
    /// Input pixels of real neighbours each tile gets (`TiledUpscaler.Border.samePadding`).
    public let context: Int
    /// The input and output blobs (the only Input layer's blob; the last layer's first output).
    public let inputBlob: String
    public let outputBlob: String

    /// The probe picture: small (fast even for heavy models), not square (a model that swaps or mixes its axes is
    /// caught), and divisible by 8 (models that downsample inside still run).
    public static let probeSize = PixelSize(width: 24, height: 16)

    /// Whether a `--model` value names a file rather than a catalogue model.
    public static func isPath(_ processor: String) -> Bool { processor.contains("/") || processor.hasSuffix(".param") }

    public enum Problem: Error, CustomStringConvertible, Equatable {
        case notParam(String)
        case missingFile(String, what: String)
        case unreadable(String, detail: String)
        case unsupportedLayer(model: String, layer: String, type: String, supported: [String])
        case notSuperResolution(model: String, detail: String)
        case workerCopyDiffers(path: String, paramSHA256: String, weightsSHA256: String, detail: String)
        case recipeWithoutHashes(String)

        public var description: String {
            switch self {
            case let .notParam(path):
                return "--model \(path) is not an ncnn .param file: give the path of NAME.param (with NAME.bin beside it), or a model name (`lumiere-coordinator models`)"
            case let .missingFile(path, what):
                return "model \(what) \(path) does not exist (an own model is NAME.param with its weights NAME.bin beside it)"
            case let .unreadable(path, detail):
                return "model \(path) cannot be used: \(detail)"
            case let .unsupportedLayer(model, layer, type, supported):
                return "model \(model): layer '\(layer)' has type '\(type)', which Lumière's engine does not implement (supported: \(supported.joined(separator: ", ")))"
            case let .notSuperResolution(model, detail):
                return "model \(model) is not a super-resolution model Lumière can run: \(detail)"
            case let .workerCopyDiffers(path, p, w, detail):
                return "this worker has no model at \(path) with SHA-256 \(p) (and \(w) for its .bin): \(detail); copy the model to the same path on every worker"
            case let .recipeWithoutHashes(path):
                return "the render recipe names the model \(path) without its SHA-256; coordinator and worker versions may differ"
            }
        }
    }

    /// The layer types our engine implements (the ones a model may use).
    public static var supportedLayerTypes: [String] { LayerRegistry.standard.creators.keys.sorted() }

    /// `path` made absolute (relative to the working directory) and standardized; the `.bin` beside it.
    public static func files(_ path: String, relativeTo base: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) throws -> (param: URL, weights: URL) {
        guard path.hasSuffix(".param") else { throw Problem.notParam(path) }
        let param = URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.absoluteURL
        let weights = param.deletingPathExtension().appendingPathExtension("bin")
        return (param, weights)
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var inspected: [String: OwnModel] = [:]

    /// Inspects the model at `path` (see the type's comment); the result is kept per path and file hashes, so asking
    /// again costs two hashes. Throws `Problem` (or the engine's own error for damaged weights), always naming the file.
    public static func inspect(_ path: String, expecting hashes: (param: String, weights: String)? = nil) throws -> OwnModel {
        let (param, weights) = try files(path)
        let name = param.path
        for (url, what) in [(param, ".param file"), (weights, "weights file")] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                if let hashes { throw Problem.workerCopyDiffers(path: name, paramSHA256: hashes.param, weightsSHA256: hashes.weights, detail: "\(url.path) is missing") }
                throw Problem.missingFile(url.path, what: what)
            }
        }
        let paramBytes: Data, paramSHA: String, weightsSHA: String
        do {
            paramBytes = try Data(contentsOf: param)
            paramSHA = SHA256.hex(SHA256.hash(paramBytes))
            weightsSHA = try JobKeys.checksum(of: weights)
        } catch {
            throw Problem.unreadable(name, detail: "\(error)")
        }
        if let hashes, hashes.param != paramSHA || hashes.weights != weightsSHA {
            let which = hashes.param != paramSHA ? "its .param hashes \(paramSHA)" : "its .bin hashes \(weightsSHA)"
            throw Problem.workerCopyDiffers(path: name, paramSHA256: hashes.param, weightsSHA256: hashes.weights, detail: which)
        }
        let key = "\(name)\n\(paramSHA)\n\(weightsSHA)"
        if let known = lock.withLock({ inspected[key] }) { return known }

        // 1. The layer types, before the weights are even read.
        guard let text = String(data: paramBytes, encoding: .utf8) else { throw Problem.unreadable(name, detail: "the .param file is not UTF-8 text") }
        let graph: ParamFile
        do { graph = try ParamFile(text: text) } catch { throw Problem.unreadable(name, detail: "\(error)") }
        let registry = LayerRegistry.standard
        if let bad = graph.layers.first(where: { registry.creators[$0.type] == nil }) {
            throw Problem.unsupportedLayer(model: name, layer: bad.name, type: bad.type, supported: supportedLayerTypes)
        }
        let inputs = graph.layers.filter { $0.type == "Input" }
        guard inputs.count == 1, let input = inputs[0].tops.first, let output = graph.layers.last?.tops.first else {
            throw Problem.notSuperResolution(model: name, detail: "it has \(inputs.count) Input layers; a super-resolution model has one picture in and one out")
        }
        // 2. The weights and 3. the probe run.
        let net: Net
        do { net = try Net(paramURL: param, weightsURL: weights, options: EngineOptions(threads: 1)) } catch {
            throw Problem.unreadable(name, detail: "\(error)")
        }
        let scale = try probeScale(net, input: input, output: output, model: name)
        let model = OwnModel(param: param, weights: weights, paramSHA256: paramSHA, weightsSHA256: weightsSHA, scale: scale,
                             context: contextPixels(graph), inputBlob: input, outputBlob: output)
        lock.withLock { inspected[key] = model }
        return model
    }

    /// Runs the network on a `probeSize` picture (a smooth ramp, values in [0, 1]) and derives the scale.
    static func probeScale(_ net: Net, input: String, output: String, model: String) throws -> Int {
        let w = probeSize.width, h = probeSize.height
        var values = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 { for y in 0..<h { for x in 0..<w { values[(c * h + y) * w + x] = Float((x * 7 + y * 5 + c * 11) % 32) / 31 } } }
        let result: Tensor
        do {
            let probe = try Tensor(channels: 3, height: h, width: w, values: values)
            guard let out = try net.run(inputs: [input: probe], outputs: [output])[output] else { throw InferenceError.invalidInput("no output") }
            result = out
        } catch {
            throw Problem.notSuperResolution(model: model, detail: "it does not run on a 3-channel \(w)x\(h) picture (\(error))")
        }
        guard result.dims == 3, result.channels == 3 else {
            throw Problem.notSuperResolution(model: model, detail: "for a 3-channel \(w)x\(h) picture it gives \(result.shapeDescription), not 3 channels")
        }
        let sx = result.width / w, sy = result.height / h
        guard result.width % w == 0, result.height % h == 0, sx == sy, (1...8).contains(sx) else {
            throw Problem.notSuperResolution(model: model, detail: "for a \(w)x\(h) picture it gives \(result.width)x\(result.height), "
                + "not the same whole multiple 1…8 of both sides (models that shrink the picture, with unpadded convolutions, are not supported)")
        }
        return sx
    }

    /// Tile context in input pixels: the graph's receptive-field radius (`receptiveRadius`) plus a margin of 2, at
    /// least 8. With at least the receptive radius of real neighbours, a tile's core is computed from exactly the
    /// pixels the whole frame gives it, so tiled output equals whole-frame output (as for the catalogue's models,
    /// whose context is the same count done by hand: 34 for realesr-general's 32 stacked 3×3 convolutions).
    static func contextPixels(_ graph: ParamFile) -> Int { max(8, Int(receptiveRadius(graph).rounded(.up)) + 2) }

    /// An upper bound of how far (in input pixels) an output pixel of the graph looks, walked layer by layer. Each blob
    /// carries (radius, step): how far its pixels reach and how many input pixels one of its pixels spans.
    /// A convolution adds step × dilation × (kernel − 1) / 2 (rounded up) and multiplies the step by its stride (plus
    /// one step of alignment when strided); a deconvolution, pixel shuffle or interpolation divides the step by its
    /// factor and adds one input-resolution step (bicubic interpolation: two); layers of several inputs take the
    /// largest radius and the finest step; everything else (activations, Split, Crop, Slice, …) passes it on.
    public static func receptiveRadius(_ graph: ParamFile) -> Double {
        var blobs: [String: (radius: Double, step: Double)] = [:]
        for layer in graph.layers {
            let ins = layer.bottoms.compactMap { blobs[$0] }
            var radius = ins.map(\.radius).max() ?? 0
            var step = ins.map(\.step).min() ?? 1
            let p = layer.params
            switch layer.type {
            case "Convolution", "Deconvolution":
                let kw = p.int(1, default: 1), kh = p.int(11, default: kw)
                let dw = p.int(2, default: 1), dh = p.int(12, default: dw)
                let sw = p.int(3, default: 1), sh = p.int(13, default: sw)
                let extent = Double(max(dw * (kw - 1), dh * (kh - 1))) / 2  // a 3×3 convolution reaches 1 pixel
                let stride = Double(max(1, sw, sh))
                if layer.type == "Convolution" {
                    radius += step * extent.rounded(.up) + (stride > 1 ? step * stride : 0)
                    step *= stride
                } else {
                    radius += step
                    step /= stride
                    radius += step * extent.rounded(.up)
                }
            case "PixelShuffle":
                radius += step
                step /= Double(max(1, p.int(0, default: 1)))
            case "Interp":
                radius += step * (p.int(0, default: 0) == 3 ? 2 : 1)
                let factor = Double(max(p.float(1, default: 1), p.float(2, default: 1)))
                if factor > 0 { step /= max(factor, 1) }
            case "Input", "MemoryData":
                radius = 0; step = 1
            default:
                break
            }
            for top in layer.tops { blobs[top] = (radius, step) }
        }
        return graph.layers.last?.tops.first.flatMap { blobs[$0]?.radius } ?? 0
    }
}

/// A `FrameFilter` running an own model (`OwnModel`) tiled, like `NeuralUpscaler` runs the catalogue's.
public final class OwnModelUpscaler: FrameFilter {
    public let model: OwnModel
    public let tileSize: Int
    public var name: String { model.param.path }
    public var scale: Int { model.scale }
    private let runner: TiledUpscaler

    /// - Parameters:
    ///   - tileSize: core tile edge in input pixels; 0 = whole frame at once.
    public init(model: OwnModel, threads: Int = 1, tileSize: Int = 256) throws {
        guard (1...256).contains(threads) else { throw NeuralUpscaler.ConfigurationError.invalidSetting("threads must be 1...256, got \(threads)") }
        guard RenderRecipe.isValidTileSize(tileSize) else {
            throw NeuralUpscaler.ConfigurationError.invalidSetting("tile size must be 0 (whole frame) or 32...8192 pixels, got \(tileSize)")
        }
        self.model = model
        self.tileSize = tileSize
        let net = try Net(paramURL: model.param, weightsURL: model.weights, options: EngineOptions(threads: threads))
        // Every tile's output must be exactly scale × its input, as the probe found: anything else is refused.
        runner = try TiledUpscaler(net: net, inputName: model.inputBlob, outputName: model.outputBlob, scale: model.scale,
                                   border: .samePadding(context: model.context), exactOutputSize: true)
    }

    public func outputSize(for input: PixelSize) throws -> PixelSize {
        guard input.width > 0, input.height > 0, input.width <= 16384, input.height <= 16384 else {
            throw NeuralUpscaler.ConfigurationError.invalidSetting("frame size \(input) is outside 1...16384 pixels per side")
        }
        return PixelSize(width: input.width * model.scale, height: input.height * model.scale)
    }

    public func apply(_ image: RGBImage) throws -> RGBImage {
        let size = try outputSize(for: image.size)
        let t = try Tensor(channels: 3, height: image.height, width: image.width, values: image.pixels)
        let pixels = try [Float](unsafeUninitializedCapacity: 3 * size.width * size.height) { buf, count in
            try runner.upscale(t, tileSize: tileSize == 0 ? nil : tileSize, into: buf)
            count = buf.count
        }
        return RGBImage(width: size.width, height: size.height, pixels: pixels)
    }
}
