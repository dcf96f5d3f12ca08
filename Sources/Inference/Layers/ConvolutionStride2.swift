import CLumiereKernels

/// Direct path of ConvolutionLayer for 3×3 stride-2 kernels (RIFE's encoder and the first two
/// layers of every flow block). im2col + sgemm wrote and re-read a columns buffer 2.25 times the
/// input per layer and ran sgemm with as few as 16 output rows, which left it memory-bound; the C
/// kernel builds a column-deinterleaved padded copy of a band of input rows (small enough to stay
/// in L2) just before using it, and keeps 16 output channels × 16 columns in registers.
extension ConvolutionLayer {
    var hasStride2Path: Bool {
        kernelW == 3 && kernelH == 3 && strideW == 2 && strideH == 2 && dilationW == 1 && dilationH == 1
    }

    func forwardStride2(_ x: Tensor, outH: Int, outW: Int, padTop pt: Int, padLeft pl: Int, context: ExecutionContext) -> Tensor {
        let packedWeights = stride2Weights()
        var shape = lk_conv3x3s2_shape(cin: Int32(inputChannels), h: Int32(x.height), w: Int32(x.width), cout: Int32(numOutput),
                                       outh: Int32(outH), outw: Int32(outW), pad_top: Int32(pt), pad_left: Int32(pl), pad_value: padValue)
        let out = Tensor(dims: 3, channels: numOutput, height: outH, width: outW, zeroed: false)
        let band = Int(lk_conv3x3s2_band_rows(&shape))
        let workers = max(1, min(context.threads, (outH + band - 1) / band))
        let scratchCount = lk_conv3x3s2_scratch_count(&shape, Int32(band))
        let scratch = (0..<workers).map { _ in ScratchBuffer(count: scratchCount) }
        defer { scratch.forEach { $0.release() } }
        let isa = context.isa
        let act = activation
        // Bands of rows are handed out dynamically: a core busy with other work takes fewer.
        packedWeights.withUnsafeBufferPointer { w in
            act.params.withUnsafeBufferPointer { ap in
                withOptionalBias { b in
                    context.parallelChunks(outH, grain: band) { worker, rows in
                        withUnsafePointer(to: shape) {
                            lk_conv3x3s2_rows($0, x.storage, w.baseAddress!, b, act.code, ap.baseAddress, Int32(ap.count),
                                              out.storage, Int32(rows.lowerBound), Int32(rows.upperBound),
                                              scratch[worker].pointer, Int32(band), isa)
                        }
                    }
                }
            }
        }
        return out
    }

    /// `weights` (ncnn order [out][in][3][3]) packed per tap for all output channels, built on first use.
    private func stride2Weights() -> [Float] {
        if let p = stride2PackedWeights { return p }
        var packed = [Float](repeating: 0, count: lk_conv3x3s2_packed_weight_count(Int32(inputChannels), Int32(numOutput)))
        weights.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBufferPointer { lk_conv3x3s2_pack_weights(w.baseAddress!, Int32(inputChannels), Int32(numOutput), $0.baseAddress!) }
        }
        stride2PackedWeights = packed
        return packed
    }

    private func withOptionalBias<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        if let bias { return bias.withUnsafeBufferPointer { body($0.baseAddress) } }
        return body(nil)
    }
}
