/// BinaryOp on the GPU (`binary_op.comp`): every op, the scalar form, and ncnn's broadcasting (BinaryOpLayer.expand
/// decides the operands' c/h/w exactly as on the CPU).
final class GPUBinaryOp: GPULayer {
    let cpu: BinaryOpLayer
    init(_ cpu: BinaryOpLayer) throws { self.cpu = cpu }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let a = inputs[0]
        if let scalar = cpu.scalar {
            let out = try encoder.output(dims: a.dims, channels: a.channels, height: a.height, width: a.width)
            var p = PushConstants(ints: [a.channels, a.height, a.width, 1, 1, 1, a.channels, a.height, a.width, cpu.op, 1])
            p.float(scalar)
            try encoder.dispatch("binary_op", [a.buffer, a.buffer, out.buffer], push: p, width: a.width, height: a.height, channels: a.channels)
            return [out]
        }
        let b = inputs[1]
        let outDims = max(a.dims, b.dims)
        let sa = BinaryOpLayer.expand(dims: a.dims, channels: a.channels, height: a.height, width: a.width, to: outDims,
                                      otherChannels: b.channels, otherHeight: b.height)
        let sb = BinaryOpLayer.expand(dims: b.dims, channels: b.channels, height: b.height, width: b.width, to: outDims,
                                      otherChannels: a.channels, otherHeight: a.height)
        func merge(_ x: Int, _ y: Int) -> Int? { x == y ? x : (x == 1 ? y : (y == 1 ? x : nil)) }
        guard let oc = merge(sa.c, sb.c), let oh = merge(sa.h, sb.h), let ow = merge(sa.w, sb.w) else {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "cannot broadcast \(a.shapeDescription) with \(b.shapeDescription)")
        }
        let out = try encoder.output(dims: outDims, channels: oc, height: oh, width: ow)
        var p = PushConstants(ints: [sa.c, sa.h, sa.w, sb.c, sb.h, sb.w, oc, oh, ow, cpu.op, 0])
        p.float(0)
        try encoder.dispatch("binary_op", [a.buffer, b.buffer, out.buffer], push: p, width: ow, height: oh, channels: oc)
        return [out]
    }
}
