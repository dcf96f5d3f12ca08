/// How a `GPUNet` stores the blobs between layers.
public enum GPUPrecision: String, Sendable, Equatable, CaseIterable {
    /// fp32 blobs: the CPU engine's results within 1e-3 (the default).
    case fp32
    /// fp16 blobs: half the device memory and memory traffic per blob. Arithmetic stays fp32 (each shader converts on
    /// load and store; see Shaders/storage.glsl) and so do weights, so the only loss is the rounding of every blob to
    /// fp16 (11-bit significand). Needs 16-bit storage buffers (Vulkan 1.1's storageBuffer16BitAccess, which lavapipe
    /// and current GPUs offer); `GPUNet` refuses fp16 on a device without them.
    case fp16

    /// Bytes per stored value.
    var scalarBytes: Int { self == .fp16 ? 2 : 4 }
    /// The shader variant the ShaderCompiler plugin builds for this storage (`name` or `name_fp16`).
    func shader(_ name: String) -> String { self == .fp16 ? name + "_fp16" : name }
}
