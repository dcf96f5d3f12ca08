/// ncnn Slice: splits one blob along 1=axis into parts given by array 0=slices (-233 = an even
/// share of the rest) or array 2=indices (split points).
final class SliceLayer: Layer {
    let name: String
    let slices: [Int], indices: [Int]
    let axis: Int
    let outputCount: Int

    init(_ d: LayerDefinition) throws {
        try d.expectBlobs(bottoms: 1, tops: nil)
        name = d.name
        slices = d.params.ints(0)
        indices = d.params.ints(2)
        axis = d.params.int(1, default: 0)
        outputCount = d.tops.count
        guard !d.tops.isEmpty else { throw d.invalid("Slice needs outputs") }
        if indices.isEmpty {
            guard slices.count == d.tops.count else { throw d.invalid("\(slices.count) slices for \(d.tops.count) outputs") }
        } else {
            guard indices.count >= d.tops.count - 1 else { throw d.invalid("\(indices.count) indices for \(d.tops.count) outputs") }
        }
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let x = inputs[0]
        let dims = x.dims
        let (axis3, parts) = try parts(dims: dims, channels: x.channels, height: x.height, width: x.width, shape: x.shapeDescription)
        let extent = axis3 == 0 ? x.channels : (axis3 == 1 ? x.height : x.width)
        let outer = axis3 == 0 ? 1 : (axis3 == 1 ? x.channels : x.channels * x.height)
        let inner = axis3 == 0 ? x.height * x.width : (axis3 == 1 ? x.width : 1)
        var outs: [Tensor] = []
        for (q, len) in parts {
            let out: Tensor
            switch axis3 {
            case 0: out = Tensor(dims: dims, channels: len, height: x.height, width: x.width, zeroed: false)
            case 1: out = Tensor(dims: dims, channels: x.channels, height: len, width: x.width, zeroed: false)
            default: out = Tensor(dims: dims, channels: x.channels, height: x.height, width: len, zeroed: false)
            }
            for o in 0..<outer {
                (out.storage + o * len * inner).update(from: x.storage + (o * extent + q) * inner, count: len * inner)
            }
            outs.append(out)
        }
        return outs
    }

    /// The axis in 3-D terms (0 channels, 1 rows, 2 columns) and each output's (offset, length) along it, for a
    /// `dims`-D input of c × h × w (shared with the GPU backend's GPUSlice).
    func parts(dims: Int, channels: Int, height: Int, width: Int, shape: String) throws -> (axis3: Int, parts: [(offset: Int, length: Int)]) {
        let ax = axis < 0 ? axis + dims : axis
        guard ax >= 0, ax < dims else { throw InferenceError.shapeMismatch(layer: name, reason: "axis \(axis) invalid for \(shape)") }
        let axis3 = ax + (3 - dims)
        let extent = axis3 == 0 ? channels : (axis3 == 1 ? height : width)
        var parts: [(offset: Int, length: Int)] = []
        var q = 0
        let total = outputCount
        for i in 0..<total {
            var len: Int
            if !indices.isEmpty {
                if i == total - 1 { len = extent - q } else {
                    let idx = indices[i] < 0 ? extent + indices[i] : indices[i]
                    len = idx - q
                }
            } else {
                len = slices[i]
                if len == -233 { len = (extent - q) / (total - i) }
            }
            guard len > 0, q + len <= extent else {
                throw InferenceError.shapeMismatch(layer: name, reason: "slice \(i) (length \(len) at \(q)) does not fit \(shape) on axis \(axis)")
            }
            parts.append((q, len))
            q += len
        }
        return (axis3, parts)
    }
}
