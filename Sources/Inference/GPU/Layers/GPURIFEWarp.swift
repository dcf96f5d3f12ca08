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
        guard flow.channels == 2, flow.height == image.height, flow.width == image.width else {
            throw InferenceError.invalidInput("rife.Warp needs a flow of 2x\(image.height)x\(image.width) for image \(image.shapeDescription), got \(flow.shapeDescription)")
        }
        guard image.width > 0, image.height > 0 else { throw InferenceError.invalidInput("rife.Warp got an empty image \(image.shapeDescription)") }
        let out = try encoder.output(channels: image.channels, height: image.height, width: image.width)
        try encoder.dispatch("rife_warp", [image.buffer, flow.buffer, out.buffer], push: PushConstants(ints: [image.channels, image.height, image.width]),
                             width: image.width, height: image.height, channels: image.channels)
        return [out]
    }
}
