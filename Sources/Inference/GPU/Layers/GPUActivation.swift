/// ReLU (with its optional slope) and PReLU on the GPU when not fused into the convolution before them
/// (`activation.comp`); a fused one passes its input through, as on the CPU. Sigmoid too (never fused).
final class GPUActivation: GPULayer {
    let name: String
    let activation: Activation
    let isFused: Bool
    let params: VulkanBuffer
    /// PReLU checks its slope count against the input.
    let slopeCount: Int?

    init(relu: ReLULayer, uploads: GPUUploadBatch) throws {
        name = "ReLU"
        activation = relu.fusedActivation
        isFused = relu.isFused
        params = try uploads.add(activation.params)
        slopeCount = nil
    }

    init(prelu: PReLULayer, uploads: GPUUploadBatch) throws {
        name = prelu.name
        activation = prelu.fusedActivation
        isFused = prelu.isFused
        params = try uploads.add(prelu.slopes)
        slopeCount = prelu.slopes.count
    }

    init(sigmoid: SigmoidLayer, uploads: GPUUploadBatch) throws {
        name = "Sigmoid"
        activation = SigmoidLayer.activation
        isFused = false
        params = try uploads.add([])
        slopeCount = nil
    }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        if isFused { return [x] }
        // What one slope covers: a channel (3-D), a row (2-D) or a value (1-D), as PReLULayer.
        let axis = x.dims == 3 ? 0 : (x.dims == 2 ? 1 : 2)
        if let slopeCount {
            let groups = x.dims == 3 ? x.channels : (x.dims == 2 ? x.height : x.width)
            guard slopeCount == 1 || slopeCount == groups else {
                throw InferenceError.shapeMismatch(layer: name, reason: "\(slopeCount) slopes for input \(x.shapeDescription)")
            }
        }
        let out = try encoder.output(dims: x.dims, channels: x.channels, height: x.height, width: x.width)
        let p = PushConstants(ints: [x.channels, x.height, x.width, Int(activation.code), activation.params.count, axis])
        try encoder.dispatch("activation", [x.buffer, out.buffer, params], push: p, width: x.width, height: x.height, channels: x.channels)
        return [out]
    }
}
