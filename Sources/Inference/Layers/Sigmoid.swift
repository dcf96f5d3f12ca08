import CLumiereKernels

/// ncnn Sigmoid: 1 / (1 + e^-x).
final class SigmoidLayer: Layer {
    init(_ d: LayerDefinition) throws { try d.expectBlobs(bottoms: 1, tops: 1) }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let x = inputs[0]
        let out = x.reshaped(dims: x.dims, channels: x.channels, height: x.height, width: x.width)
        Activation(code: Int32(LK_ACT_SIGMOID), params: []).apply(to: out)
        return [out]
    }
}
