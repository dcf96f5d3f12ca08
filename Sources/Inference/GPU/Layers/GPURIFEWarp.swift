/// RIFE's `rife.Warp` on the GPU (`rife_warp.comp`), the same sampling as `RIFEWarpLayer`. A GPUNet finds it when its
/// Net was loaded with `LayerRegistry.withRIFE` (the CPU layer is a `RIFEWarpLayer`); a warp of another class
/// registered under the name (a test's own) is refused at load, like every custom layer.
final class GPURIFEWarp: GPULayer {
    init(_ cpu: RIFEWarpLayer) {}

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        guard inputs.count == 2 else {
            throw InferenceError.invalidInput("rife.Warp takes 2 inputs (image, flow), got \(inputs.count)")
        }
        let image = inputs[0], flow = inputs[1]
        try RIFEWarpLayer.validate(image: (image.height, image.width, image.shapeDescription),
                                   flow: (flow.channels, flow.height, flow.width, flow.shapeDescription))
        let out = try encoder.output(channels: image.channels, height: image.height, width: image.width)
        try encoder.dispatch("rife_warp", [image.buffer, flow.buffer, out.buffer], push: PushConstants(ints: [image.channels, image.height, image.width]),
                             width: image.width, height: image.height, channels: image.channels)
        return [out]
    }
}
