import CLumiereKernels

/// ncnn PReLU: x < 0 → x·slope, one slope per channel (3-D), per row (2-D) or per value (1-D),
/// or one slope for all when num_slope = 1.
final class PReLULayer: Layer, FusableActivation {
    let name: String
    let slopes: [Float]
    var isFused = false

    init(_ d: LayerDefinition, weights reader: WeightReader) throws {
        try d.expectBlobs(bottoms: 1, tops: 1)
        name = d.name
        let n = d.params.int(0, default: 0)
        guard (1...65536).contains(n) else { throw d.invalid("num_slope \(n) must be in 1...65536") }
        slopes = try reader.readRaw(count: n)
    }

    var fusedActivation: Activation { Activation(code: Int32(LK_ACT_PRELU), params: slopes) }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let x = inputs[0]
        if isFused { return [x] }
        let groups = x.dims == 3 ? x.channels : (x.dims == 2 ? x.height : x.width)
        guard slopes.count == 1 || slopes.count == groups else {
            throw InferenceError.shapeMismatch(layer: name, reason: "\(slopes.count) slopes for input \(x.shapeDescription)")
        }
        let out = x.reshaped(dims: x.dims, channels: x.channels, height: x.height, width: x.width)
        slopes.withUnsafeBufferPointer { s in
            lk_activate(out.storage, Int32(groups), out.count / max(groups, 1), Int32(LK_ACT_PRELU), s.baseAddress, Int32(s.count))
        }
        return [out]
    }
}
