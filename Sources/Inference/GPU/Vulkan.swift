import CVulkan
import Foundation

// The one Swift choke point for Vulkan (with VulkanDevice.swift, its device half): every call into the loader's
// function table goes through these two files, every failing VkResult becomes a thrown `GPUError`, and no Vulkan or
// C type leaves them (GPUNet and the layers see `VulkanDevice`, `VulkanBuffer`, `ComputePipeline`, `CommandRecorder`).

/// Throws the `GPUError` for a failing VkResult (negative codes; VK_SUCCESS and the positive status codes pass).
func vkCheck(_ result: VkResult, _ call: @autoclosure () -> String) throws {
    guard result.rawValue < 0 else { return }
    switch result {
    case VK_ERROR_DEVICE_LOST: throw GPUError.deviceLost(call())
    case VK_ERROR_OUT_OF_DEVICE_MEMORY, VK_ERROR_OUT_OF_HOST_MEMORY, VK_ERROR_TOO_MANY_OBJECTS:
        throw GPUError.outOfDeviceMemory(call())
    case VK_ERROR_INCOMPATIBLE_DRIVER, VK_ERROR_INITIALIZATION_FAILED:
        throw GPUError.noDevice("\(call()) failed (VkResult \(result.rawValue)): no Vulkan driver that works with this loader")
    default: throw GPUError.failed(call: call(), result: result.rawValue)
    }
}

/// VK_MAKE_API_VERSION (a function-like macro, not imported into Swift).
func vkVersion(_ major: UInt32, _ minor: UInt32, _ patch: UInt32 = 0) -> UInt32 { (major << 22) | (minor << 12) | patch }

/// The elements of a fixed-size C array imported as a tuple.
func cArray<Tuple, Element>(_ tuple: Tuple, count: Int, of: Element.Type) -> [Element] {
    withUnsafeBytes(of: tuple) { Array($0.bindMemory(to: Element.self).prefix(count)) }
}

/// An opened loader and one VkInstance, with the function table resolved for it. One per loader library name for the
/// life of the process (creating an instance costs milliseconds and loads every driver).
final class VulkanInstance {
    /// The loader's file name, dlopen()ed at run time: the CPU engine never links libvulkan, and a binary carried to a
    /// GPU machine can bring its own loader on LD_LIBRARY_PATH.
    static let defaultLoader = "libvulkan.so.1"

    let vk: UnsafeMutablePointer<CVKTable>
    let instance: VkInstance
    let physicalDevices: [PhysicalDevice]

    struct PhysicalDevice {
        let handle: VkPhysicalDevice
        let properties: VkPhysicalDeviceProperties
        let memory: VkPhysicalDeviceMemoryProperties
        /// A queue family with compute, or nil (then the device cannot run us).
        let computeQueueFamily: UInt32?
        /// Bits of a timestamp written on that family's queues (0: no timestamps; then run times come from fences).
        let timestampValidBits: UInt32
        let fp16: Bool
        /// 16-bit storage buffers (storageBuffer16BitAccess): what fp16 blobs need (`GPUPrecision.fp16`).
        let storage16: Bool
        /// fp16 arithmetic in shaders (shaderFloat16 through VK_KHR_shader_float16_int8, which is enabled with it).
        let float16: Bool
        let cooperativeMatrix: Bool
        /// What vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR reports (empty without the extension).
        let cooperativeMatrixShapes: [CooperativeMatrixShape]
        /// VK_NV_cooperative_matrix, which the `conv3x3_coopmat` shader is written for (glslang 12 compiles only the NV
        /// GLSL extension): its subgroup-scope shapes (empty without the extension or its cooperativeMatrix and
        /// vulkanMemoryModel features), and the subgroup size (queried only with that extension, 0 otherwise).
        let nvCooperativeMatrixShapes: [CooperativeMatrixShape]
        let subgroupSize: Int
        var name: String { withUnsafeBytes(of: properties.deviceName) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) } }
        var memoryTypes: [VkMemoryType] { cArray(memory.memoryTypes, count: Int(memory.memoryTypeCount), of: VkMemoryType.self) }
        var memoryHeaps: [VkMemoryHeap] { cArray(memory.memoryHeaps, count: Int(memory.memoryHeapCount), of: VkMemoryHeap.self) }
        /// VkPhysicalDeviceType's value: 1 integrated, 2 discrete, 3 virtual, 4 CPU.
        var typeCode: UInt32 { properties.deviceType.rawValue }
        /// The largest device-local heap (any heap when none is marked device-local).
        var memoryBytes: UInt64 {
            let local = memoryHeaps.filter { $0.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT.rawValue != 0 }.map(\.size)
            return local.max() ?? memoryHeaps.map(\.size).max() ?? 0
        }
    }

    private static let lock = NSLock()
    private static var instances: [String: VulkanInstance] = [:]

    static func shared(loader: String = defaultLoader) throws -> VulkanInstance {
        lock.lock(); defer { lock.unlock() }
        if let existing = instances[loader] { return existing }
        let made = try VulkanInstance(loader: loader)
        instances[loader] = made
        return made
    }

    private init(loader: String) throws {
        let vk = UnsafeMutablePointer<CVKTable>.allocate(capacity: 1)
        var message = [CChar](repeating: 0, count: 512)
        guard cvk_open(loader, vk, &message, Int32(message.count)) == 0 else {
            vk.deallocate()
            throw GPUError.noLoader(String(cString: message))
        }
        var created: VkInstance?
        let result: VkResult = "lumiere".withCString { appName in
            var app = VkApplicationInfo()
            app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO
            app.pApplicationName = appName
            app.apiVersion = vkVersion(1, 1)  // 1.1: vkGetPhysicalDeviceFeatures2 (fp16 query) and storage-buffer basics
            return withUnsafePointer(to: &app) { appPointer in
                var info = VkInstanceCreateInfo()
                info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO
                info.pApplicationInfo = appPointer
                return vk.pointee.vkCreateInstance(&info, nil, &created)
            }
        }
        do {
            try vkCheck(result, "vkCreateInstance")
        } catch {
            cvk_close(vk); vk.deallocate(); throw error
        }
        guard let instance = created else { cvk_close(vk); vk.deallocate(); throw GPUError.noDevice("vkCreateInstance returned no instance") }
        if let missing = cvk_load_instance(vk, instance) {
            let name = String(cString: missing)
            vk.pointee.vkDestroyInstance?(instance, nil)
            cvk_close(vk); vk.deallocate()
            throw GPUError.noLoader("the loader lacks \(name) (Vulkan 1.1 or newer is needed)")
        }
        self.vk = vk
        self.instance = instance
        var count: UInt32 = 0
        try vkCheck(vk.pointee.vkEnumeratePhysicalDevices(instance, &count, nil), "vkEnumeratePhysicalDevices")
        var handles = [VkPhysicalDevice?](repeating: nil, count: Int(count))
        try vkCheck(vk.pointee.vkEnumeratePhysicalDevices(instance, &count, &handles), "vkEnumeratePhysicalDevices")
        physicalDevices = handles.prefix(Int(count)).compactMap { $0 }.map { VulkanInstance.describe($0, vk, instance) }
    }

    private static func describe(_ handle: VkPhysicalDevice, _ vk: UnsafeMutablePointer<CVKTable>, _ instance: VkInstance) -> PhysicalDevice {
        var properties = VkPhysicalDeviceProperties()
        vk.pointee.vkGetPhysicalDeviceProperties(handle, &properties)
        var memory = VkPhysicalDeviceMemoryProperties()
        vk.pointee.vkGetPhysicalDeviceMemoryProperties(handle, &memory)
        var familyCount: UInt32 = 0
        vk.pointee.vkGetPhysicalDeviceQueueFamilyProperties(handle, &familyCount, nil)
        var families = [VkQueueFamilyProperties](repeating: VkQueueFamilyProperties(), count: Int(familyCount))
        vk.pointee.vkGetPhysicalDeviceQueueFamilyProperties(handle, &familyCount, &families)
        let compute = families.prefix(Int(familyCount)).firstIndex { $0.queueFlags & VK_QUEUE_COMPUTE_BIT.rawValue != 0 }
        var float16: Int32 = 0, storage16: Int32 = 0
        if properties.apiVersion >= vkVersion(1, 1) { cvk_fp16_features(vk, handle, &float16, &storage16) }
        let coop = cvk_has_device_extension(vk, handle, "VK_KHR_cooperative_matrix") == 1
        let float16Extension = cvk_has_device_extension(vk, handle, "VK_KHR_shader_float16_int8") == 1
        var shapes: [CooperativeMatrixShape] = []
        if coop {
            // A failing query leaves the list empty: the listing then says "yes (no shapes reported)".
            var raw = [CVKCooperativeMatrixShape](repeating: CVKCooperativeMatrixShape(), count: 64)
            let n = Int(cvk_cooperative_matrix_shapes(vk, instance, handle, &raw, Int32(raw.count)))
            shapes = raw.prefix(max(0, min(n, raw.count))).map {
                CooperativeMatrixShape(m: Int($0.m), n: Int($0.n), k: Int($0.k), a: .init(vulkan: $0.a_type), b: .init(vulkan: $0.b_type),
                                       c: .init(vulkan: $0.c_type), result: .init(vulkan: $0.result_type))
            }
        }
        var nv = CVKNVCooperativeMatrix()
        cvk_nv_cooperative_matrix_support(vk, instance, handle, &nv)
        var nvShapes: [CooperativeMatrixShape] = []
        if nv.cooperative_matrix != 0 && nv.vulkan_memory_model != 0 {
            var raw = [CVKCooperativeMatrixShape](repeating: CVKCooperativeMatrixShape(), count: 64)
            let n = Int(cvk_nv_cooperative_matrix_shapes(vk, instance, handle, &raw, Int32(raw.count)))
            nvShapes = raw.prefix(max(0, min(n, raw.count))).map {
                CooperativeMatrixShape(m: Int($0.m), n: Int($0.n), k: Int($0.k), a: .init(vulkan: $0.a_type), b: .init(vulkan: $0.b_type),
                                       c: .init(vulkan: $0.c_type), result: .init(vulkan: $0.result_type))
            }
        }
        return PhysicalDevice(handle: handle, properties: properties, memory: memory, computeQueueFamily: compute.map { UInt32($0) },
                              timestampValidBits: compute.map { families[$0].timestampValidBits } ?? 0,
                              fp16: float16 != 0 && storage16 != 0, storage16: storage16 != 0,
                              float16: float16 != 0 && float16Extension, cooperativeMatrix: coop, cooperativeMatrixShapes: shapes,
                              nvCooperativeMatrixShapes: nvShapes, subgroupSize: Int(nv.subgroup_size))
    }
}
