import CLumiereKernels

/// ncnn Eltwise over blobs of one shape: 0 product, 1 sum (with optional coefficients, array 1),
/// 2 max.
final class EltwiseLayer: Layer {
    let name: String
    let op: Int
    let coefficients: [Float]

    init(_ d: LayerDefinition) throws {
        try d.expectBlobs(bottoms: nil, tops: 1)
        name = d.name
        op = d.params.int(0, default: 0)
        coefficients = d.params.floats(1)
        guard (0...2).contains(op) else { throw d.invalid("op_type \(op) must be 0 (prod), 1 (sum) or 2 (max)") }
        guard d.bottoms.count >= 2 else { throw d.invalid("Eltwise needs at least 2 inputs") }
        guard coefficients.isEmpty || coefficients.count == d.bottoms.count else {
            throw d.invalid("\(coefficients.count) coefficients for \(d.bottoms.count) inputs")
        }
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let a = inputs[0]
        for b in inputs.dropFirst() where b.count != a.count || b.width != a.width || b.height != a.height {
            throw InferenceError.shapeMismatch(layer: name, reason: "inputs \(a.shapeDescription) and \(b.shapeDescription) differ")
        }
        let out = Tensor(dims: a.dims, channels: a.channels, height: a.height, width: a.width, zeroed: false)
        let n = a.count
        let o = out.storage
        if op == 1 && !coefficients.isEmpty {
            lk_binary_scalar(a.storage, n, coefficients[0], o, 2)
            for (i, b) in inputs.enumerated().dropFirst() {
                let c = coefficients[i], p = b.storage
                for j in 0..<n { o[j] += p[j] * c }
            }
        } else {
            o.update(from: a.storage, count: n)
            let code: Int32 = op == 0 ? 2 : (op == 1 ? 0 : 4)
            for b in inputs.dropFirst() { lk_binary_scalar_inplace(o, b.storage, n, code) }
        }
        return [out]
    }
}

/// o[i] = o[i] (op) b[i] for same-shape blobs.
func lk_binary_scalar_inplace(_ o: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, _ op: Int32) {
    lk_binary_broadcast(o, 1, 1, Int32(n), b, 1, 1, Int32(n), o, 1, 1, Int32(n), op)
}
