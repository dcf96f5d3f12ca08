import Foundation

/// Convolution on the GPU. 3×3 stride-1 undilated layers (the models' bulk) run on Winograd F(4×4, 3×3) or
/// F(2×2, 3×3) where that pays (`winogradSide`: enough channels and output pixels; three dispatches, the transformed
/// weights made at load), otherwise on the direct register-blocked `conv3x3_r4x8` (conv3x3_regs.glsl; 5× faster on
/// lavapipe than the shared-memory `conv3x3.comp`, measurements in docs/engine.md); 3×3 stride 2 on the same with
/// STRIDE 2 (`conv3x3s2_r4x8`); both strides at outputs of ≤ `lanesMaxPixels` pixels (RIFE's 1×1 and 2×2 convblocks)
/// on `conv3x3_lanes`, lanes across output channels; with LUMIERE_GPU_COOPMAT=on, at `.fp16` on a device with
/// VK_NV_cooperative_matrix's 16×16×16 fp16 shape, both strides on `conv3x3_coopmat` (tensor cores: see
/// CooperativeMatrixConvolution) before all of these; everything else, and every layer when the net's options say
/// `convolution: .gemm`, on the reference shader `convolution.comp` (any kernel, stride, dilation, padding). All add the bias and apply the layer's activation, a fused PReLU/ReLU/LeakyReLU included.
final class GPUConvolution: GPULayer {
    let cpu: ConvolutionLayer
    let weights: VulkanBuffer, bias: VulkanBuffer, activationParams: VulkanBuffer
    let activation: Activation
    /// Whether this layer runs on a fast 3×3 stride-1 shader (its weights are then packed for it).
    let tiled3x3: Bool
    /// Whether this layer is 3×3 stride 2 (RIFE's downsampling) and runs on `conv3x3s2_r4x8` (conv3x3_regs.glsl with
    /// STRIDE 2; its weights packed in blocks of 8) rather than the reference shader.
    let strided3x3: Bool
    /// Which fast 3×3 shader: `conv3x3_r<pixels>x<channels>` (register-blocked, the default) or `conv3x3` (shared-memory
    /// tiles). LUMIERE_GPU_CONV3X3 picks another, for measuring them against each other on one device.
    static let fast3x3: (name: String, pixels: Int, channels: Int) = {
        let name = ProcessInfo.processInfo.environment["LUMIERE_GPU_CONV3X3"] ?? "conv3x3_r4x8"
        if name == "conv3x3" { return (name, 1, 16) }   // an 8 × 8 tile × 16 channels per workgroup
        let parts = name.dropFirst("conv3x3_r".count).split(separator: "x").compactMap { Int($0) }
        guard name.hasPrefix("conv3x3_r"), parts.count == 2, parts[0] > 0, parts[1] > 0, parts[1] % 4 == 0 else { return ("conv3x3_r4x8", 4, 8) }
        return (name, parts[0], parts[1])
    }()

    /// The Winograd weights this layer has, by output tile side m (F(m×m, 3×3), m = 2 or 4): those `winogradSide` can
    /// pick for it (or the one LUMIERE_GPU_WINOGRAD_TILE forces); empty for a layer that always runs direct.
    let winogradWeights: [Int: VulkanBuffer]
    /// The Winograd product shader (`winograd_t<tiles>k<channels>`, winograd_gemm.glsl) and the tile side forced by
    /// LUMIERE_GPU_WINOGRAD_TILE=2|4 (nil: `winogradSide` decides per run). LUMIERE_GPU_WINOGRAD picks another product
    /// shader, or `off` for the direct shaders only. Read at each load, so a test or a benchmark can load the same net
    /// several ways in one process.
    struct WinogradChoice { let product: String, tiles: Int, channels: Int, forcedSide: Int? }
    let winograd: WinogradChoice?
    static func winogradChoice() -> WinogradChoice? {
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        let name = env("LUMIERE_GPU_WINOGRAD") ?? "winograd_t4k8"
        if name == "off" { return nil }
        let side: Int? = env("LUMIERE_GPU_WINOGRAD_TILE").flatMap { Int($0) }.flatMap { [2, 4].contains($0) ? $0 : nil }
        let parts = name.dropFirst("winograd_t".count).split(separator: "k").compactMap { Int($0) }
        guard name.hasPrefix("winograd_t"), parts.count == 2, parts[0] % 4 == 0, parts[0] > 0, parts[0] <= 8, parts[1] > 0, parts[1] % 4 == 0
        else { return WinogradChoice(product: "winograd_t4k8", tiles: 4, channels: 8, forcedSide: side) }
        return WinogradChoice(product: name, tiles: parts[0], channels: parts[1], forcedSide: side)
    }

    /// `conv3x3_lanes` (lanes across output channels) weights for 3×3 stride-1 and stride-2 layers, and the most output
    /// pixels at which it runs instead of the tiled shaders (`lanesMaxPixels`, or LUMIERE_GPU_LANES).
    let lanesWeights: VulkanBuffer?
    let lanesLimit: Int
    /// The rule: output pixels up to which `conv3x3_lanes` beats the pixel-tiled shaders. One c → c layer on lavapipe,
    /// process CPU seconds per run (GPUBenchmarkTests.testTinyOutputsAndDeconvolution, docs/engine.md): 192 at 1×1
    /// 0.0021 vs tiled 0.0023, 128 at 2×2 0.0010 vs 0.0020, stride 2 96 → 96 to 2×2 0.0007 vs 0.0013; but 96 at 4×4
    /// 0.0025 vs 0.0021 and 64 at 8×8 0.0045 vs 0.0020 (each lane then computes 4 pixels × 9 taps alone, where the
    /// tiled shaders share a window between pixels and channels).
    static let lanesMaxPixels = 4

    /// Input and output channels from which a 3×3 stride-1 layer may run on Winograd (ncnn-vulkan's threshold too).
    static let winogradMinChannels = 16

    /// The rule: the Winograd tile side for a 3×3 stride-1 layer whose smaller channel count is `channels`, at an output
    /// of `pixels`, or nil for the direct shader. From one c → c layer on lavapipe, process CPU seconds per run
    /// (GPUBenchmarkTests.testWinogradCrossover, 2026-12-06, docs/engine.md): F(4,3) wins from 16×16 outputs with
    /// 32+ channels (64 → 64 at 16×16: 0.0125 s vs F(2,3) 0.0149, direct 0.0253; at 48×48 0.089 / 0.142 / 0.223) and
    /// from 32×32 with 16 (0.0031 vs direct 0.0064); F(2,3) at 8×8 with 64+ channels (64: 0.0048 vs direct 0.0065,
    /// F(4,3) 0.0091; 128: 0.0142 vs 0.0331); below that the transforms and the (m + 2)² / 9 times larger weights cost
    /// more than the multiplies saved (64 → 64 at 4×4: direct 0.0025, F(2,3) 0.0027, F(4,3) 0.0078).
    static func winogradSide(channels: Int, pixels: Int) -> Int? {
        guard channels >= winogradMinChannels else { return nil }
        if channels >= 32 ? pixels >= 256 : pixels >= 1024 { return 4 }
        if channels >= 64 && pixels >= 64 { return 2 }
        return nil
    }

    /// The B matrices of `conv3x3_coopmat` (CooperativeMatrixConvolution.packWeights, fp16) when this layer runs on
    /// it: a 3×3 stride-1 or stride-2 layer of a net loaded at `.fp16` on a device that has the path
    /// (`VulkanDevice.hasCooperativeMatrixConvolution`), with LUMIERE_GPU_COOPMAT=on; nil otherwise. It then runs no
    /// other shader, so no Winograd or lanes weights are made.
    let coopMatWeights: VulkanBuffer?

    init(_ cpu: ConvolutionLayer, uploads: GPUUploadBatch) throws {
        self.cpu = cpu
        activation = cpu.activation  // read after Net's fusion pass, like the CPU forward
        tiled3x3 = uploads.options.convolution == .auto && cpu.kernelW == 3 && cpu.kernelH == 3 && cpu.strideW == 1 && cpu.strideH == 1
            && cpu.dilationW == 1 && cpu.dilationH == 1
        strided3x3 = uploads.options.convolution == .auto && cpu.kernelW == 3 && cpu.kernelH == 3 && cpu.strideW == 2 && cpu.strideH == 2
            && cpu.dilationW == 1 && cpu.dilationH == 1
        let coopMat = (tiled3x3 || strided3x3) && uploads.precision == .fp16 && uploads.device.hasCooperativeMatrixConvolution
            && CooperativeMatrixConvolution.requested
        coopMatWeights = coopMat
            ? try uploads.add(half: CooperativeMatrixConvolution.packWeights(cpu.weights, inputs: cpu.inputChannels, outputs: cpu.numOutput)) : nil
        let fast = GPUConvolution.fast3x3
        let channels = min(cpu.inputChannels, cpu.numOutput)
        let choice = tiled3x3 && !coopMat && channels >= GPUConvolution.winogradMinChannels ? GPUConvolution.winogradChoice() : nil
        winograd = choice
        var sides: [Int] = []
        if let w = choice {
            // The sides the rule can pick for these channels at some size (or the forced one).
            sides = w.forcedSide.map { [$0] } ?? [4, 2].filter { side in [64, 256, 1024].contains { GPUConvolution.winogradSide(channels: channels, pixels: $0) == side } }
        }
        var transformed: [Int: VulkanBuffer] = [:]
        for side in sides {
            transformed[side] = try uploads.add(GPUConvolution.winogradWeights(cpu.weights, inputs: cpu.inputChannels, outputs: cpu.numOutput,
                                                                               tile: side, block: choice!.channels))
        }
        winogradWeights = transformed
        weights = try uploads.add(strided3x3 ? GPUConvolution.packConv3x3(cpu.weights, inputs: cpu.inputChannels, outputs: cpu.numOutput, block: 8)
            : !tiled3x3 ? cpu.weights : fast.name == "conv3x3"
            ? GPUConvolution.packConv3x3(cpu.weights, inputs: cpu.inputChannels, outputs: cpu.numOutput)
            : GPUConvolution.packConv3x3(cpu.weights, inputs: cpu.inputChannels, outputs: cpu.numOutput, block: fast.channels))
        // LUMIERE_GPU_LANES=off never runs conv3x3_lanes, =N up to N output pixels (for measuring the rule).
        let lanes = getenv("LUMIERE_GPU_LANES").map { String(cString: $0) }
        lanesLimit = lanes == "off" ? 0 : (lanes.flatMap { Int($0) } ?? GPUConvolution.lanesMaxPixels)
        lanesWeights = (tiled3x3 || strided3x3) && !coopMat && lanesLimit > 0
            ? try uploads.add(GPUConvolution.packLanes(cpu.weights, inputs: cpu.inputChannels, outputs: cpu.numOutput)) : nil
        bias = try uploads.add(cpu.bias ?? [])
        activationParams = try uploads.add(activation.params)
    }

    /// Weights out × in × 3 × 3 in conv3x3_lanes.comp's order: [input][9 taps][output].
    static func packLanes(_ w: [Float], inputs: Int, outputs: Int) -> [Float] {
        var packed = [Float](repeating: 0, count: inputs * 9 * outputs)
        for oc in 0..<outputs { for ic in 0..<inputs { for k in 0..<9 { packed[(ic * 9 + k) * outputs + oc] = w[(oc * inputs + ic) * 9 + k] } } }
        return packed
    }

    /// Weights out × in × 3 × 3 in conv3x3.comp's order: [output block of 16][input chunk of 8][8 inputs][9 taps]
    /// [16 outputs], zero-filled beyond the real channels.
    static func packConv3x3(_ w: [Float], inputs: Int, outputs: Int) -> [Float] {
        let chunks = (inputs + 7) / 8, blocks = (outputs + 15) / 16
        var packed = [Float](repeating: 0, count: blocks * chunks * 8 * 9 * 16)
        for oc in 0..<outputs {
            for ic in 0..<inputs {
                let base = ((oc / 16 * chunks + ic / 8) * 8 + ic % 8) * 9 * 16 + oc % 16
                for k in 0..<9 { packed[base + k * 16] = w[(oc * inputs + ic) * 9 + k] }
            }
        }
        return packed
    }

    /// Weights out × in × 3 × 3 in conv3x3_regs.glsl's order: [output block of `block`][input][9 taps][`block`
    /// outputs], zero-filled beyond the real output channels.
    static func packConv3x3(_ w: [Float], inputs: Int, outputs: Int, block: Int) -> [Float] {
        let blocks = (outputs + block - 1) / block
        var packed = [Float](repeating: 0, count: blocks * inputs * 9 * block)
        for oc in 0..<outputs {
            for ic in 0..<inputs {
                let base = ((oc / block * inputs + ic) * 9) * block + oc % block
                for k in 0..<9 { packed[base + k * block] = w[(oc * inputs + ic) * 9 + k] }
            }
        }
        return packed
    }

    /// Weights out × in × 3 × 3 transformed for Winograd F(m×m, 3×3), G g Gᵀ (computed in Double), in
    /// winograd_gemm.glsl's order: [position of (m + 2)²][output block of `block`][input][`block` outputs], zero-filled
    /// beyond the real output channels. G for m = 2: [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]; for m = 4 (Lavin & Gray 2015):
    /// [¼ 0 0; -⅙ -⅙ -⅙; -⅙ ⅙ -⅙; 1/24 1/12 ⅙; 1/24 -1/12 ⅙; 0 0 1].
    static func winogradWeights(_ w: [Float], inputs: Int, outputs: Int, tile m: Int, block: Int) -> [Float] {
        let sixth: Double = 1.0 / 6, twelfth: Double = 1.0 / 12, twentyFourth: Double = 1.0 / 24
        let g23: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        let g43: [[Double]] = [[0.25, 0, 0], [-sixth, -sixth, -sixth], [-sixth, sixth, -sixth],
                               [twentyFourth, twelfth, sixth], [twentyFourth, -twelfth, sixth], [0, 0, 1]]
        let G = m == 2 ? g23 : g43
        let n = m + 2, blocks = (outputs + block - 1) / block
        var packed = [Float](repeating: 0, count: n * n * blocks * block * inputs)
        for oc in 0..<outputs {
            for ic in 0..<inputs {
                let g = (0..<9).map { Double(w[(oc * inputs + ic) * 9 + $0]) }
                for r in 0..<n {
                    for s in 0..<n {
                        var u = 0.0
                        for a in 0..<3 { for b in 0..<3 { u += G[r][a] * g[a * 3 + b] * G[s][b] } }
                        packed[(((r * n + s) * blocks + oc / block) * inputs + ic) * block + oc % block] = Float(u)
                    }
                }
            }
        }
        return packed
    }

    var profileKind: String { "\(lastShader) \(cpu.kernelW)x\(cpu.kernelH)s\(cpu.strideW) \(cpu.inputChannels)→\(cpu.numOutput) at \(lastOutputSize)" }
    /// What the last `encode` ran, and at which output width × height (for the profile).
    private var lastShader = "", lastOutputSize = ""


    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        guard x.dims == 3, x.channels == cpu.inputChannels else {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "expects \(cpu.inputChannels) input channels, got \(x.shapeDescription)")
        }
        let g = try cpu.outputGeometry(width: x.width, height: x.height, shape: x.shapeDescription)
        let out = try encoder.output(channels: cpu.numOutput, height: g.height, width: g.width)
        lastOutputSize = "\(g.width)x\(g.height)"
        if let coopMatWeights {
            lastShader = "conv3x3_coopmat"
            var p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width, g.padLeft, g.padTop])
            p.float(cpu.padValue)
            p.int(cpu.bias == nil ? 0 : 1); p.int(Int(activation.code)); p.int(activation.params.count)
            p.int(cpu.strideW); p.int(CooperativeMatrixConvolution.paddedK(inputs: x.channels))
            let tile = (pixels: CooperativeMatrixConvolution.tilePixels, channels: CooperativeMatrixConvolution.tileChannels)
            try encoder.dispatch("conv3x3_coopmat", [x.buffer, out.buffer, coopMatWeights, bias, activationParams], push: p,
                                 groups: ((out.width + tile.pixels - 1) / tile.pixels, out.height, (out.channels + tile.channels - 1) / tile.channels))
            return [out]
        }
        if let w = winograd,
           let side = w.forcedSide ?? GPUConvolution.winogradSide(channels: min(x.channels, out.channels), pixels: out.width * out.height),
           let transformed = winogradWeights[side] {
            lastShader = "winograd\(side)3 \(w.product)"
            try encodeWinograd(x, out, g, w, side: side, weights: transformed, encoder)
            return [out]
        }
        if let lanesWeights, out.width * out.height <= lanesLimit {
            lastShader = "conv3x3_lanes"
            var p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width, g.padLeft, g.padTop])
            p.float(cpu.padValue)
            p.int(cpu.bias == nil ? 0 : 1); p.int(Int(activation.code)); p.int(activation.params.count); p.int(cpu.strideW)
            try encoder.dispatch("conv3x3_lanes", [x.buffer, out.buffer, lanesWeights, bias, activationParams], push: p,
                                 groups: ((out.channels + 63) / 64, (out.width * out.height + 3) / 4, 1))
            return [out]
        }
        let buffers = [x.buffer, out.buffer, weights, bias, activationParams]
        if tiled3x3 || strided3x3 {
            var p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width, g.padLeft, g.padTop])
            p.float(cpu.padValue)
            p.int(cpu.bias == nil ? 0 : 1); p.int(Int(activation.code)); p.int(activation.params.count)
            let fast = strided3x3 ? (name: "conv3x3s2_r4x8", pixels: 4, channels: 8) : GPUConvolution.fast3x3
            lastShader = fast.name
            try encoder.dispatch(fast.name, buffers, push: p, groups: ((out.width + 8 * fast.pixels - 1) / (8 * fast.pixels), (out.height + 7) / 8,
                                                                         (out.channels + fast.channels - 1) / fast.channels))
            return [out]
        }
        lastShader = "convolution"
        var p = PushConstants(ints: [x.channels, x.height, x.width, out.channels, out.height, out.width,
                                     cpu.kernelW, cpu.kernelH, cpu.strideW, cpu.strideH, cpu.dilationW, cpu.dilationH, g.padLeft, g.padTop])
        p.float(cpu.padValue)
        p.int(cpu.bias == nil ? 0 : 1); p.int(Int(activation.code)); p.int(activation.params.count)
        try encoder.dispatch("convolution", buffers, push: p, width: out.width, height: out.height, channels: out.channels)
        return [out]
    }

    /// The three Winograd dispatches. The transformed input and the products live in fp32 scratch planes from the
    /// run's pool ((m + 2)² × channels × tiles each), given back once recorded: the barriers after each dispatch order
    /// any reuse by a later layer.
    private func encodeWinograd(_ x: GPUTensor, _ out: GPUTensor, _ g: (width: Int, height: Int, padTop: Int, padLeft: Int),
                                _ w: WinogradChoice, side m: Int, weights: VulkanBuffer, _ encoder: GPUEncoder) throws {
        // F(4,3)'s transformed values span a wider range than F(2,3)'s (Bᵀ entries up to 5, G's down to 1/24): with
        // fp16 products a 24 → 17 layer was 2.6e-2 (relative) off the CPU engine, against 1.5e-3 for F(2,3) and
        // 3.7e-4 with fp32 products (GPUWinogradTests.testFP16), so F(4,3) multiplies in fp32 even for `.fp16`.
        let positions = (m + 2) * (m + 2)
        let tilesX = (out.width + m - 1) / m, tilesY = (out.height + m - 1) / m
        let stride = (tilesX * tilesY + 7) / 8 * 8
        let v = try encoder.pool.take(bytes: positions * x.channels * stride * 4, host: false)
        defer { encoder.pool.give(v) }
        let products = try encoder.pool.take(bytes: positions * out.channels * stride * 4, host: false)
        defer { encoder.pool.give(products) }
        var pin = PushConstants(ints: [x.channels, x.height, x.width, tilesX, tilesY, stride, g.padLeft, g.padTop])
        pin.float(cpu.padValue)
        try encoder.dispatch("winograd\(m)3_input", [x.buffer, v], push: pin, groups: ((tilesX + 7) / 8, (tilesY + 7) / 8, x.channels))
        try encoder.dispatch(w.product, [v, products, weights], push: PushConstants(ints: [x.channels, out.channels, stride]),
                             groups: ((stride / w.tiles + 63) / 64, (out.channels + w.channels - 1) / w.channels, positions),
                             fp16Arithmetic: m == 2)
        var pout = PushConstants(ints: [out.channels, out.height, out.width, tilesX, tilesY, stride])
        pout.int(cpu.bias == nil ? 0 : 1); pout.int(Int(activation.code)); pout.int(activation.params.count)
        try encoder.dispatch("winograd\(m)3_output", [products, out.buffer, bias, activationParams], push: pout,
                             groups: ((tilesX + 7) / 8, (tilesY + 7) / 8, out.channels))
    }
}
