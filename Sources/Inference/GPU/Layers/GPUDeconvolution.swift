/// Deconvolution on the GPU: `deconvolution.comp`, a gather per output value (waifu2x's 4×4 stride-2 layer and any
/// other kernel / stride / dilation / output padding), bias and activation.
final class GPUDeconvolution: GPULayer {
    let cpu: DeconvolutionLayer
    let weights: VulkanBuffer, bias: VulkanBuffer, activationParams: VulkanBuffer

    init(_ cpu: DeconvolutionLayer, uploads: GPUUploadBatch) throws {
        self.cpu = cpu
        weights = try uploads.add(cpu.columnWeights)
        bias = try uploads.add(cpu.bias ?? [])
        activationParams = try uploads.add(cpu.activation.params)
    }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        let g = try cpu.outputGeometry(dims: x.dims, channels: x.channels, height: x.height, width: x.width, shape: x.shapeDescription)
        let out = try encoder.output(channels: cpu.numOutput, height: g.height, width: g.width)
        let p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width,
                                     cpu.kernelW, cpu.kernelH, cpu.strideW, cpu.strideH, cpu.dilationW, cpu.dilationH, g.cutLeft, g.cutTop,
                                     cpu.bias == nil ? 0 : 1, Int(cpu.activation.code), cpu.activation.params.count])
        try encoder.dispatch("deconvolution", [x.buffer, out.buffer, weights, bias, activationParams], push: p,
                             width: out.width, height: out.height, channels: out.channels)
        return [out]
    }
}
