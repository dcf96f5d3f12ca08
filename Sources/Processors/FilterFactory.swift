import Inference
import Shared

/// Builds the frame filter a recipe names: classical Lanczos, one of the super-resolution models of the catalogue,
/// or the user's own ncnn model by absolute path (`OwnModel`).
public enum FilterFactory {
    public enum FactoryError: Error, CustomStringConvertible, Equatable {
        case unknownProcessor(String, known: [String])
        public var description: String {
            switch self {
            case .unknownProcessor(let name, let known): return "unknown processor \(name); choose one of \(known.joined(separator: ", "))"
            }
        }
    }

    /// Names `restore --model` accepts (`lanczos` is the classical baseline).
    public static var knownProcessors: [String] { ["lanczos"] + NeuralUpscaler.Model.allCases.map(\.rawValue) }

    /// The model's own scale to run for a picture of `source` that must end up `content`: the smallest scale
    /// that reaches the target (the rest is Lanczos), or the model's largest.
    public static func modelScale(processor: String, source: PixelSize, content: PixelSize) -> Int? {
        if OwnModel.isPath(processor) { return try? OwnModel.inspect(processor).scale }
        guard let model = NeuralUpscaler.Model(rawValue: processor) else { return nil }
        let scales = model.supportedScales.sorted()
        return scales.first { source.width * $0 >= content.width && source.height * $0 >= content.height } ?? scales.last
    }

    /// `device`: where a catalogue model runs (the tile side then comes from the device when the recipe leaves it open).
    /// The user's own models run on the CPU engine.
    public static func make(_ recipe: RenderRecipe, threads: Int, device: ComputeDevice = .cpu, precision: GPUPrecision = .fp32) throws -> FrameFilter {
        if recipe.processor == "lanczos" { return LanczosScaler(target: recipe.contentSize) }
        if OwnModel.isPath(recipe.processor) {
            // The user's own model: run only if the files at that path are the ones the coordinator hashed.
            guard let param = recipe.modelParamSHA256, let weights = recipe.modelWeightsSHA256 else {
                throw OwnModel.Problem.recipeWithoutHashes(recipe.processor)
            }
            if let noise = recipe.noise { throw NeuralUpscaler.ConfigurationError.invalidSetting("--noise \(noise) is for waifu2x-photo; the model \(recipe.processor) has no noise setting") }
            let model = try OwnModel.inspect(recipe.processor, expecting: (param, weights))
            if let scale = recipe.modelScale, scale != model.scale {
                throw NeuralUpscaler.ConfigurationError.unsupportedScale(model: recipe.processor, scale: scale, supported: [model.scale])
            }
            return try OwnModelUpscaler(model: model, threads: max(1, threads), tileSize: recipe.tileSize ?? 256)
        }
        guard let model = NeuralUpscaler.Model(rawValue: recipe.processor) else {
            throw FactoryError.unknownProcessor(recipe.processor, known: knownProcessors)
        }
        return try NeuralUpscaler(modelName: model.rawValue, scale: recipe.modelScale ?? model.supportedScales.max()!,
                                  noise: recipe.noise, threads: max(1, threads), tileSize: recipe.tileSize,
                                  device: device, precision: precision)
    }
}
