import CLumiereKernels
import Foundation

/// ncnn Interp: nearest (1), bilinear (2) or bicubic (3) resize of 3-D blobs, by scale
/// (1=height_scale 2=width_scale) or size (3=output_height 4=output_width), 6=align_corner.
/// Coordinates follow ncnn exactly: nearest samples ⌊x·ws⌋ with ws = 1/scale (or w/outw when a size
/// is given); bilinear/bicubic use half-pixel centres with ncnn's edge clamping.
final class InterpLayer: Layer {
    let name: String
    let resizeType: Int
    let heightScale: Float, widthScale: Float
    let outputHeight: Int, outputWidth: Int
    let alignCorner: Bool

    init(_ d: LayerDefinition) throws {
        try d.expectBlobs(bottoms: 1, tops: 1)
        name = d.name
        let p = d.params
        resizeType = p.int(0, default: 0)
        heightScale = p.float(1, default: 1)
        widthScale = p.float(2, default: 1)
        outputHeight = p.int(3, default: 0)
        outputWidth = p.int(4, default: 0)
        alignCorner = p.int(6, default: 0) != 0
        guard (1...3).contains(resizeType) else { throw d.invalid("resize_type \(resizeType) must be 1 (nearest), 2 (bilinear) or 3 (bicubic)") }
        guard p.int(5, default: 0) == 0 else { throw d.invalid("dynamic target size is not supported") }
        guard heightScale > 0, widthScale > 0, heightScale <= 64, widthScale <= 64, outputHeight >= 0, outputWidth >= 0,
              outputHeight <= 1 << 16, outputWidth <= 1 << 16 else { throw d.invalid("scale or output size out of range") }
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let x = inputs[0]
        guard x.dims == 3 else { throw InferenceError.shapeMismatch(layer: name, reason: "only 3-D blobs are supported, got \(x.shapeDescription)") }
        let w = x.width, h = x.height
        let (outW, outH) = try outputSize(width: w, height: h, shape: x.shapeDescription)
        if outW == w && outH == h { return [x] }
        let out = Tensor(dims: 3, channels: x.channels, height: outH, width: outW, zeroed: false)
        switch resizeType {
        case 1:
            let (hs, ws) = nearestSteps(width: w, height: h, outWidth: outW, outHeight: outH)
            context.parallelRanges(x.channels) { r in
                lk_resize_nearest(x.storage + r.lowerBound * x.planeSize, Int32(r.count), Int32(h), Int32(w),
                                  out.storage + r.lowerBound * out.planeSize, Int32(outH), Int32(outW), hs, ws)
            }
        case 2:
            guard w >= 2, h >= 2 else { throw InferenceError.shapeMismatch(layer: name, reason: "bilinear needs at least 2x2 input") }
            let (xofs, alpha) = InterpLayer.linearCoefficients(w, outW, alignCorner)
            let (yofs, beta) = InterpLayer.linearCoefficients(h, outH, alignCorner)
            resize(x, out, taps: 2, xofs, alpha, yofs, beta, context)
        default:
            guard w >= 4, h >= 4 else { throw InferenceError.shapeMismatch(layer: name, reason: "bicubic needs at least 4x4 input") }
            let (xofs, alpha) = InterpLayer.cubicCoefficients(w, outW, alignCorner)
            let (yofs, beta) = InterpLayer.cubicCoefficients(h, outH, alignCorner)
            resize(x, out, taps: 4, xofs, alpha, yofs, beta, context)
        }
        return [out]
    }

    /// The output size for a `width` × `height` input (shared with the GPU backend's GPUInterp).
    func outputSize(width w: Int, height h: Int, shape: String) throws -> (width: Int, height: Int) {
        var outW = outputWidth, outH = outputHeight
        if !(outW != 0 && outH != 0) {
            outW = Int(Float(w) * widthScale)
            outH = Int(Float(h) * heightScale)
        }
        guard outW > 0, outH > 0, outW <= 1 << 16, outH <= 1 << 16 else {
            throw InferenceError.shapeMismatch(layer: name, reason: "output size \(outW)x\(outH) for \(shape) out of range")
        }
        return (outW, outH)
    }

    /// The nearest-neighbour step in the source per output pixel (ncnn: 1/scale, or in/out when a size is given).
    func nearestSteps(width w: Int, height h: Int, outWidth outW: Int, outHeight outH: Int) -> (hs: Float, ws: Float) {
        (outputHeight != 0 ? Float(h) / Float(outH) : 1 / heightScale, outputWidth != 0 ? Float(w) / Float(outW) : 1 / widthScale)
    }

    private func resize(_ x: Tensor, _ out: Tensor, taps: Int32, _ xofs: [Int32], _ alpha: [Float], _ yofs: [Int32], _ beta: [Float],
                        _ context: ExecutionContext) {
        context.parallelRanges(x.channels) { r in
            let input = x.storage + r.lowerBound * x.planeSize, output = out.storage + r.lowerBound * out.planeSize
            // The row-caching kernel; the plain one (stack rows) only if its row buffer cannot be allocated.
            if lk_resize_separable_cached(input, Int32(r.count), Int32(x.height), Int32(x.width), output, Int32(out.height), Int32(out.width),
                                          taps, xofs, alpha, yofs, beta) != 0 {
                lk_resize_separable(input, Int32(r.count), Int32(x.height), Int32(x.width), output, Int32(out.height), Int32(out.width),
                                    taps, xofs, alpha, yofs, beta)
            }
        }
    }

    /// ncnn's linear_coeffs.
    static func linearCoefficients(_ w: Int, _ outW: Int, _ alignCorner: Bool) -> ([Int32], [Float]) {
        var scale = Double(w) / Double(outW)
        if alignCorner { scale = Double(w - 1) / Double(outW - 1) }
        var ofs = [Int32](repeating: 0, count: outW), alpha = [Float](repeating: 0, count: outW * 2)
        for dx in 0..<outW {
            var fx = alignCorner ? Float(Double(dx) * scale) : Float((Double(dx) + 0.5) * scale - 0.5)
            var sx = Int(Foundation.floor(fx))
            fx -= Float(sx)
            if sx < 0 { sx = 0; fx = 0 }
            if sx >= w - 1 { sx = w - 2; fx = 1 }
            ofs[dx] = Int32(sx)
            alpha[dx * 2] = 1 - fx
            alpha[dx * 2 + 1] = fx
        }
        return (ofs, alpha)
    }

    /// ncnn's cubic_coeffs (A = -0.75) with its edge folding.
    static func cubicCoefficients(_ w: Int, _ outW: Int, _ alignCorner: Bool) -> ([Int32], [Float]) {
        var scale = Double(w) / Double(outW)
        if alignCorner { scale = Double(w - 1) / Double(outW - 1) }
        var ofs = [Int32](repeating: 0, count: outW), alpha = [Float](repeating: 0, count: outW * 4)
        let a: Float = -0.75
        for dx in 0..<outW {
            var fx = alignCorner ? Float(Double(dx) * scale) : Float((Double(dx) + 0.5) * scale - 0.5)
            var sx = Int(Foundation.floor(fx))
            fx -= Float(sx)
            let fx0 = fx + 1, fx1 = fx, fx2 = 1 - fx
            var c0 = a * fx0 * fx0 * fx0 - 5 * a * fx0 * fx0 + 8 * a * fx0 - 4 * a
            var c1 = (a + 2) * fx1 * fx1 * fx1 - (a + 3) * fx1 * fx1 + 1
            var c2 = (a + 2) * fx2 * fx2 * fx2 - (a + 3) * fx2 * fx2 + 1
            var c3 = 1 - c0 - c1 - c2
            if sx <= -1 { sx = 1; c0 = 1 - c3; c1 = c3; c2 = 0; c3 = 0 }
            if sx == 0 { sx = 1; c0 = c0 + c1; c1 = c2; c2 = c3; c3 = 0 }
            if sx == w - 2 { sx = w - 3; c3 = c2 + c3; c2 = c1; c1 = c0; c0 = 0 }
            if sx >= w - 1 { sx = w - 3; c3 = 1 - c0; c2 = c0; c1 = 0; c0 = 0 }
            ofs[dx] = Int32(sx)
            alpha[dx * 4] = c0; alpha[dx * 4 + 1] = c1; alpha[dx * 4 + 2] = c2; alpha[dx * 4 + 3] = c3
        }
        return (ofs, alpha)
    }
}
