import CLumiereKernels

/// ncnn PixelShuffle (depth to space): mode 0 is PyTorch's channel order, mode 1 the DCR order.
final class PixelShuffleLayer: Layer {
    let name: String
    let factor: Int, mode: Int

    init(_ d: LayerDefinition) throws {
        try d.expectBlobs(bottoms: 1, tops: 1)
        name = d.name
        factor = d.params.int(0, default: 1)
        mode = d.params.int(1, default: 0)
        guard (1...16).contains(factor) else { throw d.invalid("upscale_factor \(factor) must be 1...16") }
        guard mode == 0 || mode == 1 else { throw d.invalid("mode \(mode) must be 0 or 1") }
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let x = inputs[0], r = factor
        guard x.dims == 3, x.channels % (r * r) == 0 else {
            throw InferenceError.shapeMismatch(layer: name, reason: "channels of \(x.shapeDescription) not divisible by \(r * r)")
        }
        let out = Tensor(dims: 3, channels: x.channels / (r * r), height: x.height * r, width: x.width * r, zeroed: false)
        if mode == 0 {  // output channel q reads input channels q·r²…: split output channels across threads
            context.parallelRanges(out.channels) { range in
                lk_pixel_shuffle(x.storage + range.lowerBound * r * r * x.planeSize, Int32(range.count * r * r), Int32(x.height), Int32(x.width),
                                 Int32(r), 0, out.storage + range.lowerBound * out.planeSize)
            }
        } else {
            lk_pixel_shuffle(x.storage, Int32(x.channels), Int32(x.height), Int32(x.width), Int32(r), Int32(mode), out.storage)
        }
        return [out]
    }
}
