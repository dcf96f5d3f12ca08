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
    /// The shapes the device reports for it (vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR); empty without it.
    public let cooperativeMatrixShapes: [CooperativeMatrixShape]
    /// VK_NV_cooperative_matrix's subgroup-scope shapes (empty without it, or without its cooperativeMatrix and
    /// vulkanMemoryModel features), and the subgroup size (0 when not queried: only with that extension).
    public let nvCooperativeMatrixShapes: [CooperativeMatrixShape]
    public let subgroupSize: Int
    /// Whether the cooperative-matrix 3×3 convolution can run here (`CooperativeMatrixConvolution.usable`, with fp16).
    public var cooperativeMatrixConvolution: Bool {
        fp16 && CooperativeMatrixConvolution.usable(nvShapes: nvCooperativeMatrixShapes, subgroupSize: subgroupSize)
    }

    /// Public for tests that describe other machines (a discrete GPU beside lavapipe, none at all).
    public init(index: Int, name: String, type: ComputeDeviceType, memoryBytes: UInt64, fp16: Bool, cooperativeMatrix: Bool,
                cooperativeMatrixShapes: [CooperativeMatrixShape] = [], nvCooperativeMatrixShapes: [CooperativeMatrixShape] = [],
                subgroupSize: Int = 0) {
        self.index = index; self.name = name; self.type = type
        self.memoryBytes = memoryBytes; self.fp16 = fp16; self.cooperativeMatrix = cooperativeMatrix
        self.cooperativeMatrixShapes = cooperativeMatrixShapes
        self.nvCooperativeMatrixShapes = nvCooperativeMatrixShapes; self.subgroupSize = subgroupSize
    }

    public var description: String {
        let gib = Double(memoryBytes) / Double(1 << 30)
        return "gpu:\(index)  \(name)  (\(type.rawValue), \(String(format: "%.1f", gib)) GiB, fp16 \(fp16 ? "yes" : "no"), \(cooperativeMatrixColumn))"
    }

    /// `cooperative matrix no`, or `yes` with the KHR extension's fp16 and 8-bit integer shapes (the ones our models
    /// could use; each once, in the driver's order) and how many others the device reports. A device with the NV
    /// extension gets its shapes listed the same way after `NV:`, then whether our cooperative-matrix convolution can
    /// run there (`coopmat conv3x3 yes`: with --precision fp16 and LUMIERE_GPU_COOPMAT=on).
    public var cooperativeMatrixColumn: String {
        func list(_ shapes: [CooperativeMatrixShape]) -> String {
            var listed: [String] = []
            for shape in shapes where [.fp16, .int8, .uint8].contains(shape.a) && !listed.contains(shape.description) {
                listed.append(shape.description)
            }
            let others = shapes.filter { ![.fp16, .int8, .uint8].contains($0.a) }.count
            if others > 0 { listed.append("\(others) other shape\(others == 1 ? "" : "s")") }
            return listed.joined(separator: ", ")
        }
        var column = !cooperativeMatrix ? "cooperative matrix no" : cooperativeMatrixShapes.isEmpty
            ? "cooperative matrix yes (no shapes reported)" : "cooperative matrix yes: " + list(cooperativeMatrixShapes)
        if !nvCooperativeMatrixShapes.isEmpty {
            column += "; NV: \(list(nvCooperativeMatrixShapes)); coopmat conv3x3 \(cooperativeMatrixConvolution ? "yes" : "no")"
        }
        return column
    }
}

/// One VK_KHR_cooperative_matrix shape: result (M×N) = A (M×K) · B (K×N) + C, with the component types of each.
public struct CooperativeMatrixShape: Sendable, Equatable, CustomStringConvertible {
    public enum Component: String, Sendable, Equatable {
        case fp16, fp32, fp64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, other

        /// VkComponentTypeKHR's values (the NV extension's are the same).
        public init(vulkan raw: Int32) {
            let order: [Component] = [.fp16, .fp32, .fp64, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64]
            self = order.indices.contains(Int(raw)) ? order[Int(raw)] : .other
        }
    }
    public let m: Int, n: Int, k: Int
    public let a: Component, b: Component, c: Component, result: Component

    public init(m: Int, n: Int, k: Int, a: Component, b: Component, c: Component, result: Component) {
        self.m = m; self.n = n; self.k = k; self.a = a; self.b = b; self.c = c; self.result = result
    }

    /// `fp16 16x16x16->fp32` (M x N x K, inputs -> result); `int8/uint8 …` when A and B differ.
    public var description: String {
        "\(a == b ? a.rawValue : "\(a.rawValue)/\(b.rawValue)") \(m)x\(n)x\(k)->\(result.rawValue)"
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
                              fp16: device.fp16, cooperativeMatrix: device.cooperativeMatrix,
                              cooperativeMatrixShapes: device.cooperativeMatrixShapes,
                              nvCooperativeMatrixShapes: device.nvCooperativeMatrixShapes, subgroupSize: device.subgroupSize)
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
