/// Everything that can go wrong on the GPU backend, each with what to do about it. Raised by the one Vulkan choke point
/// (Vulkan.swift turns every failing `VkResult` into one of these) and by `GPUNet` when it loads a model.
public enum GPUError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No Vulkan loader (libvulkan.so.1) could be opened.
    case noLoader(String)
    /// The loader works but offers no usable device (or not the one asked for).
    case noDevice(String)
    /// The device was lost (driver reset, GPU hang, device removed): results of the run are gone.
    case deviceLost(String)
    /// An allocation on the device (or pinned host memory for it) failed.
    case outOfDeviceMemory(String)
    /// The model or the device needs something this backend does not do (a layer type, a parameter, a feature).
    case unsupported(String)
    /// The shaders are missing from this build, or the driver refused one.
    case shader(String)
    /// Any other Vulkan failure: the call and its VkResult.
    case failed(call: String, result: Int32)

    public var description: String {
        switch self {
        case let .noLoader(reason):
            return "no Vulkan loader (\(reason)): install libvulkan1 and a driver (mesa-vulkan-drivers, or the GPU vendor's), "
                + "or put libvulkan.so.1 on LD_LIBRARY_PATH; or run on the CPU engine"
        case let .noDevice(reason):
            return "no usable Vulkan device: \(reason) — check the driver (vulkaninfo --summary lists what Vulkan sees), or run on the CPU engine"
        case let .deviceLost(reason):
            return "the GPU was lost during \(reason) (driver reset, hang or removal): retry, on the CPU engine if it keeps failing"
        case let .outOfDeviceMemory(reason):
            return "out of GPU memory during \(reason): use smaller tiles, free the GPU from other work, or run on the CPU engine"
        case let .unsupported(reason):
            return "not supported on the GPU backend: \(reason) — run this model on the CPU engine"
        case let .shader(reason):
            return "GPU shaders: \(reason)"
        case let .failed(call, result):
            return "Vulkan call \(call) failed (VkResult \(result)): update the GPU driver, or run on the CPU engine"
        }
    }
}
