import Foundation
import Inference
import Shared

/// Super-resolution with our inference engine: a `FrameFilter` built from a model name.
///
/// The models, their scales, files and tile borders are `ModelCatalogue`'s super-resolution entries
/// (`lumiere-coordinator models` lists them): realesr-animevideov3 (×2, ×3, ×4), realesr-general and
/// realesr-general-wdn (×4), waifu2x-photo (×2, `noise` 0…3 or nil).
///
/// Frames are processed in overlapping tiles of `tileSize` input pixels, so memory is bounded by the
/// tile, and the result is identical to processing the frame in one piece.
public final class NeuralUpscaler: FrameFilter {
    /// A super-resolution model of the catalogue.
    public struct Model: RawRepresentable, CaseIterable, Sendable, Equatable {
        public let entry: ModelEntry
        public var rawValue: String { entry.name }

        public init?(rawValue: String) {
            guard let entry = ModelCatalogue.entry(named: rawValue), entry.kind == .superResolution else { return nil }
            self.entry = entry
        }

        public static var allCases: [Model] { ModelCatalogue.superResolutionNames.compactMap(Model.init(rawValue:)) }

        public var supportedScales: [Int] { entry.scales }
    }

    public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
        case unknownModel(String)
        case unsupportedScale(model: String, scale: Int, supported: [Int])
        case invalidNoise(model: String, noise: Int)
        case invalidSetting(String)
        case missingModelFile(String)
        case damagedModelFile(String, detail: String)

        public var description: String {
            switch self {
            case let .unknownModel(name):
                return "unknown model '\(name)'; choose one of \(Model.allCases.map(\.rawValue).joined(separator: ", "))"
            case let .unsupportedScale(model, scale, supported):
                return "model \(model) cannot upscale ×\(scale); it supports ×\(supported.map(String.init).joined(separator: ", ×"))"
            case let .invalidNoise(model, noise):
                if let levels = Model(rawValue: model)?.entry.noiseLevels.map(String.init), !levels.isEmpty {
                    let list = levels.count == 1 ? levels[0] : levels.dropLast().joined(separator: ", ") + " or " + levels.last!
                    return "noise level \(noise) is invalid for \(model); use \(list) (or none)"
                }
                let withNoise = Model.allCases.filter { !$0.entry.noiseLevels.isEmpty }.map(\.rawValue)
                return "model \(model) has no noise setting (only \(withNoise.joined(separator: ", ")) has --noise)"
            case let .invalidSetting(what):
                return what
            case let .missingModelFile(path):
                return "model file \(path) is missing — \(ModelLocator.fix)"
            case let .damagedModelFile(path, detail):
                return "model file \(path) is damaged (\(detail)) — \(ModelLocator.fix)"
            }
        }
    }

    public let model: Model
    public let scale: Int
    public let noise: Int?
    public let threads: Int
    public let tileSize: Int
    /// Where the network runs: the CPU engine (`threads` threads) or a Vulkan device (`threads` then unused).
    public let device: ComputeDevice
    /// Why a GPU was asked for and the CPU engine runs the model instead (a line for the log), or nil.
    public let fallback: String?
    public var name: String { model.rawValue }
    /// Gets a line for the log when a frame is retried with smaller tiles after the GPU ran out of memory
    /// (`TiledUpscaler.note`).
    public var note: (String) -> Void {
        get { runner.note }
        set { runner.note = newValue }
    }
    private let runner: TiledUpscaler
    /// Seconds a GPU has spent on this model's runs so far (`GPUNet.totalDeviceSeconds`); nil on the CPU engine.
    public var deviceSeconds: Double? { (runner.net as? GPUNet)?.totalDeviceSeconds }

    /// - Parameters:
    ///   - modelName: one of `Model`'s raw values.
    ///   - noise: waifu2x-photo only: 0…3, or nil for the plain ×2 model.
    ///   - threads: threads of the CPU engine.
    ///   - tileSize: core tile edge in input pixels (memory bound); 0 = whole frame at once; nil = the device's
    ///     (`ComputeDevice.defaultTileSize`).
    ///   - device: the CPU engine, or a Vulkan device (`GPUNet`); a model with a layer the GPU backend lacks runs on the
    ///     CPU engine (`fallback` says so), other `GPUError`s are thrown.
    ///   - precision: the GPU's blob storage (`GPUPrecision`); the CPU engine computes in fp32.
    ///   - modelsDirectory: default `ModelLocator.modelsDirectory()`.
    public init(modelName: String, scale: Int, noise: Int? = nil, threads: Int = 1, tileSize: Int? = 512,
                device: ComputeDevice = .cpu, precision: GPUPrecision = .fp32, modelsDirectory: URL? = nil) throws {
        guard let model = Model(rawValue: modelName) else { throw ConfigurationError.unknownModel(modelName) }
        guard model.supportedScales.contains(scale) else {
            throw ConfigurationError.unsupportedScale(model: modelName, scale: scale, supported: model.supportedScales)
        }
        if let noise {
            guard model.entry.noiseLevels.contains(noise) else { throw ConfigurationError.invalidNoise(model: modelName, noise: noise) }
        }
        guard (1...256).contains(threads) else { throw ConfigurationError.invalidSetting("threads must be 1...256, got \(threads)") }
        if let tileSize, !RenderRecipe.isValidTileSize(tileSize) {
            throw ConfigurationError.invalidSetting("tile size must be 0 (whole frame) or 32...8192 pixels, got \(tileSize)")
        }
        self.model = model
        self.scale = scale
        self.noise = noise
        self.threads = threads
        let dir = try modelsDirectory ?? ModelLocator.modelsDirectory()
        let stem = model.entry.stem(scale: scale, noise: noise)
        let border: TiledUpscaler.Border
        switch model.entry.tileBorder {
        case let .samePadding(context)?: border = .samePadding(context: context)
        case let .valid(padding)?: border = .valid(padding: padding)
        case nil: throw ConfigurationError.invalidSetting("model \(model.rawValue) has no tile border in the catalogue")
        }
        let (param, bin) = try ModelLocator.graphFiles(model.entry, stem: stem, in: dir, missing: ConfigurationError.missingModelFile,
                                                      damaged: ConfigurationError.damagedModelFile)
        let net = try Net(paramURL: param, weightsURL: bin, options: EngineOptions(threads: threads))
        guard let input = net.inputNames.first, let output = net.definitions.last?.tops.first else {
            throw ConfigurationError.invalidSetting("model \(stem) has no input or output blob")
        }
        let engine = try device.runner(for: net, model: model.rawValue, precision: precision)
        self.device = engine.device
        self.fallback = engine.fallback
        self.tileSize = tileSize ?? engine.device.defaultTileSize
        runner = try TiledUpscaler(net: engine.runner, inputName: input, outputName: output, scale: scale, border: border)
    }

    public func outputSize(for input: PixelSize) throws -> PixelSize {
        guard input.width > 0, input.height > 0, input.width <= 16384, input.height <= 16384 else {
            throw ConfigurationError.invalidSetting("frame size \(input) is outside 1...16384 pixels per side")
        }
        return PixelSize(width: input.width * scale, height: input.height * scale)
    }

    public func apply(_ image: RGBImage) throws -> RGBImage {
        _ = try outputSize(for: image.size)
        let t = try Tensor(channels: 3, height: image.height, width: image.width, values: image.pixels)
        let size = try outputSize(for: image.size)
        let pixels = try [Float](unsafeUninitializedCapacity: 3 * size.width * size.height) { buf, count in
            try runner.upscale(t, tileSize: tileSize == 0 ? nil : tileSize, into: buf)
            count = buf.count
        }
        return RGBImage(width: size.width, height: size.height, pixels: pixels)
    }
}
