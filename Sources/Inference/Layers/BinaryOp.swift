import CLumiereKernels

/// ncnn BinaryOp: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, 6 pow, 7 rsub, 8 rdiv, 9 rpow.
/// With 1=with_scalar the second operand is 2=b; otherwise two blobs broadcast like ncnn:
/// lower-rank operands are expanded first (a 1-D blob matching the other's channels becomes
/// per-channel), then each of c/h/w must be equal or 1.
final class BinaryOpLayer: Layer {
    let name: String
    let op: Int
    let scalar: Float?

    init(_ d: LayerDefinition) throws {
        name = d.name
        op = d.params.int(0, default: 0)
        guard (0...9).contains(op) else { throw d.invalid("op_type \(op) is not supported (0...9)") }
        if d.params.int(1, default: 0) != 0 {
            try d.expectBlobs(bottoms: 1, tops: 1)
            scalar = d.params.float(2, default: 0)
        } else {
            try d.expectBlobs(bottoms: 2, tops: 1)
            scalar = nil
        }
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let a = inputs[0]
        if let scalar {
            let out = Tensor(dims: a.dims, channels: a.channels, height: a.height, width: a.width, zeroed: false)
            context.parallelRanges(max(1, a.count / 65536)) { r in  // 64 Ki-value chunks
                let lo = r.lowerBound * 65536, hi = r.upperBound == max(1, a.count / 65536) ? a.count : r.upperBound * 65536
                lk_binary_scalar(a.storage + lo, hi - lo, scalar, out.storage + lo, Int32(op))
            }
            return [out]
        }
        let b = inputs[1]
        let outDims = max(a.dims, b.dims)
        let sa = BinaryOpLayer.expand(a, to: outDims, other: b), sb = BinaryOpLayer.expand(b, to: outDims, other: a)
        func merge(_ x: Int, _ y: Int) -> Int? { x == y ? x : (x == 1 ? y : (y == 1 ? x : nil)) }
        guard let oc = merge(sa.c, sb.c), let oh = merge(sa.h, sb.h), let ow = merge(sa.w, sb.w) else {
            throw InferenceError.shapeMismatch(layer: name, reason: "cannot broadcast \(a.shapeDescription) with \(b.shapeDescription)")
        }
        let out = Tensor(dims: outDims, channels: oc, height: oh, width: ow, zeroed: false)
        context.parallelRanges(oc) { r in  // by output channel; a broadcast operand (c = 1) is shared
            let pa = a.storage + (sa.c == 1 ? 0 : r.lowerBound * sa.h * sa.w), pb = b.storage + (sb.c == 1 ? 0 : r.lowerBound * sb.h * sb.w)
            lk_binary_broadcast(pa, Int32(sa.c == 1 ? 1 : r.count), Int32(sa.h), Int32(sa.w), pb, Int32(sb.c == 1 ? 1 : r.count), Int32(sb.h), Int32(sb.w),
                                out.storage + r.lowerBound * oh * ow, Int32(r.count), Int32(oh), Int32(ow), Int32(op))
        }
        return [out]
    }

    /// ncnn's rank expansion of the lower-rank operand (3-D at most here).
    static func expand(_ t: Tensor, to dims: Int, other: Tensor) -> (c: Int, h: Int, w: Int) {
        expand(dims: t.dims, channels: t.channels, height: t.height, width: t.width, to: dims, otherChannels: other.channels, otherHeight: other.height)
    }

    /// The same from shapes alone (shared with the GPU backend's GPUBinaryOp).
    static func expand(dims tdims: Int, channels: Int, height: Int, width: Int, to dims: Int,
                       otherChannels: Int, otherHeight: Int) -> (c: Int, h: Int, w: Int) {
        if tdims == dims { return (channels, height, width) }
        if dims == 2 { return width == otherHeight ? (1, width, 1) : (1, 1, width) }
        if tdims == 1 { return width == otherChannels ? (width, 1, 1) : (1, 1, width) }
        return (height, width, 1)  // 2-D into 3-D: reshape(1, w, h) → c = h, h = w
    }
}
