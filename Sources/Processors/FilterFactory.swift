import Shared

/// Builds the frame filter a recipe names: classical Lanczos or one of the super-resolution models.
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
        guard let model = NeuralUpscaler.Model(rawValue: processor) else { return nil }
        let scales = model.supportedScales.sorted()
        return scales.first { source.width * $0 >= content.width && source.height * $0 >= content.height } ?? scales.last
    }

    public static func make(_ recipe: RenderRecipe, threads: Int) throws -> FrameFilter {
        if recipe.processor == "lanczos" { return LanczosScaler(target: recipe.contentSize) }
        guard let model = NeuralUpscaler.Model(rawValue: recipe.processor) else {
            throw FactoryError.unknownProcessor(recipe.processor, known: knownProcessors)
        }
        return try NeuralUpscaler(modelName: model.rawValue, scale: recipe.modelScale ?? model.supportedScales.max()!,
                                  noise: recipe.noise, threads: max(1, threads), tileSize: recipe.tileSize ?? 256)
    }
}
