import CLumiereKernels

/// RIFE's custom `rife.Warp`: inputs an image (C × H × W) and a flow (2 × H × W; channel 0 = dx,
/// channel 1 = dy); output C × H × W where each pixel samples the image bilinearly at
/// (x + dx, y + dy), clamping all four taps to the image (as rife-ncnn-vulkan's GPU shader does;
/// its CPU version clamps only two taps, which differs at the borders).
public final class RIFEWarpLayer: Layer {
    public init() {}

    init(_ d: LayerDefinition) throws { try d.expectBlobs(bottoms: 2, tops: 1) }

    public func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        guard inputs.count == 2 else {
            throw InferenceError.invalidInput("rife.Warp takes 2 inputs (image, flow), got \(inputs.count)")
        }
        let image = inputs[0].planar(), flow = inputs[1].planar()
        try Self.validate(image: image, flow: flow)
        let out = Tensor(dims: 3, channels: image.channels, height: image.height, width: image.width, zeroed: false)
        let h = image.height, isa = context.isa
        // Rows are independent: split them over the threads.
        context.parallelRanges(h) { rows in
            Self.warpRows(image: image, flow: flow, out: out, rows: rows, isa: isa)
        }
        return [out]
    }

    static func validate(image: Tensor, flow: Tensor) throws {
        try validate(image: (image.height, image.width, image.shapeDescription), flow: (flow.channels, flow.height, flow.width, flow.shapeDescription))
    }

    /// The same from shapes alone (shared with the GPU backend's GPURIFEWarp).
    static func validate(image: (height: Int, width: Int, shape: String), flow: (channels: Int, height: Int, width: Int, shape: String)) throws {
        guard flow.channels == 2, flow.height == image.height, flow.width == image.width else {
            throw InferenceError.invalidInput("rife.Warp needs a flow of 2x\(image.height)x\(image.width) for image \(image.shape), got \(flow.shape)")
        }
        guard image.width > 0, image.height > 0 else {
            throw InferenceError.invalidInput("rife.Warp got an empty image \(image.shape)")
        }
    }

    /// The fast path (C, 16 pixels at a time with AVX-512 gathers where available): the same
    /// per-pixel arithmetic as `reference`, with source coordinates clamped to [-1, size] (beyond
    /// that every tap clamps to the same edge pixel anyway; it keeps the int conversion safe for
    /// huge flow) and NaN flow read as no motion.
    static func warpRows(image: Tensor, flow: Tensor, out: Tensor, rows: Range<Int>, isa: Int32) {
        lk_rife_warp_rows(image.storage, Int32(image.channels), Int32(image.height), Int32(image.width), flow.storage, out.storage,
                          Int32(rows.lowerBound), Int32(rows.upperBound), isa)
    }

    /// The readable definition (single thread, subscripts), for tests and as documentation:
    /// interpolate along x on the two clamped rows, then along y.
    public static func reference(image: Tensor, flow: Tensor) throws -> Tensor {
        try validate(image: image, flow: flow)
        let w = image.width, h = image.height
        let out = Tensor(channels: image.channels, height: h, width: w)
        for y in 0..<h {
            for x in 0..<w {
                let sx = Float(x) + flow[0, y, x], sy = Float(y) + flow[1, y, x]
                let fx = sx.rounded(.down), fy = sy.rounded(.down)
                let a = sx - fx, b = sy - fy
                func clampX(_ v: Float) -> Int { Int(Swift.min(Swift.max(v, 0), Float(w - 1))) }
                func clampY(_ v: Float) -> Int { Int(Swift.min(Swift.max(v, 0), Float(h - 1))) }
                let x0 = clampX(fx), x1 = clampX(fx + 1), y0 = clampY(fy), y1 = clampY(fy + 1)
                for c in 0..<image.channels {
                    let top = image[c, y0, x0] * (1 - a) + image[c, y0, x1] * a
                    let bottom = image[c, y1, x0] * (1 - a) + image[c, y1, x1] * a
                    out[c, y, x] = top * (1 - b) + bottom * b
                }
            }
        }
        return out
    }
}

extension LayerRegistry {
    /// Adds `rife.Warp` (needed by the RIFE frame-interpolation graphs).
    public mutating func registerRIFEWarp() {
        register("rife.Warp") { d, _ in try RIFEWarpLayer(d) }
    }

    /// The standard layers plus `rife.Warp`.
    public static var withRIFE: LayerRegistry {
        var r = LayerRegistry.standard
        r.registerRIFEWarp()
        return r
    }
}
