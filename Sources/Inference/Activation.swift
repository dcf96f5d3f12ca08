import CLumiereKernels

/// ncnn's built-in activation of Convolution/Deconvolution (param 9 and array 10), plus PReLU
/// with per-channel slopes when a PReLU layer is fused into the convolution before it.
struct Activation {
    var code: Int32
    var params: [Float]

    static let none = Activation(code: Int32(LK_ACT_NONE), params: [])
    var isNone: Bool { code == Int32(LK_ACT_NONE) }

    /// From ncnn's activation_type / activation_params: 1 ReLU, 2 LeakyReLU(slope), 3 Clip(min, max),
    /// 4 Sigmoid, 5 Mish, 6 HardSwish(alpha, beta).
    init(ncnnType type: Int, params: [Float], layer: String) throws {
        switch type {
        case 0: self = .none
        case 1: self.init(code: Int32(LK_ACT_RELU), params: [])
        case 2:
            self.init(code: Int32(LK_ACT_LEAKY), params: [params.first ?? 0])
        case 3:
            guard params.count >= 2 else { throw InferenceError.invalidParameter(layer: layer, reason: "clip activation needs 2 parameters (min, max)") }
            self.init(code: Int32(LK_ACT_CLIP), params: Array(params.prefix(2)))
        case 4: self.init(code: Int32(LK_ACT_SIGMOID), params: [])
        case 5: self.init(code: Int32(LK_ACT_MISH), params: [])
        case 6:
            self.init(code: Int32(LK_ACT_HARDSWISH), params: params.count >= 2 ? Array(params.prefix(2)) : [0.2, 0.5])
        default:
            throw InferenceError.invalidParameter(layer: layer, reason: "unsupported activation_type \(type) (supported: 0-6)")
        }
    }

    init(code: Int32, params: [Float]) {
        self.code = code
        self.params = params
    }

    /// Applies in place to every channel plane of `t`.
    func apply(to t: Tensor) {
        guard !isNone else { return }
        let planes = t.dims == 3 ? t.channels : 1
        let planeSize = t.count / max(planes, 1)
        params.withUnsafeBufferPointer { p in
            lk_activate(t.storage, Int32(planes), planeSize, code, p.baseAddress, Int32(p.count))
        }
    }
}

/// A layer that can be folded into the convolution that feeds it.
protocol FusableActivation: AnyObject {
    var fusedActivation: Activation { get }
    /// Set by the loader when folded: forward then passes its input through.
    var isFused: Bool { get set }
}
