/// Concat on the GPU: each input copied into its place along the axis of one output (`copy_region.comp`).
final class GPUConcat: GPULayer {
    let cpu: ConcatLayer
    init(_ cpu: ConcatLayer) { self.cpu = cpu }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let first = inputs[0]
        let axis3 = try cpu.axis3(ranks: inputs.map(\.dims))
        // The extents off the axis must agree; the axis' extents add up.
        func along(_ t: GPUTensor) -> Int { axis3 == 0 ? t.channels : (axis3 == 1 ? t.height : t.width) }
        for t in inputs where (axis3 != 0 && t.channels != first.channels) || (axis3 != 1 && t.height != first.height)
            || (axis3 != 2 && t.width != first.width) {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "cannot concatenate \(first.shapeDescription) and \(t.shapeDescription) on axis \(cpu.axis)")
        }
        let total = inputs.reduce(0) { $0 + along($1) }
        let out = try encoder.output(dims: first.dims, channels: axis3 == 0 ? total : first.channels,
                                     height: axis3 == 1 ? total : first.height, width: axis3 == 2 ? total : first.width)
        var offset = 0
        for t in inputs {
            let to = (c: axis3 == 0 ? offset : 0, h: axis3 == 1 ? offset : 0, w: axis3 == 2 ? offset : 0)
            try RegionCopy(channels: t.channels, height: t.height, width: t.width, from: (0, 0, 0), to: to).encode(t, into: out, encoder)
            offset += along(t)
        }
        return [out]
    }
}
