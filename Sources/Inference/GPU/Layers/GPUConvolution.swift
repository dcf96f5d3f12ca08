/// Convolution on the GPU: `convolution.comp`, the reference shader (any kernel, stride, dilation, padding, bias,
/// the layer's activation including a fused PReLU/ReLU/LeakyReLU).
final class GPUConvolution: GPULayer {
    let cpu: ConvolutionLayer
    let weights: VulkanBuffer, bias: VulkanBuffer, activationParams: VulkanBuffer
    let activation: Activation

    init(_ cpu: ConvolutionLayer, uploads: GPUUploadBatch) throws {
        self.cpu = cpu
        activation = cpu.activation  // read after Net's fusion pass, like the CPU forward
        weights = try uploads.add(cpu.weights)
        bias = try uploads.add(cpu.bias ?? [])
        activationParams = try uploads.add(activation.params)
    }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        guard x.dims == 3, x.channels == cpu.inputChannels else {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "expects \(cpu.inputChannels) input channels, got \(x.shapeDescription)")
        }
        let g = try cpu.outputGeometry(width: x.width, height: x.height, shape: x.shapeDescription)
        let out = try encoder.output(channels: cpu.numOutput, height: g.height, width: g.width)
        var p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width,
                                     cpu.kernelW, cpu.kernelH, cpu.strideW, cpu.strideH, cpu.dilationW, cpu.dilationH, g.padLeft, g.padTop])
        p.float(cpu.padValue)
        p.int(cpu.bias == nil ? 0 : 1); p.int(Int(activation.code)); p.int(activation.params.count)
        try encoder.dispatch("convolution", [x.buffer, out.buffer, weights, bias, activationParams], push: p,
                             width: out.width, height: out.height, channels: out.channels)
        return [out]
    }
}
