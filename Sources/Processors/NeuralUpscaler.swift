import Foundation
import Inference
import Shared

/// Super-resolution with our inference engine: a `FrameFilter` built from a model name.
///
/// | model | scales | notes |
/// |---|---|---|
/// | realesr-animevideov3 | 2, 3, 4 | compact Real-ESRGAN video model (x2/x3 end with a bicubic downscale) |
/// | realesr-general | 4 | Real-ESRGAN general v3 for live action (denoises) |
/// | realesr-general-wdn | 4 | the variant that denoises less |
/// | waifu2x-photo | 2 | upconv_7 photo; `noise` 0…3 also removes JPEG-like noise, nil = none |
///
/// Frames are processed in overlapping tiles of `tileSize` input pixels, so memory is bounded by the
/// tile, and the result is identical to processing the frame in one piece.
public final class NeuralUpscaler: FrameFilter {
    public enum Model: String, CaseIterable, Sendable {
        case realesrAnimeVideoV3 = "realesr-animevideov3"
        case realesrGeneral = "realesr-general"
        case realesrGeneralWDN = "realesr-general-wdn"
        case waifu2xPhoto = "waifu2x-photo"

        public var supportedScales: [Int] {
            switch self {
            case .realesrAnimeVideoV3: return [2, 3, 4]
            case .realesrGeneral, .realesrGeneralWDN: return [4]
            case .waifu2xPhoto: return [2]
            }
        }
    }

    public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
        case unknownModel(String)
        case unsupportedScale(model: String, scale: Int, supported: [Int])
        case invalidNoise(model: String, noise: Int)
        case invalidSetting(String)
        case missingModelFile(String)

        public var description: String {
            switch self {
            case let .unknownModel(name):
                return "unknown model '\(name)'; choose one of \(Model.allCases.map(\.rawValue).joined(separator: ", "))"
            case let .unsupportedScale(model, scale, supported):
                return "model \(model) cannot upscale ×\(scale); it supports ×\(supported.map(String.init).joined(separator: ", ×"))"
            case let .invalidNoise(model, noise):
                return model == Model.waifu2xPhoto.rawValue
                    ? "noise level \(noise) is invalid for waifu2x-photo; use 0, 1, 2 or 3 (or none)"
                    : "model \(model) has no noise setting (only waifu2x-photo has --noise)"
            case let .invalidSetting(what):
                return what
            case let .missingModelFile(path):
                return "model file \(path) is missing — run scripts/setup.sh or point LUMIERE_MODELS at the model directory"
            }
        }
    }

    public let model: Model
    public let scale: Int
    public let noise: Int?
    public let threads: Int
    public let tileSize: Int
    public var name: String { model.rawValue }
    private let runner: TiledUpscaler

    /// - Parameters:
    ///   - modelName: one of `Model`'s raw values.
    ///   - noise: waifu2x-photo only: 0…3, or nil for the plain ×2 model.
    ///   - threads: threads used by every backend.
    ///   - tileSize: core tile edge in input pixels (memory bound); 0 = whole frame at once.
    ///   - modelsDirectory: default `ModelLocator.modelsDirectory()`.
    public init(modelName: String, scale: Int, noise: Int? = nil, threads: Int = 1, tileSize: Int = 512,
                modelsDirectory: URL? = nil) throws {
        guard let model = Model(rawValue: modelName) else { throw ConfigurationError.unknownModel(modelName) }
        guard model.supportedScales.contains(scale) else {
            throw ConfigurationError.unsupportedScale(model: modelName, scale: scale, supported: model.supportedScales)
        }
        if let noise {
            guard model == .waifu2xPhoto, (0...3).contains(noise) else { throw ConfigurationError.invalidNoise(model: modelName, noise: noise) }
        }
        guard (1...256).contains(threads) else { throw ConfigurationError.invalidSetting("threads must be 1...256, got \(threads)") }
        guard RenderRecipe.isValidTileSize(tileSize) else {
            throw ConfigurationError.invalidSetting("tile size must be 0 (whole frame) or 32...8192 pixels, got \(tileSize)")
        }
        self.model = model
        self.scale = scale
        self.noise = noise
        self.threads = threads
        self.tileSize = tileSize
        let dir = try modelsDirectory ?? ModelLocator.modelsDirectory()
        let stem: String
        let border: TiledUpscaler.Border
        switch model {
        case .realesrAnimeVideoV3:
            stem = "realesr-animevideov3/realesr-animevideov3-x\(scale)"
            border = .samePadding(context: 20)  // 18 stacked 3×3 convolutions (+ the bicubic's reach)
        case .realesrGeneral:
            stem = "realesr-general-x4v3/RealESRGAN_General_x4_v3"
            border = .samePadding(context: 34)  // 32 stacked 3×3 convolutions
        case .realesrGeneralWDN:
            stem = "realesr-general-wdn-x4v3/RealESRGAN_General_WDN_x4_v3"
            border = .samePadding(context: 34)
        case .waifu2xPhoto:
            stem = "waifu2x-upconv7-photo/" + (noise.map { "noise\($0)_scale2.0x_model" } ?? "scale2.0x_model")
            border = .valid(padding: 7)  // six unpadded 3×3 convolutions + the 4×4 deconvolution
        }
        let param = dir.appendingPathComponent(stem + ".param"), bin = dir.appendingPathComponent(stem + ".bin")
        for f in [param, bin] where !FileManager.default.fileExists(atPath: f.path) {
            throw ConfigurationError.missingModelFile(f.path)
        }
        let net = try Net(paramURL: param, weightsURL: bin, options: EngineOptions(threads: threads))
        guard let input = net.inputNames.first, let output = net.definitions.last?.tops.first else {
            throw ConfigurationError.invalidSetting("model \(stem) has no input or output blob")
        }
        runner = try TiledUpscaler(net: net, inputName: input, outputName: output, scale: scale, border: border)
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
