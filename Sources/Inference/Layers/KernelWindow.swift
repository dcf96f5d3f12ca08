/// The sliding-window parameters ncnn's Convolution and Deconvolution share (param ids 0–4 and
/// 11–16), parsed once and checked against limits before any weights are read.
struct KernelWindow {
    let numOutput: Int
    let kernelW: Int, kernelH: Int, dilationW: Int, dilationH: Int, strideW: Int, strideH: Int
    /// ≥ 0, or ncnn's -233 / -234 ("same" padding, decided by the input size).
    let padLeft: Int, padRight: Int, padTop: Int, padBottom: Int

    init(_ d: LayerDefinition) throws {
        let p = d.params
        numOutput = p.int(0, default: 0)
        kernelW = p.int(1, default: 0)
        kernelH = p.int(11, default: kernelW)
        dilationW = p.int(2, default: 1)
        dilationH = p.int(12, default: dilationW)
        strideW = p.int(3, default: 1)
        strideH = p.int(13, default: strideW)
        padLeft = p.int(4, default: 0)
        padRight = p.int(15, default: padLeft)
        padTop = p.int(14, default: padLeft)
        padBottom = p.int(16, default: padTop)
        guard (1...65536).contains(numOutput) else { throw d.invalid("num_output \(numOutput) must be in 1...65536") }
        guard (1...64).contains(kernelW), (1...64).contains(kernelH) else { throw d.invalid("kernel \(kernelW)x\(kernelH) must be 1...64") }
        guard (1...64).contains(dilationW), (1...64).contains(dilationH), (1...64).contains(strideW), (1...64).contains(strideH) else {
            throw d.invalid("stride and dilation must be 1...64")
        }
        try KernelWindow.checkPadding([padLeft, padRight, padTop, padBottom], d)
    }

    static func checkPadding(_ pads: [Int], _ d: LayerDefinition) throws {
        for pad in pads where !(0...1024).contains(pad) && pad != -233 && pad != -234 {
            throw d.invalid("padding \(pad) out of range")
        }
    }

    /// The input channel count implied by weight_data_size (param 6), which must be a whole multiple
    /// of num_output × kernel area.
    func inputChannels(weightCount: Int, _ d: LayerDefinition) throws -> Int {
        let perInput = numOutput * kernelW * kernelH
        guard weightCount > 0, weightCount % perInput == 0, weightCount / perInput <= 65536 else {
            throw d.invalid("weight_data_size \(weightCount) is not num_output×kernel×input_channels")
        }
        return weightCount / perInput
    }
}

/// Convolution-like layers keep their `KernelWindow` and read its fields by name.
protocol WindowedLayer {
    var window: KernelWindow { get }
}

extension WindowedLayer {
    var numOutput: Int { window.numOutput }
    var kernelW: Int { window.kernelW }
    var kernelH: Int { window.kernelH }
    var dilationW: Int { window.dilationW }
    var dilationH: Int { window.dilationH }
    var strideW: Int { window.strideW }
    var strideH: Int { window.strideH }
    var padLeft: Int { window.padLeft }
    var padRight: Int { window.padRight }
    var padTop: Int { window.padTop }
    var padBottom: Int { window.padBottom }
}
