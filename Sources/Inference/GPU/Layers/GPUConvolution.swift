/// Convolution on the GPU. 3×3 stride-1 undilated layers (the super-resolution models' bulk) run on the tiled
/// shared-memory shader `conv3x3.comp`; everything else, and every layer when the net's options say
/// `convolution: .gemm`, on the reference shader `convolution.comp` (any kernel, stride, dilation, padding). Both add
/// the bias and apply the layer's activation, a fused PReLU/ReLU/LeakyReLU included.
final class GPUConvolution: GPULayer {
    let cpu: ConvolutionLayer
    let weights: VulkanBuffer, bias: VulkanBuffer, activationParams: VulkanBuffer
    let activation: Activation
    /// Whether this layer runs on conv3x3.comp (its weights are then packed for it).
    let tiled3x3: Bool

    init(_ cpu: ConvolutionLayer, uploads: GPUUploadBatch) throws {
        self.cpu = cpu
        activation = cpu.activation  // read after Net's fusion pass, like the CPU forward
        tiled3x3 = uploads.options.convolution == .auto && cpu.kernelW == 3 && cpu.kernelH == 3 && cpu.strideW == 1 && cpu.strideH == 1
            && cpu.dilationW == 1 && cpu.dilationH == 1
        weights = try uploads.add(tiled3x3 ? GPUConvolution.packConv3x3(cpu.weights, inputs: cpu.inputChannels, outputs: cpu.numOutput) : cpu.weights)
        bias = try uploads.add(cpu.bias ?? [])
        activationParams = try uploads.add(activation.params)
    }

    /// Weights out × in × 3 × 3 in conv3x3.comp's order: [output block of 16][input chunk of 8][8 inputs][9 taps]
    /// [16 outputs], zero-filled beyond the real channels.
    static func packConv3x3(_ w: [Float], inputs: Int, outputs: Int) -> [Float] {
        let chunks = (inputs + 7) / 8, blocks = (outputs + 15) / 16
        var packed = [Float](repeating: 0, count: blocks * chunks * 8 * 9 * 16)
        for oc in 0..<outputs {
            for ic in 0..<inputs {
                let base = ((oc / 16 * chunks + ic / 8) * 8 + ic % 8) * 9 * 16 + oc % 16
                for k in 0..<9 { packed[base + k * 16] = w[(oc * inputs + ic) * 9 + k] }
            }
        }
        return packed
    }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        guard x.dims == 3, x.channels == cpu.inputChannels else {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "expects \(cpu.inputChannels) input channels, got \(x.shapeDescription)")
        }
        let g = try cpu.outputGeometry(width: x.width, height: x.height, shape: x.shapeDescription)
        let out = try encoder.output(channels: cpu.numOutput, height: g.height, width: g.width)
        let buffers = [x.buffer, out.buffer, weights, bias, activationParams]
        if tiled3x3 {
            var p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width, g.padLeft, g.padTop])
            p.float(cpu.padValue)
            p.int(cpu.bias == nil ? 0 : 1); p.int(Int(activation.code)); p.int(activation.params.count)
            try encoder.dispatch("conv3x3", buffers, push: p, groups: ((out.width + 7) / 8, (out.height + 7) / 8, (out.channels + 15) / 16))
            return [out]
        }
        var p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width,
                                     cpu.kernelW, cpu.kernelH, cpu.strideW, cpu.strideH, cpu.dilationW, cpu.dilationH, g.padLeft, g.padTop])
        p.float(cpu.padValue)
        p.int(cpu.bias == nil ? 0 : 1); p.int(Int(activation.code)); p.int(activation.params.count)
        try encoder.dispatch("convolution", buffers, push: p, width: out.width, height: out.height, channels: out.channels)
        return [out]
    }
}
