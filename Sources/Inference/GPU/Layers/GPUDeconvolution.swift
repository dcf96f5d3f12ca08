import Foundation

/// Deconvolution on the GPU, bias and activation included. 4×4 stride-2 undilated layers (RIFE's seven, waifu2x's
/// last) run on the register-blocked `deconv4x4s2_r4x8` (`deconv4x4s2_r4x4` for ≤ 4 output channels; the four output
/// phases as 2×2 convolutions, deconv4x4s2_regs.glsl); every other kernel / stride / dilation / output padding / cut,
/// and every layer when the net's options say `convolution: .gemm` or LUMIERE_GPU_DECONV=reference (read at load, for
/// measuring one against the other), on the reference gather `deconvolution.comp`.
final class GPUDeconvolution: GPULayer {
    let cpu: DeconvolutionLayer
    let weights: VulkanBuffer, bias: VulkanBuffer, activationParams: VulkanBuffer
    /// The register-blocked shader this layer runs and its output-channel block, or nil for the reference shader.
    let fast: (shader: String, channels: Int)?

    init(_ cpu: DeconvolutionLayer, uploads: GPUUploadBatch) throws {
        self.cpu = cpu
        let shape = cpu.kernelW == 4 && cpu.kernelH == 4 && cpu.strideW == 2 && cpu.strideH == 2 && cpu.dilationW == 1 && cpu.dilationH == 1
        let reference = uploads.options.convolution == .gemm || getenv("LUMIERE_GPU_DECONV").map { String(cString: $0) } == "reference"
        // ≤ 4 output channels (RIFE's two 16 → 4 layers at full resolution): a block of 8 would compute 4 zero channels.
        fast = shape && !reference ? (cpu.numOutput <= 4 ? ("deconv4x4s2_r4x4", 4) : ("deconv4x4s2_r4x8", 8)) : nil
        weights = try uploads.add(fast.map { GPUDeconvolution.packWeights(cpu.columnWeights, inputs: cpu.inputChannels, outputs: cpu.numOutput,
                                                                          taps: 16, block: $0.channels) } ?? cpu.columnWeights)
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

    var profileKind: String { "\(fast?.shader ?? "deconvolution") \(cpu.kernelW)x\(cpu.kernelH)s\(cpu.strideW) \(cpu.inputChannels)→\(cpu.numOutput) at \(lastOutputSize)" }
    private var lastOutputSize = ""

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        let g = try cpu.outputGeometry(dims: x.dims, channels: x.channels, height: x.height, width: x.width, shape: x.shapeDescription)
        let out = try encoder.output(channels: cpu.numOutput, height: g.height, width: g.width)
        lastOutputSize = "\(g.width)x\(g.height)"
        let buffers = [x.buffer, out.buffer, weights, bias, activationParams]
        let tail = [cpu.bias == nil ? 0 : 1, Int(cpu.activation.code), cpu.activation.params.count]
        if let fast {
            // Invocations over the full output's even-aligned 2-row × 4-column blocks that hold kept pixels.
            let p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width, g.cutLeft, g.cutTop] + tail)
            let columns = (g.cutLeft & 1) + out.width, rows = (g.cutTop & 1) + out.height
            try encoder.dispatch(fast.shader, buffers, push: p, groups: ((columns + 31) / 32, (rows + 15) / 16,
                                                                         (out.channels + fast.channels - 1) / fast.channels))
            return [out]
        }
        let p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width,
                                     cpu.kernelW, cpu.kernelH, cpu.strideW, cpu.strideH, cpu.dilationW, cpu.dilationH, g.cutLeft, g.cutTop] + tail)
        try encoder.dispatch("deconvolution", buffers, push: p, width: out.width, height: out.height, channels: out.channels)
        return [out]
    }
}
