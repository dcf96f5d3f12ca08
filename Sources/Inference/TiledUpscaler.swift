/// Runs a single-input, single-output super-resolution network over a frame in overlapping tiles,
/// so memory is bounded by the tile size rather than the frame size.
///
/// Each tile is the core region plus `context` pixels of real image on every side (clamped at the
/// frame edge, where the network's own zero padding then sees exactly what it sees on the whole
/// frame); only the core of the result is kept. With `context` ≥ the network's receptive-field
/// radius, tiled output equals untiled output up to float rounding.
public final class TiledUpscaler {
    /// How the network treats borders.
    public enum Border: Sendable, Equatable {
        /// Output = scale × input; convolutions zero-pad (Real-ESRGAN). `context` ≥ receptive radius.
        case samePadding(context: Int)
        /// The network shrinks its input by `padding` on each side (unpadded convolutions, e.g.
        /// waifu2x): the frame is first extended by `padding` replicated edge pixels.
        case valid(padding: Int)
    }

    /// The engine that runs the network: `Net` (CPU) or `GPUNet` (Vulkan).
    public let net: InferenceRunner
    public let inputName: String
    public let outputName: String
    public let scale: Int
    public let border: Border
    /// Clamp the result to [0, 1].
    public let clampOutput: Bool
    /// Refuse a tile whose output is not exactly `scale` × its input (models not from the catalogue, whose scale
    /// was measured by a probe run); otherwise a larger output is cropped to the core.
    public let exactOutputSize: Bool
    /// The tile side this upscaler fell back to after the device ran out of memory (nil until it does): later frames
    /// start from it rather than fail again at the larger size.
    public private(set) var reducedTileSize: Int?
    /// Gets a line for the log each time a frame is retried with smaller tiles, and when the smallest tile fails too.
    public var note: (String) -> Void = { _ in }
    /// The smallest tile side: `upscale` never tiles finer, and a retry after running out of device memory stops here.
    public static let minimumTileSize = 16

    public init(net: InferenceRunner, inputName: String, outputName: String, scale: Int, border: Border, clampOutput: Bool = true,
                exactOutputSize: Bool = false) throws {
        guard (1...16).contains(scale) else { throw InferenceError.invalidInput("scale \(scale) must be 1...16") }
        guard net.inputNames.contains(inputName) else { throw InferenceError.invalidInput("network has no input '\(inputName)'") }
        self.net = net
        self.inputName = inputName
        self.outputName = outputName
        self.scale = scale
        self.border = border
        self.clampOutput = clampOutput
        self.exactOutputSize = exactOutputSize
    }

    /// Upscales a 3-channel tensor. `tileSize` is the core tile edge in input pixels (nil or ≥ the
    /// frame: one pass over the whole frame).
    public func upscale(_ image: Tensor, tileSize: Int? = nil) throws -> Tensor {
        let out = Tensor(channels: image.channels, height: image.height * scale, width: image.width * scale)
        try out.withUnsafeMutableValues { try upscale(image, tileSize: tileSize, into: $0) }
        return out
    }

    /// Like `upscale(_:tileSize:)`, writing the C × (H·scale) × (W·scale) result into `output`
    /// (lets callers fill their own frame buffer without an extra full-size copy).
    public func upscale(_ image: Tensor, tileSize: Int? = nil, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard image.dims == 3, image.width > 0, image.height > 0 else {
            throw InferenceError.invalidInput("expected a C×H×W image, got \(image.shapeDescription)")
        }
        guard image.width <= 1 << 15, image.height <= 1 << 15 else {
            throw InferenceError.invalidInput("frame \(image.width)x\(image.height) exceeds 32768 pixels per side")
        }
        let w = image.width, h = image.height
        let source: Tensor
        let pad: Int
        switch border {
        case let .samePadding(context):
            source = image; pad = max(0, context)
        case let .valid(padding):
            source = TiledUpscaler.replicatePad(image, padding); pad = padding
        }
        guard output.count == image.channels * h * scale * w * scale, let base = output.baseAddress else {
            throw InferenceError.invalidInput("output buffer holds \(output.count) values, need \(image.channels * h * scale * w * scale)")
        }
        let out = OutputFrame(storage: base, channels: image.channels, height: h * scale, width: w * scale)
        // Out of device memory in the middle of a frame (a GPU's blobs grow with the tile): free the cached buffers,
        // halve the tile and run the whole frame again, down to `minimumTileSize`; only then does the error reach the
        // caller (a worker then goes on with the CPU engine, `DeviceSelection`). Each core pixel is computed from the
        // same input pixels whatever the tiling when the context covers the receptive field, so the retried frame is
        // the unfaulted one up to float rounding (GPUTileRetryTests measures it: bit for bit on lavapipe).
        var tile = min(max(TiledUpscaler.minimumTileSize, tileSize ?? Int.max), reducedTileSize ?? Int.max)
        while true {
            do {
                // Equal tiles no larger than `tile` (a 640-wide frame with 512 tiles gets two of 320).
                for (y0, y1) in TiledUpscaler.split(h, maxTile: tile) {
                    for (x0, x1) in TiledUpscaler.split(w, maxTile: tile) {
                        try runTile(source, out, x0: x0, y0: y0, x1: x1, y1: y1, pad: pad, frameW: w, frameH: h)
                    }
                }
                break
            } catch let error as GPUError {
                guard case .outOfDeviceMemory = error else { throw error }
                let side = min(tile, max(w, h)), smaller = side / 2
                guard smaller >= TiledUpscaler.minimumTileSize else {
                    note("out of GPU memory even with \(side)-pixel tiles, the smallest tried: giving up the GPU (\(error))")
                    throw error
                }
                (net as? GPUNet)?.releaseCachedBuffers()
                note("out of GPU memory with \(side)-pixel tiles: retrying the frame on the GPU with \(smaller)-pixel tiles (\(error))")
                tile = smaller
                reducedTileSize = smaller
            }
        }
        if clampOutput {
            for i in 0..<output.count { output[i] = min(max(output[i], 0), 1) }
        }
    }

    /// The destination frame (caller-owned memory).
    struct OutputFrame {
        let storage: UnsafeMutablePointer<Float>
        let channels: Int, height: Int, width: Int
    }

    private func runTile(_ source: Tensor, _ out: OutputFrame, x0: Int, y0: Int, x1: Int, y1: Int, pad: Int, frameW: Int, frameH: Int) throws {
        // Input region in `source` coordinates and where the core sits in the network output.
        let ex0: Int, ey0: Int, ex1: Int, ey1: Int, coreX: Int, coreY: Int
        switch border {
        case .samePadding:
            ex0 = max(0, x0 - pad); ey0 = max(0, y0 - pad); ex1 = min(frameW, x1 + pad); ey1 = min(frameH, y1 + pad)
            coreX = (x0 - ex0) * scale; coreY = (y0 - ey0) * scale
        case .valid:
            // source is the frame padded by `pad`: frame pixel x is source x + pad.
            ex0 = x0; ey0 = y0; ex1 = x1 + 2 * pad; ey1 = y1 + 2 * pad
            coreX = 0; coreY = 0
        }
        let piece = TiledUpscaler.crop(source, x: ex0, y: ey0, width: ex1 - ex0, height: ey1 - ey0)
        guard let result = try net.run(inputs: [inputName: piece], outputs: [outputName])[outputName] else {
            throw InferenceError.invalidInput("network produced no '\(outputName)'")
        }
        let cw = (x1 - x0) * scale, ch = (y1 - y0) * scale
        if exactOutputSize, case .samePadding = border, result.width != piece.width * scale || result.height != piece.height * scale {
            throw InferenceError.shapeMismatch(layer: outputName, reason: "a \(piece.width)x\(piece.height) tile gave \(result.width)x\(result.height), "
                + "not ×\(scale) as the probe run found: the model's output size does not follow its input")
        }
        guard result.channels == out.channels, result.width >= coreX + cw, result.height >= coreY + ch else {
            throw InferenceError.shapeMismatch(layer: outputName, reason: "tile output \(result.shapeDescription) does not cover the \(cw)x\(ch) core at ×\(scale)")
        }
        for c in 0..<out.channels {
            for y in 0..<ch {
                (out.storage + (c * out.height + y0 * scale + y) * out.width + x0 * scale)
                    .update(from: result.storage + (c * result.height + coreY + y) * result.width + coreX, count: cw)
            }
        }
    }

    /// `0..<n` cut into ⌈n / maxTile⌉ nearly equal ranges.
    static func split(_ n: Int, maxTile: Int) -> [(Int, Int)] {
        let count = max(1, (n + maxTile - 1) / maxTile)
        return (0..<count).map { (n * $0 / count, n * ($0 + 1) / count) }
    }

    static func crop(_ t: Tensor, x: Int, y: Int, width: Int, height: Int) -> Tensor {
        if x == 0, y == 0, width == t.width, height == t.height { return t }
        let out = Tensor(dims: 3, channels: t.channels, height: height, width: width, zeroed: false)
        for c in 0..<t.channels {
            for r in 0..<height {
                (out.storage + (c * height + r) * width).update(from: t.storage + (c * t.height + y + r) * t.width + x, count: width)
            }
        }
        return out
    }

    /// The image extended by `p` pixels on every side, repeating edge pixels.
    static func replicatePad(_ t: Tensor, _ p: Int) -> Tensor {
        guard p > 0 else { return t }
        let w = t.width + 2 * p, h = t.height + 2 * p
        let out = Tensor(dims: 3, channels: t.channels, height: h, width: w, zeroed: false)
        for c in 0..<t.channels {
            for y in 0..<h {
                let sy = min(max(y - p, 0), t.height - 1)
                let src = t.storage + (c * t.height + sy) * t.width
                let dst = out.storage + (c * h + y) * w
                for x in 0..<w { dst[x] = src[min(max(x - p, 0), t.width - 1)] }
            }
        }
        return out
    }
}
