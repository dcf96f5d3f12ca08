/// PixelShuffle on the GPU (`pixel_shuffle.comp`), both channel orders.
final class GPUPixelShuffle: GPULayer {
    let cpu: PixelShuffleLayer
    init(_ cpu: PixelShuffleLayer) throws { self.cpu = cpu }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0], r = cpu.factor
        guard x.dims == 3, x.channels % (r * r) == 0 else {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "channels of \(x.shapeDescription) not divisible by \(r * r)")
        }
        let out = try encoder.output(channels: x.channels / (r * r), height: x.height * r, width: x.width * r)
        try encoder.dispatch("pixel_shuffle", [x.buffer, out.buffer], push: PushConstants(ints: [x.height, x.width, out.channels, r, cpu.mode]),
                             width: out.width, height: out.height, channels: out.channels)
        return [out]
    }
}
