/// Slice on the GPU: each output is the part `SliceLayer.parts` gives along the axis, copied by `copy_region.comp`.
final class GPUSlice: GPULayer {
    let cpu: SliceLayer
    init(_ cpu: SliceLayer) { self.cpu = cpu }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        let (axis3, parts) = try cpu.parts(dims: x.dims, channels: x.channels, height: x.height, width: x.width, shape: x.shapeDescription)
        return try parts.map { offset, length in
            var c = x.channels, h = x.height, w = x.width, from = (c: 0, h: 0, w: 0)
            switch axis3 {
            case 0: c = length; from.c = offset
            case 1: h = length; from.h = offset
            default: w = length; from.w = offset
            }
            let out = try encoder.output(dims: x.dims, channels: c, height: h, width: w)
            try RegionCopy(channels: c, height: h, width: w, from: from, to: (0, 0, 0)).encode(x, into: out, encoder)
            return out
        }
    }
}
