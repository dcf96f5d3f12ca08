/// What a GPU layer records into during one run: its output tensors (from the pool), dispatches of the shaders in
/// GPU/Shaders (the variant for the run's blob storage), and small per-run tables uploaded in the same command buffer.
final class GPUEncoder {
    let device: VulkanDevice
    let recorder: CommandRecorder
    let pool: GPUBufferPool
    let precision: GPUPrecision
    /// Host buffers written during recording and read by the GPU when the run executes: returned after the run.
    private(set) var staging: [VulkanBuffer] = []
    /// How many dispatches of each shader variant this run recorded (`GPUNet.lastRunDispatches`: which path ran).
    private(set) var dispatches: [String: Int] = [:]

    init(device: VulkanDevice, recorder: CommandRecorder, pool: GPUBufferPool, precision: GPUPrecision) {
        self.device = device; self.recorder = recorder; self.pool = pool; self.precision = precision
    }

    /// A fresh output blob (contents undefined until a dispatch writes it).
    func output(dims: Int = 3, channels: Int, height: Int, width: Int) throws -> GPUTensor {
        let buffer = try pool.take(bytes: channels * height * width * precision.scalarBytes, host: false)
        return GPUTensor(dims: dims, channels: channels, height: height, width: width, buffer: buffer, scalarBytes: precision.scalarBytes)
    }

    /// Records `shader` (local size 8 × 8 × 1, one invocation per (x, y, channel) of a `width` × `height` ×
    /// `channels` grid) followed by a barrier, so the next step sees its writes. Every shader declares its blob
    /// buffers in the run's storage (its `_fp16` / `_fp16a` variant for fp16 blobs); weights and tables are fp32 in all.
    func dispatch(_ shader: String, _ buffers: [VulkanBuffer], push: PushConstants, width: Int, height: Int, channels: Int) throws {
        try dispatch(shader, buffers, push: push, groups: ((width + 7) / 8, (height + 7) / 8, channels))
    }

    /// Records `shader` over `groups` workgroups (for shaders that tile differently), then a barrier.
    /// `fp16Arithmetic: false` keeps a convolution's multiply-adds in fp32 even for `.fp16` (Winograd F(4,3)).
    func dispatch(_ shader: String, _ buffers: [VulkanBuffer], push: PushConstants, groups: (x: Int, y: Int, z: Int),
                  fp16Arithmetic: Bool = true) throws {
        let variant = precision.shader(shader, fp16Arithmetic: fp16Arithmetic && device.hasFP16Arithmetic)
        let pipeline = try device.pipeline(variant, bindings: buffers.count)
        try recorder.dispatch(pipeline, buffers: buffers, push: push.words, groups: groups)
        dispatches[variant, default: 0] += 1
        recorder.barrier()
    }

    /// `values` in a device buffer as fp32 (a table), copied there at this point of the run.
    func upload(_ values: UnsafeBufferPointer<Float>) throws -> VulkanBuffer {
        let host = try pool.take(bytes: values.count * 4, host: true)
        staging.append(host)
        if let base = values.baseAddress { host.mapped!.copyMemory(from: base, byteCount: values.count * 4) }
        let buffer = try pool.take(bytes: values.count * 4, host: false)
        recorder.copy(from: host, to: buffer, bytes: values.count * 4)
        recorder.barrier()
        return buffer
    }

    /// A planar tensor as a blob in the run's storage: fp32 values are copied to the device; for fp16 the cast shader
    /// reads them from the staging buffer and writes the fp16 blob (the conversion runs on the GPU).
    func uploadBlob(_ t: Tensor) throws -> GPUTensor {
        if precision == .fp32 {
            let buffer = try t.withUnsafeValues { try upload($0) }
            return GPUTensor(dims: t.dims, channels: t.channels, height: t.height, width: t.width, buffer: buffer, scalarBytes: 4)
        }
        let out = try output(dims: t.dims, channels: t.channels, height: t.height, width: t.width)
        let host = try pool.take(bytes: t.count * 4, host: true)
        staging.append(host)
        t.withUnsafeValues { if let base = $0.baseAddress { host.mapped!.copyMemory(from: base, byteCount: t.count * 4) } }
        try dispatch("cast_blob", [host, out.buffer], push: PushConstants(ints: [t.channels, t.height, t.width, 1]),
                     width: t.width, height: t.height, channels: t.channels)
        return out
    }

    /// A host buffer that receives `tensor` as fp32 at the end of the run (a copy, or the cast shader for fp16).
    func download(_ tensor: GPUTensor) throws -> VulkanBuffer {
        let host = try pool.take(bytes: tensor.count * 4, host: true)
        staging.append(host)
        if tensor.scalarBytes == 4 {
            recorder.copy(from: tensor.buffer, to: host, bytes: tensor.bytes)
        } else {
            try dispatch("cast_blob", [host, tensor.buffer], push: PushConstants(ints: [tensor.channels, tensor.height, tensor.width, 0]),
                         width: tensor.width, height: tensor.height, channels: tensor.channels)
        }
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
    /// The blob storage of the network being loaded (constant blobs are stored like every other blob).
    let precision: GPUPrecision
    private var pending: [(host: VulkanBuffer, device: VulkanBuffer, bytes: Int)] = []
    /// Total bytes uploaded (the model's device footprint for weights).
    private(set) var bytes = 0

    init(device: VulkanDevice, options: EngineOptions, precision: GPUPrecision = .fp32) {
        self.device = device; self.options = options; self.precision = precision
    }

    /// A constant blob (MemoryData) in the network's blob storage (fp16 values converted here, once).
    func addBlob(_ t: Tensor) throws -> GPUTensor {
        let values = t.toArray()
        let buffer: VulkanBuffer
        if precision.scalarBytes == 2 {
            buffer = try add(bytes: values.map { Float16($0) }.withUnsafeBytes { [UInt8]($0) })
        } else {
            buffer = try add(values)
        }
        return GPUTensor(dims: t.dims, channels: t.channels, height: t.height, width: t.width, buffer: buffer, scalarBytes: precision.scalarBytes)
    }

    /// `values` (at least one value: an empty array uploads a single 0, for bindings a shader ignores).
    func add(_ values: [Float]) throws -> VulkanBuffer {
        try add(bytes: (values.isEmpty ? [Float(0)] : values).withUnsafeBytes { [UInt8]($0) })
    }

    /// fp16 `values` (weights a shader reads as float16_t: the cooperative-matrix convolution's B matrices).
    func add(half values: [Float16]) throws -> VulkanBuffer {
        try add(bytes: (values.isEmpty ? [Float16(0)] : values).withUnsafeBytes { [UInt8]($0) })
    }

    private func add(bytes v: [UInt8]) throws -> VulkanBuffer {
        let host = try device.makeBuffer(bytes: v.count, host: true)
        v.withUnsafeBytes { host.mapped!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let target = try device.makeBuffer(bytes: v.count, host: false)
        pending.append((host, target, v.count))
        bytes += v.count
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
