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
        guard let shape = GPUBroadcast(a, b) else {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "cannot broadcast \(a.shapeDescription) with \(b.shapeDescription)")
        }
        let (outDims, sa, sb, oc, oh, ow) = (shape.dims, shape.a, shape.b, shape.c, shape.h, shape.w)
        let out = try encoder.output(dims: outDims, channels: oc, height: oh, width: ow)
        var p = PushConstants(ints: [sa.c, sa.h, sa.w, sb.c, sb.h, sb.w, oc, oh, ow, cpu.op, 0])
        p.float(0)
        try encoder.dispatch("binary_op", [a.buffer, b.buffer, out.buffer], push: p, width: ow, height: oh, channels: oc)
        return [out]
    }
}

/// How two operands of an elementwise op broadcast, as the `binary_op` and `scale_residual` shaders read them: each
/// operand's (c, h, w) expanded to the output's rank (ncnn's rules, `BinaryOpLayer.expand`), and the output's shape,
/// where a 1 meets any size. Nil when the shapes cannot broadcast. Shared so the fused RIFE tail and the plain op
/// agree on shapes by construction.
struct GPUBroadcast {
    let dims: Int
    let a: (c: Int, h: Int, w: Int)
    let b: (c: Int, h: Int, w: Int)
    let c: Int, h: Int, w: Int

    init?(_ x: GPUTensor, _ y: GPUTensor) {
        dims = max(x.dims, y.dims)
        a = BinaryOpLayer.expand(dims: x.dims, channels: x.channels, height: x.height, width: x.width, to: dims,
                                 otherChannels: y.channels, otherHeight: y.height)
        b = BinaryOpLayer.expand(dims: y.dims, channels: y.channels, height: y.height, width: y.width, to: dims,
                                 otherChannels: x.channels, otherHeight: x.height)
        func merge(_ p: Int, _ q: Int) -> Int? { p == q ? p : (p == 1 ? q : (q == 1 ? p : nil)) }
        guard let c = merge(a.c, b.c), let h = merge(a.h, b.h), let w = merge(a.w, b.w) else { return nil }
        (self.c, self.h, self.w) = (c, h, w)
    }
}
