/// How a `GPUNet` stores the blobs between layers and what its convolutions compute in.
public enum GPUPrecision: String, Sendable, Equatable, CaseIterable {
    /// fp32 blobs and arithmetic: the CPU engine's results within 1e-3 (the default).
    case fp32
    /// fp16 blobs (half the device memory and memory traffic per blob), and fp16 multiply-adds in the convolutions'
    /// loops where the device offers shaderFloat16 (`GPUNet.fp16Arithmetic` says whether it does; otherwise this is
    /// `.fp16Storage`). Weights stay fp32 in memory and are converted as the loops read them; everything else
    /// (activations, resampling, the warp, element-wise ops) computes in fp32 between an fp16 load and store.
    case fp16
    /// fp16 blobs, fp32 arithmetic everywhere: the only loss is each blob's rounding to fp16 (11 significant bits).
    case fp16Storage

    /// Bytes per stored blob value.
    var scalarBytes: Int { self == .fp32 ? 4 : 2 }

    /// The shader variant the ShaderCompiler plugin builds for this precision (Shaders/storage.glsl): `name`,
    /// `name_fp16` (fp16 blobs) or `name_fp16a` (fp16 blobs and multiply-adds).
    func shader(_ name: String, fp16Arithmetic: Bool) -> String {
        switch self {
        case .fp32: return name
        case .fp16Storage: return name + "_fp16"
        case .fp16: return name + (fp16Arithmetic ? "_fp16a" : "_fp16")
        }
    }
}
