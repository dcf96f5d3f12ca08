import CVulkan
import Foundation

// The device half of the Vulkan choke point (see Vulkan.swift): a logical device with one compute queue, buffers,
// compute pipelines and command recording, all behind Swift types.

/// One logical device on one physical device, shared by every `GPUNet` on it for the life of the process.
final class VulkanDevice {
    let instance: VulkanInstance
    let index: Int
    let physical: VulkanInstance.PhysicalDevice
    let device: VkDevice
    private let queue: VkQueue
    let queueFamily: UInt32
    /// Memory type for tensors and weights (device-local when there is one) and for host transfers (host-visible, coherent).
    let deviceMemoryType: UInt32
    let hostMemoryType: UInt32
    /// 16-bit storage buffers are enabled on this device (fp16 blobs can be used).
    var has16BitStorage: Bool { physical.storage16 }
    /// fp16 arithmetic is enabled too (shaderFloat16 with 16-bit storage: the `_fp16a` shaders can run).
    var hasFP16Arithmetic: Bool { physical.storage16 && physical.float16 }
    /// VK_NV_cooperative_matrix was enabled with the shape and subgroup size `conv3x3_coopmat` needs
    /// (`CooperativeMatrixConvolution.usable`), and fp16 arithmetic with it.
    let hasCooperativeMatrixConvolution: Bool
    var vk: UnsafeMutablePointer<CVKTable> { instance.vk }
    /// vkQueueSubmit and the pipeline cache need external synchronisation: GPUNets on one device may run on several threads.
    private let queueLock = NSLock()
    private let pipelineLock = NSLock()
    private var pipelines: [String: ComputePipeline] = [:]

    private static let lock = NSLock()
    private static var devices: [String: VulkanDevice] = [:]

    /// The device at `index` in `ComputeDevices.list()` order, created on first use.
    static func shared(index: Int, loader: String = VulkanInstance.defaultLoader) throws -> VulkanDevice {
        let instance = try VulkanInstance.shared(loader: loader)
        lock.lock(); defer { lock.unlock() }
        let key = "\(loader)#\(index)"
        if let existing = devices[key] { return existing }
        guard instance.physicalDevices.indices.contains(index) else {
            throw GPUError.noDevice("device \(index) does not exist (\(instance.physicalDevices.count) found)")
        }
        let made = try VulkanDevice(instance: instance, index: index)
        devices[key] = made
        return made
    }

    private init(instance: VulkanInstance, index: Int) throws {
        self.instance = instance
        self.index = index
        let physical = instance.physicalDevices[index]
        self.physical = physical
        let vk = instance.vk
        guard let family = physical.computeQueueFamily else { throw GPUError.noDevice("\(physical.name) has no compute queue") }
        let types = physical.memoryTypes
        func find(_ wanted: UInt32) -> UInt32? {
            types.firstIndex { $0.propertyFlags & wanted == wanted }.map { UInt32($0) }
        }
        let hostFlags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue
        guard let host = find(hostFlags) else { throw GPUError.unsupported("\(physical.name) has no host-visible coherent memory") }
        hostMemoryType = host
        deviceMemoryType = find(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue) ?? host
        // What the device is created with, where offered: 16-bit storage buffers (core in Vulkan 1.1, off unless
        // enabled), which fp16 blobs need; shaderFloat16 (VK_KHR_shader_float16_int8, as we ask for Vulkan 1.1), which
        // fp16 arithmetic needs; and for the cooperative-matrix convolution VK_NV_cooperative_matrix with the Vulkan
        // memory model (glslang declares it in every cooperative-matrix module). The feature structs are chained in
        // heap memory, freed when the call returns.
        let arithmetic = physical.storage16 && physical.float16
        let coopMat = arithmetic && CooperativeMatrixConvolution.usable(nvShapes: physical.nvCooperativeMatrixShapes,
                                                                         subgroupSize: physical.subgroupSize)
        let storage16 = UnsafeMutablePointer<VkPhysicalDevice16BitStorageFeatures>.allocate(capacity: 1)
        let float16 = UnsafeMutablePointer<VkPhysicalDeviceShaderFloat16Int8Features>.allocate(capacity: 1)
        let nvCoop = UnsafeMutablePointer<VkPhysicalDeviceCooperativeMatrixFeaturesNV>.allocate(capacity: 1)
        let memoryModel = UnsafeMutablePointer<VkPhysicalDeviceVulkanMemoryModelFeatures>.allocate(capacity: 1)
        let priority = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        let queueInfo = UnsafeMutablePointer<VkDeviceQueueCreateInfo>.allocate(capacity: 1)
        let extensions = (arithmetic ? ["VK_KHR_shader_float16_int8"] : []) + (coopMat ? ["VK_NV_cooperative_matrix", "VK_KHR_vulkan_memory_model"] : [])
        let cNames: [UnsafePointer<CChar>?] = extensions.map { UnsafePointer(strdup($0)) }
        defer {
            storage16.deallocate(); float16.deallocate(); nvCoop.deallocate(); memoryModel.deallocate(); priority.deallocate()
            queueInfo.deallocate(); for n in cNames { free(UnsafeMutableRawPointer(mutating: n)) }
        }
        priority.initialize(to: 1)
        queueInfo.initialize(to: VkDeviceQueueCreateInfo())
        queueInfo.pointee.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO
        queueInfo.pointee.queueFamilyIndex = family
        queueInfo.pointee.queueCount = 1
        queueInfo.pointee.pQueuePriorities = UnsafePointer(priority)
        storage16.initialize(to: VkPhysicalDevice16BitStorageFeatures())
        storage16.pointee.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES
        storage16.pointee.storageBuffer16BitAccess = VkBool32(physical.storage16 ? VK_TRUE : VK_FALSE)
        float16.initialize(to: VkPhysicalDeviceShaderFloat16Int8Features())
        float16.pointee.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES
        float16.pointee.shaderFloat16 = VkBool32(VK_TRUE)
        nvCoop.initialize(to: VkPhysicalDeviceCooperativeMatrixFeaturesNV())
        nvCoop.pointee.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV
        nvCoop.pointee.cooperativeMatrix = VkBool32(VK_TRUE)
        memoryModel.initialize(to: VkPhysicalDeviceVulkanMemoryModelFeatures())
        memoryModel.pointee.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES
        memoryModel.pointee.vulkanMemoryModel = VkBool32(VK_TRUE)
        if arithmetic { storage16.pointee.pNext = UnsafeMutableRawPointer(float16) }
        if coopMat { float16.pointee.pNext = UnsafeMutableRawPointer(nvCoop); nvCoop.pointee.pNext = UnsafeMutableRawPointer(memoryModel) }
        var created: VkDevice?
        try cNames.withUnsafeBufferPointer { list in
            var info = VkDeviceCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO
            info.pNext = UnsafeRawPointer(storage16)
            info.queueCreateInfoCount = 1
            info.pQueueCreateInfos = UnsafePointer(queueInfo)
            info.enabledExtensionCount = UInt32(list.count)
            info.ppEnabledExtensionNames = list.isEmpty ? nil : UnsafePointer(list.baseAddress)
            try vkCheck(vk.pointee.vkCreateDevice(physical.handle, &info, nil, &created), "vkCreateDevice on \(physical.name)")
        }
        hasCooperativeMatrixConvolution = coopMat
        guard let device = created else { throw GPUError.noDevice("vkCreateDevice returned no device") }
        self.device = device
        var q: VkQueue?
        vk.pointee.vkGetDeviceQueue(device, family, 0, &q)
        guard let q else { throw GPUError.noDevice("\(physical.name) gave no compute queue") }
        queue = q
        queueFamily = family
    }

    var name: String { physical.name }

    // MARK: Buffers

    /// A storage buffer of `bytes` (≥ 4) in device memory, or in host-visible memory (mapped) when `host`.
    func makeBuffer(bytes: Int, host: Bool) throws -> VulkanBuffer {
        let size = max(4, (bytes + 3) & ~3)
        try GPUFaultInjection.checkAllocation(bytes: size, "allocating \(size) bytes")
        var info = VkBufferCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        info.size = VkDeviceSize(size)
        info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_SRC_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_DST_BIT.rawValue
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE
        var buffer: VkBuffer?
        try vkCheck(vk.pointee.vkCreateBuffer(device, &info, nil, &buffer), "vkCreateBuffer(\(size) bytes)")
        var requirements = VkMemoryRequirements()
        vk.pointee.vkGetBufferMemoryRequirements(device, buffer, &requirements)
        let wanted = host ? hostMemoryType : deviceMemoryType
        guard requirements.memoryTypeBits & (1 << wanted) != 0 else {
            vk.pointee.vkDestroyBuffer(device, buffer, nil)
            throw GPUError.unsupported("\(name) cannot place storage buffers in memory type \(wanted)")
        }
        var allocation = VkMemoryAllocateInfo()
        allocation.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
        allocation.allocationSize = requirements.size
        allocation.memoryTypeIndex = wanted
        var memory: VkDeviceMemory?
        do {
            try vkCheck(vk.pointee.vkAllocateMemory(device, &allocation, nil, &memory), "allocating \(size) bytes")
            try vkCheck(vk.pointee.vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory")
        } catch {
            vk.pointee.vkDestroyBuffer(device, buffer, nil)
            if memory != nil { vk.pointee.vkFreeMemory(device, memory, nil) }
            throw error
        }
        var mapped: UnsafeMutableRawPointer?
        if host {
            let r = vk.pointee.vkMapMemory(device, memory, 0, VkDeviceSize(VK_WHOLE_SIZE), 0, &mapped)
            if r.rawValue < 0 { vk.pointee.vkDestroyBuffer(device, buffer, nil); vk.pointee.vkFreeMemory(device, memory, nil) }
            try vkCheck(r, "vkMapMemory")
        }
        return VulkanBuffer(device: self, buffer: buffer!, memory: memory!, bytes: size, mapped: mapped)
    }

    fileprivate func destroy(_ b: VulkanBuffer) {
        if b.mapped != nil { vk.pointee.vkUnmapMemory(device, b.memory) }
        vk.pointee.vkDestroyBuffer(device, b.buffer, nil)
        vk.pointee.vkFreeMemory(device, b.memory, nil)
    }

    // MARK: Pipelines

    /// The compute pipeline of shader `name` (GPU/Shaders/name.comp) with `bindings` storage buffers at bindings
    /// 0..<bindings and up to 128 bytes of push constants; built once per device.
    func pipeline(_ name: String, bindings: Int) throws -> ComputePipeline {
        pipelineLock.lock(); defer { pipelineLock.unlock() }
        if let p = pipelines[name] { return p }
        let code = try ShaderLibrary.spirv(name)
        var module: VkShaderModule?
        try code.withUnsafeBufferPointer { words in
            var info = VkShaderModuleCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO
            info.codeSize = words.count * 4
            info.pCode = words.baseAddress
            let r = vk.pointee.vkCreateShaderModule(device, &info, nil, &module)
            if r.rawValue < 0, r != VK_ERROR_OUT_OF_HOST_MEMORY, r != VK_ERROR_OUT_OF_DEVICE_MEMORY {
                throw GPUError.shader("the driver refused shader \(name) (VkResult \(r.rawValue)): update the driver")
            }
            try vkCheck(r, "vkCreateShaderModule(\(name))")
        }
        defer { vk.pointee.vkDestroyShaderModule(device, module, nil) }
        var layoutBindings = (0..<bindings).map { i -> VkDescriptorSetLayoutBinding in
            var b = VkDescriptorSetLayoutBinding()
            b.binding = UInt32(i)
            b.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
            b.descriptorCount = 1
            b.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
            return b
        }
        var setLayout: VkDescriptorSetLayout?
        var setInfo = VkDescriptorSetLayoutCreateInfo()
        setInfo.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
        setInfo.bindingCount = UInt32(bindings)
        try layoutBindings.withUnsafeMutableBufferPointer { b in
            setInfo.pBindings = UnsafePointer(b.baseAddress)
            try vkCheck(vk.pointee.vkCreateDescriptorSetLayout(device, &setInfo, nil, &setLayout), "vkCreateDescriptorSetLayout")
        }
        var range = VkPushConstantRange(stageFlags: VK_SHADER_STAGE_COMPUTE_BIT.rawValue, offset: 0, size: UInt32(ComputePipeline.pushBytes))
        var layout: VkPipelineLayout?
        try withUnsafePointer(to: &setLayout) { sl in
            var info = VkPipelineLayoutCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO
            info.setLayoutCount = 1
            info.pSetLayouts = sl
            info.pushConstantRangeCount = 1
            try withUnsafePointer(to: &range) { r in
                info.pPushConstantRanges = r
                try vkCheck(vk.pointee.vkCreatePipelineLayout(device, &info, nil, &layout), "vkCreatePipelineLayout")
            }
        }
        var pipeline: VkPipeline?
        try "main".withCString { entry in
            var stage = VkPipelineShaderStageCreateInfo()
            stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO
            stage.stage = VK_SHADER_STAGE_COMPUTE_BIT
            stage.module = module
            stage.pName = entry
            var info = VkComputePipelineCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO
            info.stage = stage
            info.layout = layout
            try vkCheck(vk.pointee.vkCreateComputePipelines(device, nil, 1, &info, nil, &pipeline), "vkCreateComputePipelines(\(name))")
        }
        let made = ComputePipeline(name: name, pipeline: pipeline!, layout: layout!, setLayout: setLayout!, bindings: bindings)
        pipelines[name] = made
        return made
    }

    // MARK: Submission

    /// Submits `commands` and waits for it to finish (a fence per submission).
    func submitAndWait(_ commands: VkCommandBuffer, what: String) throws {
        try wait(try submit(commands, what: what), what: what)
    }

    /// Submits `commands` and returns at once; `wait(_:what:)` must be called on the fence (it also destroys it).
    func submit(_ commands: VkCommandBuffer, what: String) throws -> VkFence {
        try GPUFaultInjection.check(.submit, what)
        var fenceInfo = VkFenceCreateInfo()
        fenceInfo.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO
        var fence: VkFence?
        try vkCheck(vk.pointee.vkCreateFence(device, &fenceInfo, nil, &fence), "vkCreateFence")
        var submitted = false
        defer { if !submitted { vk.pointee.vkDestroyFence(device, fence, nil) } }
        var buffer: VkCommandBuffer? = commands
        try withUnsafePointer(to: &buffer) { b in
            var submit = VkSubmitInfo()
            submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO
            submit.commandBufferCount = 1
            submit.pCommandBuffers = b
            queueLock.lock()
            let r = vk.pointee.vkQueueSubmit(queue, 1, &submit, fence)
            queueLock.unlock()
            try vkCheck(r, "vkQueueSubmit (\(what))")
        }
        submitted = true
        return fence!
    }

    /// Waits for a submission's fence, then destroys it.
    func wait(_ fence: VkFence, what: String) throws {
        var f: VkFence? = fence
        defer { vk.pointee.vkDestroyFence(device, fence, nil) }
        try vkCheck(vk.pointee.vkWaitForFences(device, 1, &f, VkBool32(VK_TRUE), UInt64.max), what)
    }
}

/// A storage buffer and its memory, freed when the last reference goes.
final class VulkanBuffer {
    let device: VulkanDevice
    let buffer: VkBuffer
    let memory: VkDeviceMemory
    let bytes: Int
    /// The host mapping of a host-visible buffer (staging), nil for device memory.
    let mapped: UnsafeMutableRawPointer?

    fileprivate init(device: VulkanDevice, buffer: VkBuffer, memory: VkDeviceMemory, bytes: Int, mapped: UnsafeMutableRawPointer?) {
        self.device = device; self.buffer = buffer; self.memory = memory; self.bytes = bytes; self.mapped = mapped
    }

    deinit { device.destroy(self) }
}

/// A compute shader bound to its descriptor-set layout (storage buffers only) and a 128-byte push-constant block.
final class ComputePipeline {
    /// Vulkan guarantees at least 128 bytes of push constants on every device.
    static let pushBytes = 128
    let name: String
    let pipeline: VkPipeline
    let layout: VkPipelineLayout
    let setLayout: VkDescriptorSetLayout
    let bindings: Int

    fileprivate init(name: String, pipeline: VkPipeline, layout: VkPipelineLayout, setLayout: VkDescriptorSetLayout, bindings: Int) {
        self.name = name; self.pipeline = pipeline; self.layout = layout; self.setLayout = setLayout; self.bindings = bindings
    }
}
