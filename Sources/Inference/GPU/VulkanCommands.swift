import CVulkan
import Dispatch

// Command recording, the third file of the Vulkan choke point (Vulkan.swift, VulkanDevice.swift).

/// One reusable command buffer with its descriptor sets: `begin`, record dispatches / copies / barriers, then
/// `submitAndWait`. Descriptor sets come from pools that are reset at each `begin` (a run allocates one per dispatch).
final class CommandRecorder {
    let device: VulkanDevice
    /// Its own command pool: pools are externally synchronised, and GPUNets on one device may record on several threads.
    private let commandPool: VkCommandPool
    private let commands: VkCommandBuffer
    private var pools: [VkDescriptorPool] = []
    private var currentPool = 0
    private var vk: UnsafeMutablePointer<CVKTable> { device.vk }
    private let maxGroups: [UInt32]
    /// The largest buffer a storage-buffer descriptor may cover (4 GiB on NVIDIA, 128 MiB guaranteed).
    private let maxBufferBytes: Int
    /// Dispatches recorded since `begin` (tests and profiling).
    private(set) var dispatchCount = 0
    /// Two timestamps around each submission (nil when the compute queue writes none: `timestampValidBits` 0).
    private let timestamps: VkQueryPool?
    /// Seconds the last submission took on the device: from its timestamps (the first command starting to the last
    /// finishing), or from submit to the fence's signal where the queue has no timestamps (`deviceTimeFromTimestamps`).
    private(set) var lastDeviceSeconds: Double = 0
    var deviceTimeFromTimestamps: Bool { timestamps != nil }
    /// The last submission's start and end on the device's clock, in seconds (timestamps only; nil otherwise).
    private(set) var lastDeviceInterval: (start: Double, end: Double)?
    private var fence: VkFence?
    private var submittedAt: UInt64 = 0

    private static let setsPerPool: UInt32 = 256, buffersPerSet: UInt32 = 8

    init(device: VulkanDevice) throws {
        self.device = device
        var poolInfo = VkCommandPoolCreateInfo()
        poolInfo.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO
        poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT.rawValue
        poolInfo.queueFamilyIndex = device.queueFamily
        var pool: VkCommandPool?
        try vkCheck(device.vk.pointee.vkCreateCommandPool(device.device, &poolInfo, nil, &pool), "vkCreateCommandPool")
        commandPool = pool!
        var info = VkCommandBufferAllocateInfo()
        info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO
        info.commandPool = commandPool
        info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY
        info.commandBufferCount = 1
        var buffer: VkCommandBuffer?
        do {
            try vkCheck(device.vk.pointee.vkAllocateCommandBuffers(device.device, &info, &buffer), "vkAllocateCommandBuffers")
        } catch {
            device.vk.pointee.vkDestroyCommandPool(device.device, commandPool, nil); throw error
        }
        commands = buffer!
        maxGroups = cArray(device.physical.properties.limits.maxComputeWorkGroupCount, count: 3, of: UInt32.self)
        maxBufferBytes = Int(device.physical.properties.limits.maxStorageBufferRange)
        var queryPool: VkQueryPool?
        if device.physical.timestampValidBits > 0, device.physical.properties.limits.timestampPeriod > 0 {
            var info = VkQueryPoolCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO
            info.queryType = VK_QUERY_TYPE_TIMESTAMP
            info.queryCount = 2
            // Without a pool the times come from fences: not worth failing a run over.
            if device.vk.pointee.vkCreateQueryPool(device.device, &info, nil, &queryPool) != VK_SUCCESS { queryPool = nil }
        }
        timestamps = queryPool
    }

    deinit {
        if let fence { try? device.wait(fence, what: "releasing a command buffer") }  // never free what the GPU still runs
        if let timestamps { vk.pointee.vkDestroyQueryPool(device.device, timestamps, nil) }
        vk.pointee.vkDestroyCommandPool(device.device, commandPool, nil)  // frees the command buffer too
        for pool in pools { vk.pointee.vkDestroyDescriptorPool(device.device, pool, nil) }
    }

    func begin() throws {
        try wait(what: "the previous run on this command buffer")  // its descriptor sets are about to be reset
        for pool in pools { try vkCheck(vk.pointee.vkResetDescriptorPool(device.device, pool, 0), "vkResetDescriptorPool") }
        currentPool = 0
        dispatchCount = 0
        try vkCheck(vk.pointee.vkResetCommandBuffer(commands, 0), "vkResetCommandBuffer")
        var info = VkCommandBufferBeginInfo()
        info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
        info.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT.rawValue
        try vkCheck(vk.pointee.vkBeginCommandBuffer(commands, &info), "vkBeginCommandBuffer")
        if let timestamps {
            vk.pointee.vkCmdResetQueryPool(commands, timestamps, 0, 2)
            vk.pointee.vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, timestamps, 0)
        }
    }

    /// Records `pipeline` over `groups` workgroups with `buffers` at bindings 0… and `push` as push constants.
    func dispatch(_ pipeline: ComputePipeline, buffers: [VulkanBuffer], push: [UInt32], groups: (x: Int, y: Int, z: Int)) throws {
        precondition(buffers.count == pipeline.bindings, "\(pipeline.name) takes \(pipeline.bindings) buffers, got \(buffers.count)")
        precondition(push.count * 4 <= ComputePipeline.pushBytes, "\(pipeline.name): push constants over 128 bytes")
        let g = [groups.x, groups.y, groups.z]
        guard g.allSatisfy({ $0 >= 1 }) else { return }  // nothing to compute (an empty tensor)
        for i in 0..<3 where g[i] > Int(maxGroups[i]) {
            throw GPUError.unsupported("\(pipeline.name) needs \(g[i]) workgroups along axis \(i), \(device.name) allows \(maxGroups[i]): use smaller tiles")
        }
        if let big = buffers.first(where: { $0.bytes > maxBufferBytes }) {
            throw GPUError.unsupported("\(pipeline.name) needs a \(big.bytes)-byte buffer, \(device.name) binds at most \(maxBufferBytes): use smaller tiles")
        }
        let set = try allocateSet(pipeline)
        let infos = buffers.map { VkDescriptorBufferInfo(buffer: $0.buffer, offset: 0, range: VkDeviceSize(VK_WHOLE_SIZE)) }
        infos.withUnsafeBufferPointer { info in
            var writes = (0..<buffers.count).map { i -> VkWriteDescriptorSet in
                var w = VkWriteDescriptorSet()
                w.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET
                w.dstSet = set
                w.dstBinding = UInt32(i)
                w.descriptorCount = 1
                w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                w.pBufferInfo = info.baseAddress! + i
                return w
            }
            vk.pointee.vkUpdateDescriptorSets(device.device, UInt32(writes.count), &writes, 0, nil)
        }
        vk.pointee.vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.pipeline)
        var s: VkDescriptorSet? = set
        vk.pointee.vkCmdBindDescriptorSets(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout, 0, 1, &s, 0, nil)
        if !push.isEmpty {
            push.withUnsafeBytes { bytes in
                vk.pointee.vkCmdPushConstants(commands, pipeline.layout, VK_SHADER_STAGE_COMPUTE_BIT.rawValue, 0, UInt32(bytes.count), bytes.baseAddress)
            }
        }
        vk.pointee.vkCmdDispatch(commands, UInt32(groups.x), UInt32(groups.y), UInt32(groups.z))
        dispatchCount += 1
    }

    func copy(from source: VulkanBuffer, to destination: VulkanBuffer, bytes: Int) {
        guard bytes > 0 else { return }
        precondition(bytes <= source.bytes && bytes <= destination.bytes, "copy larger than its buffers")
        var region = VkBufferCopy(srcOffset: 0, dstOffset: 0, size: VkDeviceSize(bytes))
        vk.pointee.vkCmdCopyBuffer(commands, source.buffer, destination.buffer, 1, &region)
    }

    /// Everything recorded so far (dispatches, copies) finishes and is visible before anything recorded next starts.
    /// Recorded after every step: it also lets a buffer freed by one layer be reused by the next (no write-after-read race).
    func barrier() {
        let stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue | VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue
        var b = VkMemoryBarrier()
        b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
        b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        b.dstAccessMask = VK_ACCESS_SHADER_READ_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue
            | VK_ACCESS_TRANSFER_READ_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        vk.pointee.vkCmdPipelineBarrier(commands, stages, stages, 0, 1, &b, 0, nil, 0, nil)
    }

    /// Copies (and the fp16 download's cast shader) into host-visible buffers become visible to the host once the
    /// submission's fence is signalled.
    func hostBarrier() {
        var b = VkMemoryBarrier()
        b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
        b.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue
        b.dstAccessMask = VK_ACCESS_HOST_READ_BIT.rawValue
        vk.pointee.vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue,
                                        VK_PIPELINE_STAGE_HOST_BIT.rawValue, 0, 1, &b, 0, nil, 0, nil)
    }

    func submitAndWait(what: String) throws {
        try submit(what: what)
        try wait(what: what)
    }

    /// Ends the recording and submits it without waiting (`wait` must follow before the next `begin`): the host may
    /// record another run on another recorder meanwhile.
    func submit(what: String) throws {
        precondition(fence == nil, "submitted twice without a wait")
        if let timestamps { vk.pointee.vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamps, 1) }
        try vkCheck(vk.pointee.vkEndCommandBuffer(commands), "vkEndCommandBuffer")
        submittedAt = DispatchTime.now().uptimeNanoseconds
        fence = try device.submit(commands, what: what)
    }

    /// Waits for the submission, then reads its device time (`lastDeviceSeconds`, `lastDeviceInterval`).
    func wait(what: String) throws {
        guard let pending = fence else { return }
        fence = nil
        try device.wait(pending, what: what)
        lastDeviceSeconds = Double(DispatchTime.now().uptimeNanoseconds - submittedAt) / 1e9
        lastDeviceInterval = nil
        if let timestamps {
            var ticks: [UInt64] = [0, 0]
            let flags = VK_QUERY_RESULT_64_BIT.rawValue | VK_QUERY_RESULT_WAIT_BIT.rawValue
            let r = ticks.withUnsafeMutableBytes {
                vk.pointee.vkGetQueryPoolResults(device.device, timestamps, 0, 2, $0.count, $0.baseAddress, 8, flags)
            }
            if r == VK_SUCCESS {
                // Only the low timestampValidBits count (the counter wraps there).
                let bits = device.physical.timestampValidBits
                let mask: UInt64 = bits >= 64 ? .max : (1 << UInt64(bits)) - 1
                let elapsed = (ticks[1] &- ticks[0]) & mask
                let period = Double(device.physical.properties.limits.timestampPeriod)
                lastDeviceSeconds = Double(elapsed) * period / 1e9
                let start = Double(ticks[0] & mask) * period / 1e9
                lastDeviceInterval = (start, start + lastDeviceSeconds)
            }
        }
    }

    private func allocateSet(_ pipeline: ComputePipeline) throws -> VkDescriptorSet {
        while true {
            if currentPool == pools.count { pools.append(try makePool()) }
            var layout: VkDescriptorSetLayout? = pipeline.setLayout
            var info = VkDescriptorSetAllocateInfo()
            info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO
            info.descriptorPool = pools[currentPool]
            info.descriptorSetCount = 1
            var set: VkDescriptorSet?
            let r = withUnsafePointer(to: &layout) { l -> VkResult in
                info.pSetLayouts = l
                return vk.pointee.vkAllocateDescriptorSets(device.device, &info, &set)
            }
            if r == VK_ERROR_OUT_OF_POOL_MEMORY || r == VK_ERROR_FRAGMENTED_POOL { currentPool += 1; continue }
            try vkCheck(r, "vkAllocateDescriptorSets")
            return set!
        }
    }

    private func makePool() throws -> VkDescriptorPool {
        var size = VkDescriptorPoolSize(type: VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptorCount: Self.setsPerPool * Self.buffersPerSet)
        var info = VkDescriptorPoolCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO
        info.maxSets = Self.setsPerPool
        info.poolSizeCount = 1
        var pool: VkDescriptorPool?
        try withUnsafePointer(to: &size) { s in
            info.pPoolSizes = s
            try vkCheck(vk.pointee.vkCreateDescriptorPool(device.device, &info, nil, &pool), "vkCreateDescriptorPool")
        }
        return pool!
    }
}
