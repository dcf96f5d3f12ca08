import Foundation

/// The cooperative-matrix ("tensor core") path of the 3×3 convolutions, stride 1 and 2 (Shaders/conv3x3_coopmat.comp):
/// an implicit GEMM, output pixels × output channels = im2col(input) (pixels × inC·9) · weights (inC·9 × outC), where
/// one subgroup of 32 computes 32 pixels of one output row × 32 output channels as 2 × 2 tiles of 16 × 16 with
/// coopMatMulAddNV, fp16 × fp16 into fp32 accumulators.
///
/// Why GLSL_NV_cooperative_matrix and not the KHR extension: Debian 12's glslang (12.0.0, the one the build uses)
/// compiles only the NV one. NVIDIA's drivers (the H100 target) expose VK_NV_cooperative_matrix beside the KHR one;
/// AMD and Intel expose only KHR, so there the path is not offered (the listing says so). The KHR shader is the same
/// GLSL with the KHR spellings once the build has a glslang ≥ 13.
///
/// Why opt-in (LUMIERE_GPU_COOPMAT=on) and not on wherever offered: no device this project can test on offers it.
/// Debian's lavapipe (22.3, and bookworm-backports' 25.0.7) lists neither VK_KHR_cooperative_matrix nor
/// VK_NV_cooperative_matrix, and newer lavapipes (Mesa 26 source) offer KHR only; so the path has run on no device yet.
/// `scripts/gpu-check.sh` runs it on a real GPU (its `coopmat` rows and a `--check` with it on); turn it on by default
/// once that has passed there. LUMIERE_GPU_COOPMAT=off (or unset) keeps the other shaders.
public enum CooperativeMatrixConvolution {
    /// The one shape the shader is written for: 16×16×16, fp16 inputs, fp32 accumulator and result (every NVIDIA GPU
    /// with tensor cores lists it).
    public static let shape = CooperativeMatrixShape(m: 16, n: 16, k: 16, a: .fp16, b: .fp16, c: .fp32, result: .fp32)
    /// The shader's workgroup is one subgroup of this size (its shared-memory tiles and barriers assume it).
    public static let subgroupSize = 32
    /// Output pixels (one row) and output channels per workgroup: 2 × 2 tiles of 16 × 16.
    static let tilePixels = 32, tileChannels = 32

    /// Whether a device with these VK_NV_cooperative_matrix shapes (subgroup scope) and subgroup size can run the shader.
    public static func usable(nvShapes: [CooperativeMatrixShape], subgroupSize: Int) -> Bool {
        subgroupSize == Self.subgroupSize && nvShapes.contains(shape)
    }

    /// LUMIERE_GPU_COOPMAT=on asks for the path (read at each load, so one process can load a net both ways).
    static var requested: Bool { getenv("LUMIERE_GPU_COOPMAT").map { String(cString: $0) } == "on" }

    /// The padded K (inC·9 rounded up to the tile's 16): the rows of the packed weights per block of output channels.
    public static func paddedK(inputs: Int) -> Int { (inputs * 9 + 15) / 16 * 16 }

    /// Weights out × in × 3 × 3 as the shader's B matrices, fp16: [block of 32 outputs][k = input · 9 + tap, padded to
    /// `paddedK`][32 outputs], zero beyond the real channels and taps (so the padded products add nothing). Row-major
    /// rows of 32 halves: each 16 × 16 tile is loaded with stride 32 at offsets that are multiples of 16 elements.
    public static func packWeights(_ w: [Float], inputs: Int, outputs: Int) -> [Float16] {
        let k = paddedK(inputs: inputs), blocks = (outputs + tileChannels - 1) / tileChannels
        var packed = [Float16](repeating: 0, count: blocks * k * tileChannels)
        for oc in 0..<outputs {
            for ic in 0..<inputs {
                for tap in 0..<9 {
                    packed[((oc / tileChannels) * k + ic * 9 + tap) * tileChannels + oc % tileChannels] = Float16(w[(oc * inputs + ic) * 9 + tap])
                }
            }
        }
        return packed
    }
}
