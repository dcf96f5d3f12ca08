/// Interp on the GPU: nearest (`interp_nearest.comp`), bilinear and bicubic (`interp_separable.comp`, with the CPU
/// layer's coefficient tables uploaded in the run: they depend on the input size, a few hundred values per tile).
final class GPUInterp: GPULayer {
    let cpu: InterpLayer
    init(_ cpu: InterpLayer) throws { self.cpu = cpu }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        guard x.dims == 3 else { throw InferenceError.shapeMismatch(layer: cpu.name, reason: "only 3-D blobs are supported, got \(x.shapeDescription)") }
        let w = x.width, h = x.height
        let (outW, outH) = try cpu.outputSize(width: w, height: h, shape: x.shapeDescription)
        if outW == w && outH == h { return [x] }
        let out = try encoder.output(channels: x.channels, height: outH, width: outW)
        if cpu.resizeType == 1 {
            let (hs, ws) = cpu.nearestSteps(width: w, height: h, outWidth: outW, outHeight: outH)
            var p = PushConstants(ints: [x.channels, h, w, outH, outW])
            p.float(hs); p.float(ws)
            try encoder.dispatch("interp_nearest", [x.buffer, out.buffer], push: p, width: outW, height: outH, channels: x.channels)
            return [out]
        }
        let taps = cpu.resizeType == 2 ? 2 : 4
        guard w >= taps, h >= taps else {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "\(taps == 2 ? "bilinear" : "bicubic") needs at least \(taps)x\(taps) input")
        }
        let coefficients = taps == 2 ? InterpLayer.linearCoefficients : InterpLayer.cubicCoefficients
        let (xofs, alpha) = coefficients(w, outW, cpu.alignCorner)
        let (yofs, beta) = coefficients(h, outH, cpu.alignCorner)
        let table = xofs.map { Float($0) } + alpha + yofs.map { Float($0) } + beta
        let tables = try table.withUnsafeBufferPointer { try encoder.upload($0) }
        try encoder.dispatch("interp_separable", [x.buffer, out.buffer, tables], push: PushConstants(ints: [x.channels, h, w, outH, outW, taps]),
                             width: outW, height: outH, channels: x.channels)
        encoder.pool.give(tables)  // read by the dispatch just recorded; later steps are ordered after it by the barrier
        return [out]
    }
}
