/// What a GPU layer records into during one run: its output tensors (from the pool), dispatches of the shaders in
/// GPU/Shaders, and small per-run tables uploaded in the same command buffer.
final class GPUEncoder {
    let device: VulkanDevice
    let recorder: CommandRecorder
    let pool: GPUBufferPool
    /// Host buffers written during recording and read by the GPU when the run executes: returned after the run.
    private(set) var staging: [VulkanBuffer] = []

    init(device: VulkanDevice, recorder: CommandRecorder, pool: GPUBufferPool) {
        self.device = device; self.recorder = recorder; self.pool = pool
    }

    /// A fresh output blob (contents undefined until a dispatch writes it).
    func output(dims: Int = 3, channels: Int, height: Int, width: Int) throws -> GPUTensor {
        let buffer = try pool.take(bytes: channels * height * width * 4, host: false)
        return GPUTensor(dims: dims, channels: channels, height: height, width: width, buffer: buffer)
    }

    /// Records `shader` (local size 8 × 8 × 1, one invocation per (x, y, channel) of a `width` × `height` ×
    /// `channels` grid) followed by a barrier, so the next step sees its writes.
    func dispatch(_ shader: String, _ buffers: [VulkanBuffer], push: PushConstants, width: Int, height: Int, channels: Int) throws {
        try dispatch(shader, buffers, push: push, groups: ((width + 7) / 8, (height + 7) / 8, channels))
    }

    /// Records `shader` over `groups` workgroups (for shaders that tile differently), then a barrier.
    func dispatch(_ shader: String, _ buffers: [VulkanBuffer], push: PushConstants, groups: (x: Int, y: Int, z: Int)) throws {
        let pipeline = try device.pipeline(shader, bindings: buffers.count)
        try recorder.dispatch(pipeline, buffers: buffers, push: push.words, groups: groups)
        recorder.barrier()
    }

    /// `values` in a device buffer, copied there at this point of the run.
    func upload(_ values: UnsafeBufferPointer<Float>) throws -> VulkanBuffer {
        let host = try pool.take(bytes: values.count * 4, host: true)
        staging.append(host)
        if let base = values.baseAddress { host.mapped!.copyMemory(from: base, byteCount: values.count * 4) }
        let buffer = try pool.take(bytes: values.count * 4, host: false)
        recorder.copy(from: host, to: buffer, bytes: values.count * 4)
        recorder.barrier()
        return buffer
    }

    /// A host buffer the GPU copies `tensor` into at the end of the run.
    func download(_ tensor: GPUTensor) throws -> VulkanBuffer {
        let host = try pool.take(bytes: tensor.bytes, host: true)
        staging.append(host)
        recorder.copy(from: tensor.buffer, to: host, bytes: tensor.bytes)
        return host
    }
}

/// Push constants as the shaders declare them: 4-byte ints and floats in declaration order (std430 push block).
struct PushConstants {
    private(set) var words: [UInt32] = []
    init() {}
    init(ints: [Int]) { for v in ints { int(v) } }
    mutating func int(_ v: Int) { words.append(UInt32(bitPattern: Int32(truncatingIfNeeded: v))) }
    mutating func float(_ v: Float) { words.append(v.bitPattern) }
}

/// Weights and other constants uploaded once when a GPUNet is made: staged together, copied in one submission.
final class GPUUploadBatch {
    let device: VulkanDevice
    /// The network's options: `convolution: .gemm` makes the layers use their reference shaders.
    let options: EngineOptions
    private var pending: [(host: VulkanBuffer, device: VulkanBuffer, bytes: Int)] = []
    /// Total bytes uploaded (the model's device footprint for weights).
    private(set) var bytes = 0

    init(device: VulkanDevice, options: EngineOptions) { self.device = device; self.options = options }

    /// `values` (at least one value: an empty array uploads a single 0, for bindings a shader ignores).
    func add(_ values: [Float]) throws -> VulkanBuffer {
        let v = values.isEmpty ? [Float(0)] : values
        let host = try device.makeBuffer(bytes: v.count * 4, host: true)
        v.withUnsafeBytes { host.mapped!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let target = try device.makeBuffer(bytes: v.count * 4, host: false)
        pending.append((host, target, v.count * 4))
        bytes += v.count * 4
        return target
    }

    func submit() throws {
        guard !pending.isEmpty else { return }
        let recorder = try CommandRecorder(device: device)
        try recorder.begin()
        for p in pending { recorder.copy(from: p.host, to: p.device, bytes: p.bytes) }
        recorder.barrier()
        try recorder.submitAndWait(what: "uploading weights")
        pending.removeAll()
    }
}
