import Foundation
import Inference
import Shared

/// Frame interpolation with RIFE v4 running in our inference engine (with our `rife.Warp`).
///
/// The frames are zero-padded on the right and bottom to the model's multiple (32 for v4.0,
/// 64 for v4.25), the timestep goes in as a full plane `in2` filled with t (a 1×1 scalar gives
/// wrong output for v4.0), and the result is cropped back and clamped to [0, 1].
public final class RIFEInterpolator: FrameInterpolator {
    /// An interpolation model of `ModelCatalogue` (rife-v4.0, rife-v4.25).
    public struct Model: RawRepresentable, CaseIterable, Sendable, Equatable {
        public let entry: ModelEntry
        public var rawValue: String { entry.name }

        public init?(rawValue: String) {
            guard let entry = ModelCatalogue.entry(named: rawValue), entry.kind == .interpolation else { return nil }
            self.entry = entry
        }

        public static var allCases: [Model] { ModelCatalogue.interpolationNames.compactMap(Model.init(rawValue:)) }

        /// Frame sides are padded up to a multiple of this (the flow network's coarsest scale).
        public var padMultiple: Int { entry.padMultiple ?? 64 }
    }

    public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
        case unknownModel(String)
        case missingModelFile(String)
        case damagedModelFile(String, detail: String)
        case invalidSetting(String)

        public var description: String {
            switch self {
            case let .unknownModel(name):
                return "unknown interpolation model '\(name)'; choose one of \(Model.allCases.map(\.rawValue).joined(separator: ", ")) (or blend)"
            case let .missingModelFile(path):
                return "model file \(path) is missing — \(ModelLocator.fix)"
            case let .damagedModelFile(path, detail):
                return "model file \(path) is damaged (\(detail)) — \(ModelLocator.fix)"
            case let .invalidSetting(what):
                return what
            }
        }
    }

    public let model: Model
    public let threads: Int
    /// Where the network runs: the requested device, or the CPU engine when the GPU backend lacks one of RIFE's
    /// layers (then `fallback` says why).
    public let device: ComputeDevice
    /// Why a GPU was asked for and the CPU engine runs the model instead (a line for the worker's log), or nil.
    public let fallback: String?
    public var name: String { model.rawValue }
    private let net: InferenceRunner
    /// Seconds a GPU has spent on this model's runs so far (`GPUNet.totalDeviceSeconds`); nil on the CPU engine.
    public var deviceSeconds: Double? { lock.withLock { (net as? GPUNet)?.totalDeviceSeconds } }
    /// Net keeps per-run state; one interpolation at a time per instance.
    private let lock = NSLock()
    /// The last timestep plane (see `timePlane`); guarded by `lock`.
    private var cachedTimePlane: (t: Float, tensor: Tensor)?

    /// - Parameters:
    ///   - modelName: "rife-v4.0" or "rife-v4.25".
    ///   - threads: engine threads (1...256).
    ///   - device: the CPU engine or a Vulkan device; a model the GPU backend cannot run yet falls back to the CPU engine.
    ///   - precision: the GPU's blob storage (`GPUPrecision`); the CPU engine computes in fp32.
    ///   - modelsDirectory: default `ModelLocator.modelsDirectory()`.
    public init(modelName: String, threads: Int = 1, device: ComputeDevice = .cpu, precision: GPUPrecision = .fp32,
                modelsDirectory: URL? = nil) throws {
        guard let model = Model(rawValue: modelName) else { throw ConfigurationError.unknownModel(modelName) }
        guard (1...256).contains(threads) else { throw ConfigurationError.invalidSetting("threads must be 1...256, got \(threads)") }
        self.model = model
        self.threads = threads
        let dir = try modelsDirectory ?? ModelLocator.modelsDirectory()
        let (param, bin) = try ModelLocator.graphFiles(model.entry, stem: model.entry.stem(), in: dir, missing: ConfigurationError.missingModelFile,
                                                      damaged: ConfigurationError.damagedModelFile)
        let cpu = try Net(paramURL: param, weightsURL: bin, options: EngineOptions(threads: threads), registry: .withRIFE)
        (net, self.device, fallback) = try device.runner(for: cpu, model: model.rawValue, precision: precision)
    }

    /// The frame halfway (t = 0.5) or anywhere strictly between `first` (t → 0) and `second` (t → 1).
    public func interpolate(_ first: RGBImage, _ second: RGBImage, at t: Double) throws -> RGBImage {
        guard first.width == second.width, first.height == second.height else {
            throw ConfigurationError.invalidSetting("frames to interpolate differ in size: \(first.width)x\(first.height) vs \(second.width)x\(second.height)")
        }
        guard t > 0, t < 1 else {
            throw ConfigurationError.invalidSetting("interpolation time t must be strictly between 0 and 1, got \(t)")
        }
        let w = first.width, h = first.height
        guard w > 0, h > 0, w <= 16384, h <= 16384 else {
            throw ConfigurationError.invalidSetting("frame size \(w)x\(h) is outside 1...16384 pixels per side")
        }
        // `pixels` is mutable: the copies below read exactly 3·w·h values.
        guard first.pixels.count == 3 * w * h, second.pixels.count == 3 * w * h else {
            throw ConfigurationError.invalidSetting("frames hold \(first.pixels.count) and \(second.pixels.count) values, expected \(3 * w * h) for \(w)x\(h) RGB")
        }
        let m = model.padMultiple
        let pw = (w + m - 1) / m * m, ph = (h + m - 1) / m * m
        let in0 = padded(first, width: pw, height: ph), in1 = padded(second, width: pw, height: ph)
        let result: Tensor = try lock.withLock {
            let in2 = timePlane(Float(t), width: pw, height: ph)
            guard let out = try net.run(inputs: ["in0": in0, "in1": in1, "in2": in2], outputs: ["out0"])["out0"] else {
                throw ConfigurationError.invalidSetting("model \(model.rawValue) produced no out0")
            }
            return out
        }
        guard result.channels == 3, result.height == ph, result.width == pw else {
            throw ConfigurationError.invalidSetting("model \(model.rawValue) produced \(result.shapeDescription), expected [3x\(ph)x\(pw)]")
        }
        // Crop back and clamp to [0, 1], written straight into the new array's storage.
        let pixels = [Float](unsafeUninitializedCapacity: 3 * w * h) { dst, initialized in
            result.withUnsafeValues { src in
                for c in 0..<3 {
                    for y in 0..<h {
                        let s = src.baseAddress! + (c * ph + y) * pw, d = dst.baseAddress! + (c * h + y) * w
                        for x in 0..<w { d[x] = Swift.min(Swift.max(s[x], 0), 1) }
                    }
                }
            }
            initialized = 3 * w * h
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }

    /// The timestep plane `in2` (every value t), kept between calls: consecutive calls mostly share
    /// t and size, and the network never writes its inputs. Called under `lock`.
    private func timePlane(_ t: Float, width pw: Int, height ph: Int) -> Tensor {
        if let p = cachedTimePlane, p.t == t, p.tensor.width == pw, p.tensor.height == ph { return p.tensor }
        let plane = Tensor(dims: 3, channels: 1, height: ph, width: pw, zeroed: false)
        plane.withUnsafeMutableValues { $0.update(repeating: t) }
        cachedTimePlane = (t, plane)
        return plane
    }

    /// The image in the top-left corner of a zero tensor of the padded size (rows copied whole;
    /// only the padding is zeroed).
    private func padded(_ image: RGBImage, width pw: Int, height ph: Int) -> Tensor {
        let w = image.width, h = image.height
        let t = Tensor(dims: 3, channels: 3, height: ph, width: pw, zeroed: false)
        t.withUnsafeMutableValues { dst in
            image.pixels.withUnsafeBufferPointer { src in
                let d0 = dst.baseAddress!, s0 = src.baseAddress!
                if pw == w && ph == h {
                    d0.update(from: s0, count: 3 * w * h)
                    return
                }
                for c in 0..<3 {
                    for y in 0..<h {
                        let d = d0 + (c * ph + y) * pw
                        d.update(from: s0 + (c * h + y) * w, count: w)
                        (d + w).update(repeating: 0, count: pw - w)
                    }
                    (d0 + (c * ph + h) * pw).update(repeating: 0, count: (ph - h) * pw)
                }
            }
        }
        return t
    }
}
