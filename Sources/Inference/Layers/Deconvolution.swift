import CLumiereKernels

/// ncnn Deconvolution (transposed convolution): weights out × in × kh × kw, no kernel flip;
/// full output (w-1)·stride + extent + output_pad, then the padding (or output_w/h) is cut.
/// The reference path runs as sgemm (Wᵀ·x into columns) + col2im scatter; 4×4 stride-2 layers
/// (RIFE, waifu2x) take the sub-pixel fast path in DeconvolutionFast.swift unless the options ask
/// for the GEMM path (`convolution: .gemm`, as for Convolution).
final class DeconvolutionLayer: Layer, WindowedLayer {
    let name: String
    let window: KernelWindow
    let inputChannels: Int
    let outputPadRight: Int, outputPadBottom: Int, outputW: Int, outputH: Int
    let columnWeights: [Float]  // ((out·kh + ky)·kw + kx) × in
    /// Weights for the sub-pixel fast path, nil when the layer's shape has none.
    let subPixelWeights: [Float]?
    let bias: [Float]?
    let activation: Activation

    init(_ d: LayerDefinition, weights reader: WeightReader) throws {
        try d.expectBlobs(bottoms: 1, tops: 1)
        let p = d.params
        name = d.name
        window = try KernelWindow(d)
        outputPadRight = p.int(18, default: 0)
        outputPadBottom = p.int(19, default: outputPadRight)
        outputW = p.int(20, default: 0)
        outputH = p.int(21, default: outputW)
        let weightCount = p.int(6, default: 0)
        try KernelWindow.checkPadding([outputPadRight, outputPadBottom], d)
        guard p.int(7, default: 1) == 1, p.int(8, default: 0) == 0, p.int(28, default: 0) == 0 else {
            throw d.invalid("grouped, int8 or dynamic-weight deconvolution is not supported")
        }
        inputChannels = try window.inputChannels(weightCount: weightCount, d)
        let w = try reader.readTagged(count: weightCount)
        let maxk = window.kernelW * window.kernelH
        var cw = [Float](repeating: 0, count: weightCount)
        for o in 0..<window.numOutput { for i in 0..<inputChannels { for k in 0..<maxk {
            cw[(o * maxk + k) * inputChannels + i] = w[(o * inputChannels + i) * maxk + k]
        } } }
        columnWeights = cw
        subPixelWeights = DeconvolutionLayer.hasSubPixelPath(kernelW: window.kernelW, kernelH: window.kernelH,
                                                             strideW: window.strideW, strideH: window.strideH,
                                                             dilationW: window.dilationW, dilationH: window.dilationH)
            ? DeconvolutionLayer.packSubPixelWeights(w, inputChannels: inputChannels, outputChannels: window.numOutput) : nil
        bias = p.int(5, default: 0) != 0 ? try reader.readRaw(count: window.numOutput) : nil
        activation = try Activation(ncnnType: p.int(9, default: 0), params: p.floats(10), layer: d.name)
    }

    /// Where the output sits in the full transposed-convolution output: its size and the rows and
    /// columns cut away at the top and left.
    struct OutputGeometry {
        let width: Int, height: Int, cutTop: Int, cutLeft: Int
    }

    func outputGeometry(for x: Tensor) throws -> OutputGeometry {
        try outputGeometry(dims: x.dims, channels: x.channels, height: x.height, width: x.width, shape: x.shapeDescription)
    }

    /// The same from the input's shape alone (the GPU backend's GPUDeconvolution).
    func outputGeometry(dims: Int, channels: Int, height: Int, width: Int, shape: String) throws -> OutputGeometry {
        guard dims == 3, channels == inputChannels else {
            throw InferenceError.shapeMismatch(layer: name, reason: "expects \(inputChannels) input channels, got \(shape)")
        }
        let x = (width: width, height: height)
        let extW = dilationW * (kernelW - 1) + 1, extH = dilationH * (kernelH - 1) + 1
        let fullW = (x.width - 1) * strideW + extW + outputPadRight
        let fullH = (x.height - 1) * strideH + extH + outputPadBottom
        var cutT = 0, cutB = 0, cutL = 0, cutR = 0
        let pads = [padLeft, padRight, padTop, padBottom]
        if pads.contains(where: { $0 > 0 }) {
            cutL = max(padLeft, 0); cutR = max(padRight, 0); cutT = max(padTop, 0); cutB = max(padBottom, 0)
        } else if outputW > 0 && outputH > 0 {
            let wcut = fullW - outputW, hcut = fullH - outputH
            if pads.contains(-233) { cutT = hcut / 2; cutB = hcut - hcut / 2; cutL = wcut / 2; cutR = wcut - wcut / 2 }
            else if pads.contains(-234) { cutT = hcut - hcut / 2; cutB = hcut / 2; cutL = wcut - wcut / 2; cutR = wcut / 2 }
        }
        let outW = fullW - cutL - cutR, outH = fullH - cutT - cutB
        guard outW > 0, outH > 0, x.width <= 1 << 16, x.height <= 1 << 16 else {
            throw InferenceError.shapeMismatch(layer: name, reason: "output \(outW)x\(outH) for input \(shape) is empty")
        }
        return OutputGeometry(width: outW, height: outH, cutTop: cutT, cutLeft: cutL)
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        let x = inputs[0]
        let geometry = try outputGeometry(for: x)
        let out: Tensor
        if let subPixelWeights, context.options.convolution != .gemm {
            out = forwardSubPixel(x, geometry: geometry, weights: subPixelWeights, context: context)
        } else {
            out = forwardGEMM(x, geometry: geometry, context: context)
        }
        activation.apply(to: out)
        return [out]
    }

    /// The reference path: columns = Wᵀ·x by sgemm, then each column scattered into the output.
    func forwardGEMM(_ x: Tensor, geometry g: OutputGeometry, context: ExecutionContext) -> Tensor {
        let out = Tensor(channels: numOutput, height: g.height, width: g.width)
        if let bias {
            for c in 0..<numOutput { (out.storage + c * out.planeSize).update(repeating: bias[c], count: out.planeSize) }
        }
        let m = numOutput * kernelW * kernelH, n = x.planeSize
        let cols = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { cols.deallocate() }
        columnWeights.withUnsafeBufferPointer { w in
            context.sgemm(m: m, n: n, k: inputChannels, a: w.baseAddress!, lda: inputChannels, b: x.storage, ldb: n, c: cols, ldc: n)
        }
        let kk = kernelW * kernelH
        context.parallelRanges(numOutput) { range in  // each output channel is written by one thread
            lk_col2im_add(cols + range.lowerBound * kk * n, Int32(range.count), Int32(x.height), Int32(x.width), Int32(kernelH), Int32(kernelW),
                          Int32(dilationH), Int32(dilationW), Int32(strideH), Int32(strideW), Int32(g.cutTop), Int32(g.cutLeft),
                          out.storage + range.lowerBound * out.planeSize, Int32(g.height), Int32(g.width))
        }
        return out
    }
}
