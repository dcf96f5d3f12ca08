import Foundation

/// What kind of device Vulkan reports.
public enum ComputeDeviceType: String, Sendable, Equatable {
    case discrete, integrated, virtual, cpu, other
}

/// One Vulkan device as `--list-devices` shows it.
public struct ComputeDeviceInfo: Sendable, Equatable, CustomStringConvertible {
    /// The index `gpu:N` and `GPUNet(net:device:)` take.
    public let index: Int
    public let name: String
    public let type: ComputeDeviceType
    /// The largest device-local memory heap in bytes (system memory for a CPU implementation).
    public let memoryBytes: UInt64
    /// fp16 arithmetic in shaders and 16-bit storage buffers.
    public let fp16: Bool
    /// VK_KHR_cooperative_matrix (tensor cores and their kin).
    public let cooperativeMatrix: Bool

    /// Public for tests that describe other machines (a discrete GPU beside lavapipe, none at all).
    public init(index: Int, name: String, type: ComputeDeviceType, memoryBytes: UInt64, fp16: Bool, cooperativeMatrix: Bool) {
        self.index = index; self.name = name; self.type = type
        self.memoryBytes = memoryBytes; self.fp16 = fp16; self.cooperativeMatrix = cooperativeMatrix
    }

    public var description: String {
        let gib = Double(memoryBytes) / Double(1 << 30)
        return "gpu:\(index)  \(name)  (\(type.rawValue), \(String(format: "%.1f", gib)) GiB, fp16 \(fp16 ? "yes" : "no"), "
            + "cooperative matrix \(cooperativeMatrix ? "yes" : "no"))"
    }
}

/// The Vulkan devices of this machine.
public enum ComputeDevices {
    /// Every device the Vulkan loader sees, in its order. Throws `GPUError.noLoader` without a loader and
    /// `GPUError.noDevice` when no driver works. `loaderLibrary` is the file dlopen() opens (a test hook; the default is
    /// libvulkan.so.1, found through LD_LIBRARY_PATH and the system paths).
    public static func list(loaderLibrary: String = "libvulkan.so.1") throws -> [ComputeDeviceInfo] {
        let instance = try VulkanInstance.shared(loader: loaderLibrary)
        return instance.physicalDevices.enumerated().map { index, device in
            ComputeDeviceInfo(index: index, name: device.name, type: deviceType(device.typeCode), memoryBytes: device.memoryBytes,
                              fp16: device.fp16, cooperativeMatrix: device.cooperativeMatrix)
        }
    }

    /// Whether this build carries the GPU shaders (built with glslangValidator present).
    public static var shadersAvailable: Bool { ShaderLibrary.isAvailable }

    /// VkPhysicalDeviceType's values (kept as numbers so that no Vulkan type leaves the choke point's files).
    static func deviceType(_ raw: UInt32) -> ComputeDeviceType {
        switch raw {
        case 1: return .integrated
        case 2: return .discrete
        case 3: return .virtual
        case 4: return .cpu
        default: return .other
        }
    }
}
