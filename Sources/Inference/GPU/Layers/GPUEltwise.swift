/// Eltwise on the GPU (`eltwise.comp`): product, sum with coefficients, max, over two or more same-shape blobs,
/// chained pairwise in the CPU layer's order (the first with its coefficient, then each next one added in).
final class GPUEltwise: GPULayer {
    let cpu: EltwiseLayer
    init(_ cpu: EltwiseLayer) { self.cpu = cpu }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let a = inputs[0]
        for b in inputs.dropFirst() where b.count != a.count || b.width != a.width || b.height != a.height {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "inputs \(a.shapeDescription) and \(b.shapeDescription) differ")
        }
        let weighted = cpu.op == 1 && !cpu.coefficients.isEmpty
        var sum = a
        for (i, b) in inputs.enumerated().dropFirst() {
            let out = try encoder.output(dims: a.dims, channels: a.channels, height: a.height, width: a.width)
            var p = PushConstants(ints: [a.channels, a.height, a.width, cpu.op])
            p.float(weighted && i == 1 ? cpu.coefficients[0] : 1)
            p.float(weighted ? cpu.coefficients[i] : 1)
            try encoder.dispatch("eltwise", [sum.buffer, b.buffer, out.buffer], push: p, width: a.width, height: a.height, channels: a.channels)
            // A partial result (never an input: those belong to the graph) goes back once the next step has read it.
            if i > 1 { encoder.pool.give(sum.buffer) }
            sum = out
        }
        return [sum]
    }
}
