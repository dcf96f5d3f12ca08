import Foundation

/// Deconvolution on the GPU, bias and activation included. 4×4 stride-2 undilated layers (RIFE's seven, waifu2x's
/// last) run on the register-blocked `deconv4x4s2_r4x8` (`deconv4x4s2_r4x4` for ≤ 4 output channels; the four output
/// phases as 2×2 convolutions, deconv4x4s2_regs.glsl) from `fastMinPixels` output pixels; smaller outputs, every
/// other kernel / stride / dilation / output padding / cut, and every layer when the net's options say
/// `convolution: .gemm` or LUMIERE_GPU_DECONV=reference (read at load, for measuring one against the other), on the
/// reference gather `deconvolution.comp`.
final class GPUDeconvolution: GPULayer {
    let cpu: DeconvolutionLayer
    let weights: VulkanBuffer, bias: VulkanBuffer, activationParams: VulkanBuffer
    /// The register-blocked shader this layer may run, its output-channel block and its packed weights, or nil for the
    /// reference shader only.
    let fast: (shader: String, channels: Int, weights: VulkanBuffer)?

    /// The rule: output pixels from which the register-blocked shader runs (below, the reference). One 4×4 stride-2
    /// layer at RIFE v4.25's shapes on lavapipe, process CPU seconds per run (GPUBenchmarkTests
    /// .testTinyOutputsAndDeconvolution, docs/engine.md): 32 → 52 to 32×32 0.0095 vs reference 0.0329, 64 → 52 to
    /// 16×16 0.0034 vs 0.0142, 128 → 52 to 4×4 0.0015 vs 0.0025, but 192 → 52 to 2×2 0.0013 vs 0.0008 (an invocation
    /// covers 2 × 4 pixels, so a 2×2 output leaves 1 of 64 lanes busy where the reference keeps 4).
    static let fastMinPixels = 16

    init(_ cpu: DeconvolutionLayer, uploads: GPUUploadBatch) throws {
        self.cpu = cpu
        let shape = cpu.kernelW == 4 && cpu.kernelH == 4 && cpu.strideW == 2 && cpu.strideH == 2 && cpu.dilationW == 1 && cpu.dilationH == 1
        let reference = uploads.options.convolution == .gemm || getenv("LUMIERE_GPU_DECONV").map { String(cString: $0) } == "reference"
        // ≤ 4 output channels (RIFE's two 16 → 4 layers at full resolution): a block of 8 would compute 4 zero channels.
        if shape && !reference {
            let (shader, block) = cpu.numOutput <= 4 ? ("deconv4x4s2_r4x4", 4) : ("deconv4x4s2_r4x8", 8)
            fast = (shader, block, try uploads.add(GPUDeconvolution.packWeights(cpu.columnWeights, inputs: cpu.inputChannels,
                                                                                 outputs: cpu.numOutput, taps: 16, block: block)))
        } else {
            fast = nil
        }
        weights = try uploads.add(cpu.columnWeights)
        bias = try uploads.add(cpu.bias ?? [])
        activationParams = try uploads.add(cpu.activation.params)
    }

    /// Column weights ((out·taps + k)·in + i) in deconv4x4s2_regs.glsl's order: [output block of `block`][input]
    /// [tap][`block` outputs], zero-filled beyond the real output channels.
    static func packWeights(_ columns: [Float], inputs: Int, outputs: Int, taps: Int, block: Int) -> [Float] {
        let blocks = (outputs + block - 1) / block
        var packed = [Float](repeating: 0, count: blocks * inputs * taps * block)
        for oc in 0..<outputs {
            for ic in 0..<inputs {
                for k in 0..<taps { packed[((oc / block * inputs + ic) * taps + k) * block + oc % block] = columns[(oc * taps + k) * inputs + ic] }
            }
        }
        return packed
    }

    var profileKind: String { "\(lastShader) \(cpu.kernelW)x\(cpu.kernelH)s\(cpu.strideW) \(cpu.inputChannels)→\(cpu.numOutput) at \(lastOutputSize)" }
    private var lastShader = "", lastOutputSize = ""

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        let g = try cpu.outputGeometry(dims: x.dims, channels: x.channels, height: x.height, width: x.width, shape: x.shapeDescription)
        let out = try encoder.output(channels: cpu.numOutput, height: g.height, width: g.width)
        lastOutputSize = "\(g.width)x\(g.height)"
        let tail = [cpu.bias == nil ? 0 : 1, Int(cpu.activation.code), cpu.activation.params.count]
        if let fast, out.width * out.height >= GPUDeconvolution.fastMinPixels {
            lastShader = fast.shader
            // Invocations over the full output's even-aligned 2-row × 4-column blocks that hold kept pixels.
            let p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width, g.cutLeft, g.cutTop] + tail)
            let columns = (g.cutLeft & 1) + out.width, rows = (g.cutTop & 1) + out.height
            try encoder.dispatch(fast.shader, [x.buffer, out.buffer, fast.weights, bias, activationParams], push: p, groups: ((columns + 31) / 32, (rows + 15) / 16,
                                                                         (out.channels + fast.channels - 1) / fast.channels))
            return [out]
        }
        lastShader = "deconvolution"
        let p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width,
                                     cpu.kernelW, cpu.kernelH, cpu.strideW, cpu.strideH, cpu.dilationW, cpu.dilationH, g.cutLeft, g.cutTop] + tail)
        try encoder.dispatch("deconvolution", [x.buffer, out.buffer, weights, bias, activationParams], push: p, width: out.width, height: out.height, channels: out.channels)
        return [out]
    }
}
