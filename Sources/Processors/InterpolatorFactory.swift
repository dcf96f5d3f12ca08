import Shared

/// Builds the frame interpolator `restore --interp` names.
public enum InterpolatorFactory {
    public static var knownInterpolators: [String] { RetimeRecipe.interpolators }

    public static func make(_ name: String, threads: Int) throws -> FrameInterpolator {
        if name == "blend" { return BlendInterpolator() }
        return try RIFEInterpolator(modelName: name, threads: max(1, threads))
    }
}
