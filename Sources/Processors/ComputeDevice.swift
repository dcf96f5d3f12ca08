import Foundation
import Inference

/// `--device auto|cpu|gpu[:N]`: where a worker (or `restore --in-process`) runs its models. A per-worker choice, never
/// part of the recipe: the GPU backend gives the CPU engine's results up to float rounding, so resume keys and the
/// recipe do not change with it.
public enum DeviceRequest: Equatable, Sendable, CustomStringConvertible {
    /// A real GPU (discrete, then integrated, then virtual) when Vulkan offers one, else the CPU engine. A CPU Vulkan
    /// implementation (lavapipe, llvmpipe) is never picked: it is slower than our own CPU engine.
    case auto
    /// The CPU engine.
    case cpu
    /// `gpu`: the first real GPU, as `auto` picks it; an error when there is none.
    case anyGPU
    /// `gpu:N`: device N as `--list-devices` numbers them, whatever its type (lavapipe included).
    case gpu(Int)

    /// The spellings `--device` takes (for the parse-time refusal and `--help`).
    public static let spellings = ["auto", "cpu", "gpu", "gpu:N"]

    public init?(parsing text: String) {
        switch text {
        case "auto": self = .auto
        case "cpu": self = .cpu
        case "gpu": self = .anyGPU
        default:
            // gpu:N with N a small decimal number (no sign, no spaces): the index into Vulkan's device list.
            let digits = text.dropFirst(4)
            guard text.hasPrefix("gpu:"), (1...2).contains(digits.count), digits.allSatisfy({ ("0"..."9").contains($0) }),
                  let n = Int(digits) else { return nil }
            self = .gpu(n)
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .cpu: return "cpu"
        case .anyGPU: return "gpu"
        case .gpu(let n): return "gpu:\(n)"
        }
    }

    /// The device this request names on this machine, and a note for the log when `auto` settles for the CPU.
    /// `devices` and `shadersAvailable` are the machine's (parameters for the tests). `auto` never fails; `gpu` and
    /// `gpu:N` throw `DeviceError` / `GPUError` saying what is missing.
    public func resolve(devices: () throws -> [ComputeDeviceInfo] = { try ComputeDevices.list() },
                        shadersAvailable: Bool = ComputeDevices.shadersAvailable) throws -> (device: ComputeDevice, note: String?) {
        if self == .cpu { return (.cpu, nil) }
        guard shadersAvailable else {
            let why = "this build has no GPU shaders (glslangValidator was missing when it was built)"
            if self == .auto { return (.cpu, "\(why): the CPU engine runs the models") }
            throw GPUError.shader("\(why): install glslang-tools and rebuild, or use --device cpu")
        }
        let list: [ComputeDeviceInfo]
        do { list = try devices() } catch let error as GPUError {
            if self == .auto { return (.cpu, "no GPU (\(error)): the CPU engine runs the models") }
            throw error
        }
        switch self {
        case .cpu: return (.cpu, nil)
        case .gpu(let n):
            guard let info = list.first(where: { $0.index == n }) else {
                throw DeviceError.noSuchDevice(requested: n, available: list)
            }
            return (.gpu(info), nil)
        case .auto, .anyGPU:
            if let best = DeviceRequest.bestGPU(list) { return (.gpu(best), nil) }
            if self == .anyGPU { throw DeviceError.noRealGPU(available: list) }
            let cpuOnes = list.filter { $0.type == .cpu }.map { "gpu:\($0.index) \($0.name)" }
            return (.cpu, cpuOnes.isEmpty ? "no GPU: the CPU engine runs the models"
                : "no GPU (only the CPU Vulkan implementation \(cpuOnes.joined(separator: ", ")), slower than our CPU engine; "
                    + "ask for it with --device gpu:N): the CPU engine runs the models")
        }
    }

    /// The real GPU `auto` takes: discrete, then integrated, then virtual; the first of a kind in Vulkan's order.
    static func bestGPU(_ list: [ComputeDeviceInfo]) -> ComputeDeviceInfo? {
        for kind in [ComputeDeviceType.discrete, .integrated, .virtual] {
            if let d = list.first(where: { $0.type == kind }) { return d }
        }
        return nil
    }
}

extension GPUPrecision {
    /// The note for the log when `--precision` names fp16 and the models run on the CPU engine, or nil.
    public func note(for engine: ComputeDevice) -> String? {
        guard self != .fp32, !engine.isGPU else { return nil }
        return "--precision \(rawValue) is ignored on the CPU engine, which computes in fp32"
    }
}

/// A `--device` that cannot be honoured on this machine.
public enum DeviceError: Error, CustomStringConvertible, Equatable {
    case noSuchDevice(requested: Int, available: [ComputeDeviceInfo])
    case noRealGPU(available: [ComputeDeviceInfo])

    public var description: String {
        switch self {
        case let .noSuchDevice(n, list):
            return "there is no gpu:\(n): Vulkan sees \(list.count) device(s)\(DeviceError.names(list)); see --list-devices, or use --device auto"
        case let .noRealGPU(list):
            return "--device gpu: no discrete, integrated or virtual GPU\(DeviceError.names(list)); name a device with --device gpu:N "
                + "(see --list-devices), or use --device auto or cpu"
        }
    }

    private static func names(_ list: [ComputeDeviceInfo]) -> String {
        list.isEmpty ? "" : " (" + list.map { "gpu:\($0.index) \($0.name), \($0.type.rawValue)" }.joined(separator: "; ") + ")"
    }
}

/// The engine that runs a worker's models: the CPU engine or one Vulkan device.
public enum ComputeDevice: Equatable, Sendable, CustomStringConvertible {
    case cpu
    case gpu(ComputeDeviceInfo)

    /// What a worker reports when it registers and the live view shows: `cpu` or `gpu:0 NAME (type)`.
    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .gpu(let d): return "gpu:\(d.index) \(d.name) (\(d.type.rawValue))"
        }
    }

    public var isGPU: Bool { if case .gpu = self { return true } else { return false } }

    /// What runs `net` (the model `model`) here: `net` itself on the CPU (which computes in fp32 whatever `precision`
    /// says), a `GPUNet` (weights uploaded now) storing its blobs in `precision` on a Vulkan device — or, with a
    /// `fallback` line for the log: fp32 blobs when the device has no 16-bit storage for fp16 ones, `net` when the GPU
    /// backend lacks one of its layers (a layer type without a shader yet). Not faults: the results are the same (up to
    /// fp16's rounding). Other `GPUError`s are thrown.
    public func runner(for net: Net, model: String, precision: GPUPrecision = .fp32)
        throws -> (runner: InferenceRunner, device: ComputeDevice, fallback: String?) {
        switch self {
        case .cpu: return (net, .cpu, nil)
        case .gpu(let d):
            do {
                return (try GPUNet(net: net, device: d.index, precision: precision), self, nil)
            } catch GPUError.unsupported(let why) where precision != .fp32 && !d.fp16 {
                let fp32 = try runner(for: net, model: model, precision: .fp32)
                return (fp32.runner, fp32.device, fp32.fallback ?? "\(model) runs in fp32 on \(self), not \(precision): \(why)")
            } catch GPUError.unsupported(let why) {
                return (net, .cpu, "\(model) runs on the CPU engine, not \(self): the GPU backend cannot run it yet (\(why))")
            }
        }
    }

    /// The tile side (input pixels) when the recipe leaves it to the worker: the CPU engine's 256, or on a GPU as
    /// large as a quarter of the device's memory and one storage buffer allow (`GPUTileSize`).
    public var defaultTileSize: Int {
        switch self {
        case .cpu: return 256
        case .gpu(let d): return GPUTileSize.forMemory(d.memoryBytes)
        }
    }
}

/// Tile sides from a device's memory: big tiles keep a GPU busy (one submission per tile, and less overlap work), but
/// every tile's blobs must fit. Measured on lavapipe with `GPUNet.bufferBytes` after one tile of realesr-animevideov3
/// ×2 (64 channels): 1209 bytes of device buffers per input pixel on a 96x96 tile, 1212 on 48x48 with the direct
/// convolution shaders, 2796 on 48x48 with Winograd F(4,3) (its transformed input and products, 36 / 16 of a blob
/// each; `DeviceChoiceTests.testTheTileEstimateCoversWhatATileHoldsOnTheDevice` keeps the estimate honest); 4 KiB here
/// leaves room for wider models and the driver's own use.
public enum GPUTileSize {
    static let bytesPerInputPixel: UInt64 = 4096
    /// At most a quarter of the device's memory, and never more than 4 GiB (other work shares a big GPU).
    static let maxBudget: UInt64 = 4 << 30
    /// One blob is one storage buffer, and Vulkan promises only 2^27 bytes (maxStorageBufferRange; NVIDIA gives 4 GiB,
    /// some AMD and Intel drivers the minimum): a 64-channel fp32 blob fits up to 724 pixels a side. A larger tile
    /// would be refused by the backend (`GPUError.unsupported`); past ~700 the overlap saved is under 10 % anyway
    /// (context 16 px: (704 + 32)² / 704² = 1.09).
    static let maxSide = 704

    public static func forMemory(_ bytes: UInt64) -> Int {
        let budget = min(bytes / 4, maxBudget)
        let side = Int(Double(budget / bytesPerInputPixel).squareRoot())
        // Multiples of 32 (the catalogue's tile sizes are), within RenderRecipe's 32...8192.
        return min(maxSide, max(64, side / 32 * 32))
    }
}

/// Which device a worker process uses now: the one `--device` resolved to, until a GPU fault in the middle of a
/// segment (device lost, out of device memory, a failed Vulkan call) leaves the worker on the CPU engine for the rest
/// of its life. The failed segment is handed back (its attempt fails with `DeviceFault`'s message) and retried, on the
/// CPU engine when it comes back to this worker. Thread-safe.
public final class DeviceSelection: @unchecked Sendable {
    /// What `--device` resolved to at start-up (what the worker registers with).
    public let initial: ComputeDevice
    /// `--precision`: how a GPU stores the blobs (the CPU engine computes in fp32 whatever this says).
    public let precision: GPUPrecision
    private let lock = NSLock()
    private var device: ComputeDevice
    private var said = Set<String>()
    private let log: @Sendable (_ message: String, _ fault: Bool) -> Void

    /// `log` gets each note once (a fallback said for every segment would drown the log); `fault` marks a GPU fault.
    public init(_ device: ComputeDevice, precision: GPUPrecision = .fp32,
                log: @escaping @Sendable (_ message: String, _ fault: Bool) -> Void = { _, _ in }) {
        initial = device
        self.precision = precision
        self.device = device
        self.log = log
    }

    public var current: ComputeDevice { lock.withLock { device } }

    /// Runs `body` (a segment's work) on the current device. A `GPUError` from a GPU fails it with a `DeviceFault`
    /// and leaves this selection on the CPU engine: the caller hands the segment back, or renders it again.
    public func run<T>(_ body: (ComputeDevice) throws -> T) throws -> T {
        let engine = current
        do {
            return try body(engine)
        } catch let error as GPUError where engine.isGPU {
            throw gpuFailed(error)
        }
    }

    /// Logs `message` unless it was logged before.
    public func note(_ message: String) { say(message, fault: false) }

    private func say(_ message: String, fault: Bool) {
        let fresh = lock.withLock { said.insert(message).inserted }
        if fresh { log(message, fault) }
    }

    /// After `error` on the GPU: the CPU engine from now on. Returns the fault to fail the segment's attempt with.
    public func gpuFailed(_ error: GPUError) -> DeviceFault {
        let lost: ComputeDevice = lock.withLock {
            let was = device
            device = .cpu
            return was
        }
        let fault = DeviceFault(device: lost.description, error: error)
        say(fault.description, fault: true)
        return fault
    }
}

/// A GPU failure in the middle of a segment: the attempt fails with this message, the coordinator retries it.
public struct DeviceFault: Error, CustomStringConvertible, Equatable {
    public let device: String
    public let error: GPUError
    public var description: String {
        "GPU fault on \(device): \(error) — the segment is retried on the CPU engine, which runs this worker's models from now on"
    }
}

/// `--list-devices`: the CPU engine and every Vulkan device, one per line, with what is missing said plainly.
public enum DeviceListing {
    public static func lines(devices: () throws -> [ComputeDeviceInfo] = { try ComputeDevices.list() },
                             shadersAvailable: Bool = ComputeDevices.shadersAvailable) -> [String] {
        var out = ["cpu    the CPU engine (\(ProcessInfo.processInfo.activeProcessorCount) cores)"]
        do {
            let list = try devices()
            if list.isEmpty { out.append("no device: the Vulkan loader sees no device (install mesa-vulkan-drivers or the GPU's driver)") }
            out += list.map(\.description)
            if !shadersAvailable { out.append("note: this build has no GPU shaders (install glslang-tools and rebuild); only the CPU engine can run") }
            let auto = (try? DeviceRequest.auto.resolve(devices: { list }, shadersAvailable: shadersAvailable).device) ?? .cpu
            out.append("--device auto uses: \(auto)")
        } catch let error as GPUError {
            switch error {
            case .noLoader: out.append("no Vulkan loader: \(error)")
            case .noDevice: out.append("no device: \(error)")
            default: out.append("Vulkan: \(error)")
            }
            out.append("--device auto uses: cpu")
        } catch {
            out.append("Vulkan: \(error)")
            out.append("--device auto uses: cpu")
        }
        return out
    }
}
