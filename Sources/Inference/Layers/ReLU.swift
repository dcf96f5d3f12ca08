import CLumiereKernels

/// ncnn ReLU with optional negative slope (0=slope; LeakyReLU when non-zero).
final class ReLULayer: Layer, FusableActivation {
    let slope: Float
    var isFused = false

    init(_ d: LayerDefinition) throws {
        try d.expectBlobs(bottoms: 1, tops: 1)
        slope = d.params.float(0, default: 0)
    }

    var fusedActivation: Activation {
        slope == 0 ? Activation(code: Int32(LK_ACT_RELU), params: []) : Activation(code: Int32(LK_ACT_LEAKY), params: [slope])
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let x = inputs[0]
        if isFused { return [x] }
        let out = x.reshaped(dims: x.dims, channels: x.channels, height: x.height, width: x.width)
        fusedActivation.apply(to: out)
        return [out]
    }
}
