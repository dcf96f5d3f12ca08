import Inference
import Shared

/// Builds the frame interpolator `restore --interp` names.
public enum InterpolatorFactory {
    public static var knownInterpolators: [String] { RetimeRecipe.interpolators }

    /// `device`: where a model runs (RIFE falls back to the CPU engine when the GPU backend cannot run it).
    public static func make(_ name: String, threads: Int, device: ComputeDevice = .cpu, precision: GPUPrecision = .fp32) throws -> FrameInterpolator {
        if name == "blend" { return BlendInterpolator() }
        return try RIFEInterpolator(modelName: name, threads: max(1, threads), device: device, precision: precision)
    }
}
