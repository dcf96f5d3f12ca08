/// ncnn Concat along an axis (0=axis; for 3-D blobs 0 channels, 1 height, 2 width; negative
/// counts from the end).
final class ConcatLayer: Layer {
    let name: String
    let axis: Int

    init(_ d: LayerDefinition) throws {
        try d.expectBlobs(bottoms: nil, tops: 1)
        guard !d.bottoms.isEmpty else { throw d.invalid("Concat needs inputs") }
        name = d.name
        axis = d.params.int(0, default: 0)
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let first = inputs[0]
        let dims = first.dims
        let axis3 = try axis3(ranks: inputs.map(\.dims))
        // Work in (outer, axis, inner) form: 3-D axis 0 → (1, c, h·w), 1 → (c, h, w), 2 → (c·h, w, 1).
        func split(_ t: Tensor) -> (outer: Int, len: Int, inner: Int) {
            switch axis3 {
            case 0: return (1, t.channels, t.height * t.width)
            case 1: return (t.channels, t.height, t.width)
            default: return (t.channels * t.height, t.width, 1)
            }
        }
        let s0 = split(first)
        var total = 0
        for t in inputs {
            let s = split(t)
            guard s.outer == s0.outer, s.inner == s0.inner else {
                throw InferenceError.shapeMismatch(layer: name, reason: "cannot concatenate \(first.shapeDescription) and \(t.shapeDescription) on axis \(axis)")
            }
            total += s.len
        }
        let out: Tensor
        switch axis3 {
        case 0: out = Tensor(dims: dims, channels: total, height: first.height, width: first.width, zeroed: false)
        case 1: out = Tensor(dims: dims, channels: first.channels, height: total, width: first.width, zeroed: false)
        default: out = Tensor(dims: dims, channels: first.channels, height: first.height, width: total, zeroed: false)
        }
        if context.threads <= 1 {
            var offset = 0
            for t in inputs {
                let s = split(t)
                let chunk = s.len * s.inner
                for o in 0..<s.outer {
                    (out.storage + o * total * s.inner + offset * s.inner).update(from: t.storage + o * chunk, count: chunk)
                }
                offset += s.len
            }
            return [out]
        }
        // With threads: the copies cut into pieces of at most 256 Ki values that the threads take in
        // turn (a channel concatenation is a few multi-megabyte plane copies).
        var pieces: [(dst: UnsafeMutablePointer<Float>, src: UnsafeMutablePointer<Float>, count: Int)] = []
        let pieceValues = 1 << 18
        var offset = 0
        for t in inputs {
            let s = split(t)
            let chunk = s.len * s.inner
            for o in 0..<s.outer {
                let dst = out.storage + o * total * s.inner + offset * s.inner, src = t.storage + o * chunk
                var start = 0
                while start < chunk {
                    let n = min(pieceValues, chunk - start)
                    pieces.append((dst + start, src + start, n))
                    start += n
                }
            }
            offset += s.len
        }
        context.parallelChunks(pieces.count, grain: max(1, pieces.count / (8 * context.threads))) { _, range in
            for i in range { pieces[i].dst.update(from: pieces[i].src, count: pieces[i].count) }
        }
        return [out]
    }

    /// The axis in 3-D terms (0 channels, 1 rows, 2 columns) for inputs of these ranks, which must agree (shared with
    /// the GPU backend's GPUConcat).
    func axis3(ranks: [Int]) throws -> Int {
        let dims = ranks[0]
        let ax = axis < 0 ? axis + dims : axis
        guard ax >= 0, ax < dims, ranks.allSatisfy({ $0 == dims }) else {
            throw InferenceError.shapeMismatch(layer: name, reason: "axis \(axis) invalid for inputs of rank \(ranks.map(String.init).joined(separator: ", "))")
        }
        return ax + (3 - dims)
    }
}
