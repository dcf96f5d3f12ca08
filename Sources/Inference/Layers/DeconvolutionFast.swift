import CLumiereKernels

/// Sub-pixel fast path of DeconvolutionLayer for 4×4 kernels with stride 2 (RIFE's and waifu2x's
/// upsampling): each output pixel gets exactly 2×2 taps, so the layer is four 2×2 convolutions
/// whose results interleave. The C kernel computes whole output rows directly from a zero-padded
/// copy of the input; the GEMM path instead writes and re-reads a columns buffer 16 times the size
/// of the input per output channel, which made it memory-bound.
extension DeconvolutionLayer {
    static func hasSubPixelPath(kernelW: Int, kernelH: Int, strideW: Int, strideH: Int, dilationW: Int, dilationH: Int) -> Bool {
        kernelW == 4 && kernelH == 4 && strideW == 2 && strideH == 2 && dilationW == 1 && dilationH == 1
    }

    /// `weights` in ncnn order [out][in][4][4].
    static func packSubPixelWeights(_ weights: [Float], inputChannels: Int, outputChannels: Int) -> [Float] {
        var packed = [Float](repeating: 0, count: lk_deconv_s2k4_packed_weight_count(Int32(inputChannels), Int32(outputChannels)))
        weights.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBufferPointer { lk_deconv_s2k4_pack_weights(w.baseAddress!, Int32(inputChannels), Int32(outputChannels), $0.baseAddress!) }
        }
        return packed
    }

    func forwardSubPixel(_ x: Tensor, geometry g: OutputGeometry, weights: [Float], context: ExecutionContext) -> Tensor {
        var shape = lk_deconv_s2k4_shape(cin: Int32(inputChannels), h: Int32(x.height), w: Int32(x.width), cout: Int32(numOutput),
                                         outh: Int32(g.height), outw: Int32(g.width), cut_top: Int32(g.cutTop), cut_left: Int32(g.cutLeft))
        let out = Tensor(channels: numOutput, height: g.height, width: g.width)
        let paddedCount = lk_deconv_s2k4_padded_count(&shape)
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedCount)
        defer { padded.deallocate() }
        let isa = context.isa
        context.parallelRanges(inputChannels) { range in
            withUnsafePointer(to: shape) { lk_deconv_s2k4_pad_input($0, x.storage, Int32(range.lowerBound), Int32(range.upperBound), padded) }
        }
        // Rows are handed out dynamically in small chunks: a core busy with other work takes fewer.
        let grain = max(1, g.height / (8 * max(1, context.threads)))
        weights.withUnsafeBufferPointer { w in
            withOptionalBias { b in
                context.parallelChunks(g.height, grain: grain) { _, rows in
                    withUnsafePointer(to: shape) {
                        lk_deconv_s2k4_rows($0, padded, w.baseAddress!, b, out.storage, Int32(rows.lowerBound), Int32(rows.upperBound), isa)
                    }
                }
            }
        }
        return out
    }

    private func withOptionalBias<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        if let bias { return bias.withUnsafeBufferPointer { body($0.baseAddress) } }
        return body(nil)
    }
}
