import Foundation

/// Three layers run as one dispatch (`scale_residual.comp`): a BinaryOp mul of two blobs, the BinaryOp add of its
/// product and another blob (the residual), and optionally the ReLU after it — RIFE's convblock tail
/// `leakyrelu(conv(x) · beta + x)`, 40 times in v4.25 (8 per block), which the graph spells as three layers. At
/// RIFE's lavapipe sizes (convblocks at 1×1 … 16×16 pixels for a 64x48 pair) a dispatch costs ~0.2 ms of device time
/// whatever its size: the 98 BinaryOps and 41 ReLUs took 26 ms of a 265 ms profile, 13 ms after fusing, and a
/// whole run 0.128 → 0.121 process CPU seconds (GPUBenchmarkTests.testRIFEFastPaths; docs/engine.md). Found once
/// per net (`chains`); `GPUNet` runs a chain in place of its mul where the run allows (`encode` returns nil otherwise:
/// an intermediate blob asked for as an output, the residual not yet computed, shapes that broadcast the residual),
/// and the unfused layers run as before. LUMIERE_GPU_FUSE=off (read at load) never fuses,
/// for measuring. fp32 results are the unfused ones bit for bit (the shader keeps both roundings).
final class GPUScaleResidual {
    let mul: Int, add: Int, relu: Int?
    let mulLayer: BinaryOpLayer
    /// The blobs the chain reads (the mul's two, then the residual) and the intermediate blobs it never makes.
    let bottoms: [String], intermediates: [String]
    /// The blob it produces (the ReLU's top, or the add's).
    let top: String
    let activation: Activation
    let activationParams: VulkanBuffer

    init(mul: Int, add: Int, relu: Int?, mulLayer: BinaryOpLayer, bottoms: [String], intermediates: [String], top: String,
         activation: Activation, uploads: GPUUploadBatch) throws {
        self.mul = mul; self.add = add; self.relu = relu; self.mulLayer = mulLayer
        self.bottoms = bottoms; self.intermediates = intermediates; self.top = top; self.activation = activation
        activationParams = try uploads.add(activation.params)
    }

    /// The layers this chain absorbs after its mul.
    var absorbed: [Int] { [add] + (relu.map { [$0] } ?? []) }

    /// Every chain in `net`, by the index of its mul: a two-blob BinaryOp mul whose only reader is a two-blob BinaryOp
    /// add, and the add's only reader a ReLU (taken into the chain when there is one).
    static func chains(_ net: Net, uploads: GPUUploadBatch) throws -> [Int: GPUScaleResidual] {
        if getenv("LUMIERE_GPU_FUSE").map({ String(cString: $0) }) == "off" { return [:] }
        let defs = net.definitions
        var readers: [String: [Int]] = [:]
        for (i, d) in defs.enumerated() { for b in d.bottoms { readers[b, default: []].append(i) } }
        func onlyReader(_ blob: String) -> Int? { readers[blob].flatMap { $0.count == 1 ? $0[0] : nil } }
        var found: [Int: GPUScaleResidual] = [:]
        for (i, d) in defs.enumerated() {
            guard d.type == "BinaryOp", let mul = net.layers[i] as? BinaryOpLayer, mul.op == 2, mul.scalar == nil, d.tops.count == 1,
                  let ai = onlyReader(d.tops[0]), defs[ai].type == "BinaryOp", let add = net.layers[ai] as? BinaryOpLayer,
                  add.op == 0, add.scalar == nil, defs[ai].tops.count == 1 else { continue }
            let others = defs[ai].bottoms.filter { $0 != d.tops[0] }
            guard others.count == 1 else { continue }   // x · m + x · m is not this chain
            var top = defs[ai].tops[0], intermediates = [d.tops[0]], relu: Int? = nil, activation = Activation.none
            if let ri = onlyReader(top), defs[ri].type == "ReLU", let r = net.layers[ri] as? ReLULayer, !r.isFused, defs[ri].tops.count == 1 {
                relu = ri
                activation = r.fusedActivation
                intermediates.append(top)
                top = defs[ri].tops[0]
            }
            found[i] = try GPUScaleResidual(mul: i, add: ai, relu: relu, mulLayer: mul, bottoms: d.bottoms + others,
                                            intermediates: intermediates, top: top, activation: activation, uploads: uploads)
        }
        return found
    }

    var profileKind: String { relu == nil ? "scale_residual (mul+add)" : "scale_residual (mul+add+ReLU)" }

    /// Records the chain on `blobs` (the run's live blobs), or returns nil where this run cannot fuse it.
    func encode(_ blobs: [String: GPUTensor], outputs: [String], _ encoder: GPUEncoder) throws -> GPUTensor? {
        guard !intermediates.contains(where: outputs.contains), let a = blobs[bottoms[0]], let b = blobs[bottoms[1]],
              let r = blobs[bottoms[2]] else { return nil }
        // The add must not broadcast: the residual has the product's shape exactly (else the layers run unfused).
        guard let shape = GPUBroadcast(a, b), r.dims == shape.dims, r.channels == shape.c, r.height == shape.h,
              r.width == shape.w else { return nil }
        let (outDims, sa, sb, oc, oh, ow) = (shape.dims, shape.a, shape.b, shape.c, shape.h, shape.w)
        let out = try encoder.output(dims: outDims, channels: oc, height: oh, width: ow)
        let p = PushConstants(ints: [sa.c, sa.h, sa.w, sb.c, sb.h, sb.w, oc, oh, ow, Int(activation.code), activation.params.count])
        try encoder.dispatch("scale_residual", [a.buffer, b.buffer, r.buffer, out.buffer, activationParams], push: p, width: ow, height: oh, channels: oc)
        return out
    }
}
