import CLumiereKernels

/// ncnn Convolution: any kernel, stride, dilation and padding (incl. -233/-234 "same"),
/// optional bias and built-in activation. 3×3 stride-1 convolutions with enough channels run on
/// Winograd F(6,3) kernels, 3×3 stride-2 ones on a direct kernel (ConvolutionStride2.swift);
/// everything else on im2col + sgemm.
final class ConvolutionLayer: Layer, WindowedLayer {
    let name: String
    let window: KernelWindow
    let inputChannels: Int
    let padValue: Float
    let weights: [Float]   // out × in × kh × kw
    let bias: [Float]?
    var activation: Activation
    private var winogradWeights: UnsafeMutablePointer<Float>?
    /// Weights of the direct 3×3 stride-2 path (ConvolutionStride2.swift), packed on first use.
    var stride2PackedWeights: [Float]?
    /// Padding (top, left, bottom, right) of the single Winograd convolution that consumes this
    /// layer's output, when the loader found one: the output is then written straight into that
    /// layer's packed input layout.
    var packedConsumerPadding: (top: Int, left: Int, bottom: Int, right: Int)?

    /// Whether the parameters allow the Winograd path (the frame size decides at run time).
    var isWinogradCandidate: Bool {
        kernelW == 3 && kernelH == 3 && strideW == 1 && strideH == 1 && dilationW == 1 && dilationH == 1
            && inputChannels >= 8 && numOutput >= 8 && padValue == 0
            && [padLeft, padRight, padTop, padBottom].allSatisfy { $0 >= 0 }
    }

    init(_ d: LayerDefinition, weights reader: WeightReader) throws {
        try d.expectBlobs(bottoms: 1, tops: 1)
        let p = d.params
        name = d.name
        window = try KernelWindow(d)
        padValue = p.float(18, default: 0)
        let biasTerm = p.int(5, default: 0)
        let weightCount = p.int(6, default: 0)
        guard p.int(8, default: 0) == 0 else { throw d.invalid("int8 quantised convolution is not supported") }
        guard p.int(19, default: 0) == 0 else { throw d.invalid("dynamic-weight convolution is not supported") }
        guard p.int(7, default: 1) == 1 else { throw d.invalid("grouped convolution is not supported") }
        inputChannels = try window.inputChannels(weightCount: weightCount, d)
        self.weights = try reader.readTagged(count: weightCount)
        bias = biasTerm != 0 ? try reader.readRaw(count: window.numOutput) : nil
        activation = try Activation(ncnnType: p.int(9, default: 0), params: p.floats(10), layer: d.name)
    }

    deinit { winogradWeights?.deallocate() }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        var x = inputs[0]
        guard x.dims == 3, x.channels == inputChannels else {
            throw InferenceError.shapeMismatch(layer: name, reason: "expects \(inputChannels) input channels, got \(x.shapeDescription)")
        }
        let (outW, outH, pt, pl) = try outputGeometry(width: x.width, height: x.height, shape: x.shapeDescription)
        let useWinograd = context.options.convolution == .auto && isWinogradCandidate && outW * outH >= 144
        if useWinograd {
            return [winograd(x, outH: outH, outW: outW, padTop: pt, padLeft: pl, context: context)]
        } else if context.options.convolution == .auto && hasStride2Path && pt >= 0 && pl >= 0 {
            return [forwardStride2(x.planar(), outH: outH, outW: outW, padTop: pt, padLeft: pl, context: context)]
        } else {
            x = x.planar()
            let out = Tensor(dims: 3, channels: numOutput, height: outH, width: outW, zeroed: false)
            gemm(x, out, padTop: pt, padLeft: pl, context: context)
            if let bias { addBias(out, bias) }
            activation.apply(to: out)
            return [out]
        }
    }

    /// The output size and the resolved top/left padding (ncnn's -233/-234 "same" padding depends on the input size)
    /// for a `width` × `height` input. Shared with the GPU backend (GPUConvolution).
    func outputGeometry(width: Int, height: Int, shape: String) throws -> (width: Int, height: Int, padTop: Int, padLeft: Int) {
        let extW = dilationW * (kernelW - 1) + 1, extH = dilationH * (kernelH - 1) + 1
        var pl = padLeft, pr = padRight, pt = padTop, pb = padBottom
        if [pl, pr, pt, pb].contains(-233) || [pl, pr, pt, pb].contains(-234) {
            let wpad = max(0, extW + (width - 1) / strideW * strideW - width)
            let hpad = max(0, extH + (height - 1) / strideH * strideH - height)
            let upper = [pl, pr, pt, pb].contains(-233)
            pl = upper ? wpad / 2 : wpad - wpad / 2; pr = wpad - pl
            pt = upper ? hpad / 2 : hpad - hpad / 2; pb = hpad - pt
        }
        let outW = (width + pl + pr - extW) / strideW + 1
        let outH = (height + pt + pb - extH) / strideH + 1
        guard width + pl + pr >= extW, height + pt + pb >= extH, outW > 0, outH > 0 else {
            throw InferenceError.shapeMismatch(layer: name, reason: "input \(shape) is smaller than the \(kernelW)x\(kernelH) kernel")
        }
        return (outW, outH, pt, pl)
    }

    private func gemm(_ x: Tensor, _ out: Tensor, padTop pt: Int, padLeft pl: Int, context: ExecutionContext) {
        let k = inputChannels * kernelW * kernelH
        let n = out.height * out.width
        if kernelW == 1, kernelH == 1, strideW == 1, strideH == 1, pt == 0, pl == 0, out.width == x.width, out.height == x.height {
            weights.withUnsafeBufferPointer { w in
                context.sgemm(m: numOutput, n: n, k: k, a: w.baseAddress!, lda: k, b: x.storage, ldb: n, c: out.storage, ldc: n)
            }
            return
        }
        // Bands of output rows keep the im2col buffer near 32 MB whatever the frame size.
        let rowsPerBand = max(1, min(out.height, (8 << 20) / max(1, k * out.width)))
        let cols = UnsafeMutablePointer<Float>.allocate(capacity: k * rowsPerBand * out.width)
        let bandOut = UnsafeMutablePointer<Float>.allocate(capacity: numOutput * rowsPerBand * out.width)
        defer { cols.deallocate(); bandOut.deallocate() }
        var y0 = 0
        while y0 < out.height {
            let rows = min(rowsPerBand, out.height - y0)
            let bn = rows * out.width
            // im2col for rows y0..<y0+rows: shift the padding so the band starts at y0.
            let kk = kernelW * kernelH, plane = x.planeSize
            context.parallelRanges(inputChannels) { range in
                lk_im2col(x.storage + range.lowerBound * plane, Int32(range.count), Int32(x.height), Int32(x.width), Int32(kernelH), Int32(kernelW),
                          Int32(dilationH), Int32(dilationW), Int32(strideH), Int32(strideW),
                          Int32(pt - y0 * strideH), Int32(pl), padValue, Int32(rows), Int32(out.width), cols + range.lowerBound * kk * bn)
            }
            weights.withUnsafeBufferPointer { w in
                context.sgemm(m: numOutput, n: bn, k: k, a: w.baseAddress!, lda: k, b: cols, ldb: bn, c: bandOut, ldc: bn)
            }
            for c in 0..<numOutput {
                (out.storage + c * n + y0 * out.width).update(from: bandOut + c * bn, count: bn)
            }
            y0 += rows
        }
    }

    private func winograd(_ input: Tensor, outH: Int, outW: Int, padTop pt: Int, padLeft pl: Int, context: ExecutionContext) -> Tensor {
        if winogradWeights == nil {
            let count = lk_wino63_packed_weight_count(Int32(inputChannels), Int32(numOutput))
            let packed = UnsafeMutablePointer<Float>.allocate(capacity: count)
            weights.withUnsafeBufferPointer { lk_wino63_pack_weights($0.baseAddress!, Int32(inputChannels), Int32(numOutput), packed) }
            winogradWeights = packed
        }
        let tilesX = (outW + 5) / 6, tilesY = (outH + 5) / 6
        let layout = Tensor.PackedLayout(paddedHeight: tilesY * 6 + 2, paddedWidth: tilesX * 6 + 2, top: pt, left: pl)
        // The input in our packed layout: handed over by the previous convolution, or packed here.
        let packedInput: Tensor
        if input.packed == layout {
            packedInput = input
        } else {
            let x = input.planar()
            packedInput = Tensor(channels: inputChannels, height: x.height, width: x.width, packed: layout)
            let groups = (inputChannels + 15) / 16, ph = layout.paddedHeight, pw = layout.paddedWidth
            context.parallelRanges(groups) { range in
                for g in range {
                    let c0 = g * 16, cn = min(16, inputChannels - c0)
                    lk_pack16_padded(x.storage + c0 * x.planeSize, Int32(cn), Int32(x.height), Int32(x.width), Int32(pt), Int32(pl),
                                     padValue, packedInput.storage + g * ph * pw * 16, Int32(ph), Int32(pw))
                }
            }
        }
        // The output: packed for the next convolution when it is the only consumer, else planar.
        var out: Tensor
        var nextLayout: Tensor.PackedLayout?
        if let next = packedConsumerPadding {
            let nextH = outH + next.top + next.bottom - 2, nextW = outW + next.left + next.right - 2
            let l = Tensor.PackedLayout(paddedHeight: (nextH + 5) / 6 * 6 + 2, paddedWidth: (nextW + 5) / 6 * 6 + 2, top: next.top, left: next.left)
            if nextH > 0, nextW > 0, l.paddedHeight >= next.top + outH, l.paddedWidth >= next.left + outW {
                nextLayout = l
            }
        }
        if let l = nextLayout {
            out = Tensor(channels: numOutput, height: outH, width: outW, packed: l)
            lk_pack16_zero_border(out.storage, Int32(numOutput), Int32(outH), Int32(outW), Int32(l.top), Int32(l.left),
                                  Int32(l.paddedHeight), Int32(l.paddedWidth))
        } else {
            out = Tensor(dims: 3, channels: numOutput, height: outH, width: outW, zeroed: false)
        }
        let tileBlock = context.options.winogradTileBlock
        let scratchCount = lk_wino63_scratch_count(Int32(inputChannels), Int32(numOutput), Int32(tileBlock))
        let totalTiles = tilesX * tilesY
        let isa = context.isa
        let biasPtr: UnsafeMutablePointer<Float>? = bias.map { b in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: b.count); p.initialize(from: b, count: b.count); return p
        }
        let actParams = UnsafeMutablePointer<Float>.allocate(capacity: max(1, activation.params.count))
        actParams.initialize(from: activation.params, count: activation.params.count)
        defer { biasPtr?.deallocate(); actParams.deallocate() }
        var args = lk_wino63_args(input: packedInput.storage, cin: Int32(inputChannels), ph: Int32(layout.paddedHeight), pw: Int32(layout.paddedWidth),
                                  weights: winogradWeights, cout: Int32(numOutput), bias: biasPtr,
                                  act: activation.code, act_params: actParams, act_param_count: Int32(activation.params.count),
                                  output: nextLayout == nil ? out.storage : nil, outh: Int32(outH), outw: Int32(outW),
                                  output_packed: nextLayout == nil ? nil : out.storage,
                                  out_ph: Int32(nextLayout?.paddedHeight ?? 0), out_pw: Int32(nextLayout?.paddedWidth ?? 0),
                                  out_pad_top: Int32(nextLayout?.top ?? 0), out_pad_left: Int32(nextLayout?.left ?? 0),
                                  tiles_x: Int32(tilesX), tiles_y: Int32(tilesY), tile_block: Int32(tileBlock))
        withUnsafePointer(to: &args) { a in
            let argsPtr = a
            let workers = min(context.threads, (totalTiles + tileBlock - 1) / tileBlock)
            let scratch = (0..<max(1, workers)).map { _ in ScratchBuffer(count: scratchCount) }
            context.parallelChunks(totalTiles, grain: tileBlock) { worker, range in
                lk_wino63_forward(argsPtr, Int32(range.lowerBound), Int32(range.upperBound), scratch[worker].pointer, isa)
            }
            scratch.forEach { $0.release() }
        }
        return out
    }
}

/// out[c] += bias[c] for every plane.
func addBias(_ t: Tensor, _ bias: [Float]) {
    let n = t.planeSize
    for c in 0..<min(t.channels, bias.count) {
        let p = t.storage + c * n, b = bias[c]
        for i in 0..<n { p[i] += b }
    }
}
