import Shared

/// Builds the frame filter a recipe names.
public enum FilterFactory {
    public enum FactoryError: Error, CustomStringConvertible, Equatable {
        case unknownProcessor(String, known: [String])
        public var description: String {
            switch self {
            case .unknownProcessor(let name, let known): return "unknown processor \(name); choose one of \(known.joined(separator: ", "))"
            }
        }
    }

    /// Names `restore --processor/--model` accepts.
    public static var knownProcessors: [String] { ["lanczos"] }

    public static func make(_ recipe: RenderRecipe, threads: Int) throws -> FrameFilter {
        switch recipe.processor {
        case "lanczos": return LanczosScaler(target: recipe.contentSize)
        default: throw FactoryError.unknownProcessor(recipe.processor, known: knownProcessors)
        }
    }
}
