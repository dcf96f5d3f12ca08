/// ncnn Crop, in its three forms: numpy-style slices (arrays 9=starts, 10=ends, 11=axes; -233 means
/// "to the edge", negative counts from the end, end 0 means the full extent, as ncnn does), fixed
/// offsets + sizes (0/1/2 offsets, 3/4/5 sizes, 6/7/8 offsets from the far side; -233 = rest), and
/// the two-input form that crops to the second blob's size.
final class CropLayer: Layer {
    let name: String
    let woffset: Int, hoffset: Int, coffset: Int, outw: Int, outh: Int, outc: Int
    let woffset2: Int, hoffset2: Int, coffset2: Int
    let starts: [Int], ends: [Int], axes: [Int]
    let usesReference: Bool

    init(_ d: LayerDefinition) throws {
        let p = d.params
        name = d.name
        woffset = p.int(0, default: 0); hoffset = p.int(1, default: 0); coffset = p.int(2, default: 0)
        outw = p.int(3, default: 0); outh = p.int(4, default: 0); outc = p.int(5, default: 0)
        woffset2 = p.int(6, default: 0); hoffset2 = p.int(7, default: 0); coffset2 = p.int(8, default: 0)
        starts = p.ints(9); ends = p.ints(10); axes = p.ints(11)
        guard p.int(13, default: 0) == 0, p.int(14, default: 0) == 0, p.int(15, default: 0) == 0 else { throw d.invalid("4-D crop is not supported") }
        guard starts.count == ends.count, axes.isEmpty || axes.count == starts.count, starts.count <= 3 else {
            throw d.invalid("starts/ends/axes arrays must have equal lengths (at most 3)")
        }
        let numpy = !starts.isEmpty
        usesReference = !numpy && [outw, outh, outc, woffset2, hoffset2, coffset2].allSatisfy { $0 == 0 }
        try d.expectBlobs(bottoms: usesReference ? 2 : 1, tops: 1)
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let x = inputs[0]
        let w = x.width, h = x.height, c = x.channels
        let r = inputs.count > 1 ? inputs[1] : nil
        let (co, ho, wo, oc, oh, ow) = try region(dims: x.dims, channels: c, height: h, width: w,
                                                  reference: r.map { ($0.dims, $0.channels, $0.height, $0.width) }, shape: x.shapeDescription)
        if ow == w && oh == h && oc == c { return [x] }
        let out = Tensor(dims: x.dims, channels: oc, height: oh, width: ow, zeroed: false)
        for q in 0..<oc {
            for y in 0..<oh {
                (out.storage + (q * oh + y) * ow).update(from: x.storage + ((co + q) * h + ho + y) * w + wo, count: ow)
            }
        }
        return [out]
    }

    /// The kept region (channel, row, column offsets and sizes) of a `dims`-D input of c × h × w, cropped to the
    /// reference blob's size in the two-input form (shared with the GPU backend's GPUCrop).
    func region(dims: Int, channels c: Int, height h: Int, width w: Int, reference: (dims: Int, channels: Int, height: Int, width: Int)?,
                shape: String) throws -> (co: Int, ho: Int, wo: Int, oc: Int, oh: Int, ow: Int) {
        var wo = 0, ho = 0, co = 0, ow = w, oh = h, oc = c
        if !starts.isEmpty {
            let axisList = axes.isEmpty ? Array(0..<dims) : axes.map { $0 < 0 ? $0 + dims : $0 }
            for (i, axis) in axisList.enumerated() where i < starts.count {
                guard axis >= 0, axis < dims else { throw InferenceError.shapeMismatch(layer: name, reason: "axis \(axes[i]) invalid for \(shape)") }
                let axis3 = axis + (3 - dims)
                let extent = axis3 == 0 ? c : (axis3 == 1 ? h : w)
                var start = starts[i], end = ends[i]
                if start == -233 { start = 0 }
                if end == -233 { end = extent }
                let offset = start >= 0 ? start : extent + start
                let size = min(extent, end > 0 ? end : extent + end) - offset
                switch axis3 {
                case 0: co = offset; oc = size
                case 1: ho = offset; oh = size
                default: wo = offset; ow = size
                }
            }
        } else if usesReference {
            guard let r = reference else { throw InferenceError.shapeMismatch(layer: name, reason: "the reference blob is missing") }
            wo = woffset; ho = hoffset; ow = r.width; oh = r.height
            if dims == 3 { co = coffset; oc = r.dims == 3 ? r.channels : c }
        } else {
            wo = woffset; ho = dims >= 2 ? hoffset : 0; co = dims == 3 ? coffset : 0
            ow = w - woffset - woffset2
            if outw != -233 { ow = min(outw, ow) }
            if dims >= 2 { oh = h - hoffset - hoffset2; if outh != -233 { oh = min(outh, oh) } }
            if dims == 3 { oc = c - coffset - coffset2; if outc != -233 { oc = min(outc, oc) } }
        }
        guard wo >= 0, ho >= 0, co >= 0, ow > 0, oh > 0, oc > 0, wo + ow <= w, ho + oh <= h, co + oc <= c else {
            throw InferenceError.shapeMismatch(layer: name, reason: "crop region (c \(co)+\(oc), h \(ho)+\(oh), w \(wo)+\(ow)) lies outside \(shape)")
        }
        return (co, ho, wo, oc, oh, ow)
    }
}
