import Foundation

/// Convolution on the GPU. 3×3 stride-1 undilated layers (the super-resolution models' bulk) run on a fast shader,
/// by default the register-blocked `conv3x3_r4x8` (conv3x3_regs.glsl; 5× faster on lavapipe than the shared-memory
/// `conv3x3.comp`, measurements in docs/engine.md); everything else, and every layer when the net's options say
/// `convolution: .gemm`, on the reference shader `convolution.comp` (any kernel, stride, dilation, padding). Both add
/// the bias and apply the layer's activation, a fused PReLU/ReLU/LeakyReLU included.
final class GPUConvolution: GPULayer {
    let cpu: ConvolutionLayer
    let weights: VulkanBuffer, bias: VulkanBuffer, activationParams: VulkanBuffer
    let activation: Activation
    /// Whether this layer runs on a fast 3×3 shader (its weights are then packed for it).
    let tiled3x3: Bool
    /// Which fast 3×3 shader: `conv3x3_r<pixels>x<channels>` (register-blocked, the default) or `conv3x3` (shared-memory
    /// tiles). LUMIERE_GPU_CONV3X3 picks another, for measuring them against each other on one device.
    static let fast3x3: (name: String, pixels: Int, channels: Int) = {
        let name = ProcessInfo.processInfo.environment["LUMIERE_GPU_CONV3X3"] ?? "conv3x3_r4x8"
        if name == "conv3x3" { return (name, 1, 16) }   // an 8 × 8 tile × 16 channels per workgroup
        let parts = name.dropFirst("conv3x3_r".count).split(separator: "x").compactMap { Int($0) }
        guard name.hasPrefix("conv3x3_r"), parts.count == 2, parts[0] > 0, parts[1] > 0, parts[1] % 4 == 0 else { return ("conv3x3_r4x8", 4, 8) }
        return (name, parts[0], parts[1])
    }()

    init(_ cpu: ConvolutionLayer, uploads: GPUUploadBatch) throws {
        self.cpu = cpu
        activation = cpu.activation  // read after Net's fusion pass, like the CPU forward
        tiled3x3 = uploads.options.convolution == .auto && cpu.kernelW == 3 && cpu.kernelH == 3 && cpu.strideW == 1 && cpu.strideH == 1
            && cpu.dilationW == 1 && cpu.dilationH == 1
        let fast = GPUConvolution.fast3x3
        weights = try uploads.add(!tiled3x3 ? cpu.weights : fast.name == "conv3x3"
            ? GPUConvolution.packConv3x3(cpu.weights, inputs: cpu.inputChannels, outputs: cpu.numOutput)
            : GPUConvolution.packConv3x3(cpu.weights, inputs: cpu.inputChannels, outputs: cpu.numOutput, block: fast.channels))
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

    /// Weights out × in × 3 × 3 in conv3x3_regs.glsl's order: [output block of `block`][input][9 taps][`block`
    /// outputs], zero-filled beyond the real output channels.
    static func packConv3x3(_ w: [Float], inputs: Int, outputs: Int, block: Int) -> [Float] {
        let blocks = (outputs + block - 1) / block
        var packed = [Float](repeating: 0, count: blocks * inputs * 9 * block)
        for oc in 0..<outputs {
            for ic in 0..<inputs {
                let base = ((oc / block * inputs + ic) * 9) * block + oc % block
                for k in 0..<9 { packed[base + k * block] = w[(oc * inputs + ic) * 9 + k] }
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
            let fast = GPUConvolution.fast3x3
            try encoder.dispatch(fast.name, buffers, push: p, groups: ((out.width + 8 * fast.pixels - 1) / (8 * fast.pixels), (out.height + 7) / 8,
                                                                         (out.channels + fast.channels - 1) / fast.channels))
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
