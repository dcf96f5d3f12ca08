import CLumiereKernels

/// ncnn Sigmoid: 1 / (1 + e^-x).
final class SigmoidLayer: Layer {
    /// The activation it applies (shared with the GPU backend, which runs it with `activation.comp`).
    static let activation = Activation(code: Int32(LK_ACT_SIGMOID), params: [])

    init(_ d: LayerDefinition) throws { try d.expectBlobs(bottoms: 1, tops: 1) }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let x = inputs[0]
        let out = x.reshaped(dims: x.dims, channels: x.channels, height: x.height, width: x.width)
        SigmoidLayer.activation.apply(to: out)
        return [out]
    }
}
