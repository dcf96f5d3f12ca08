/// A blob on the device: the same shape fields as `Tensor` (ncnn rank, c × h × w, channel-major), its values in a
/// device buffer as fp32 or fp16 (`GPUPrecision`). Split hands one GPUTensor to several consumers, as the CPU engine
/// shares a Tensor.
final class GPUTensor {
    let dims: Int, channels: Int, height: Int, width: Int
    let buffer: VulkanBuffer
    /// 4 (fp32) or 2 (fp16).
    let scalarBytes: Int
    var count: Int { channels * height * width }
    var bytes: Int { count * scalarBytes }
    var shapeDescription: String {
        switch dims {
        case 1: return "[\(width)]"
        case 2: return "[\(height)x\(width)]"
        default: return "[\(channels)x\(height)x\(width)]"
        }
    }

    init(dims: Int, channels: Int, height: Int, width: Int, buffer: VulkanBuffer, scalarBytes: Int) {
        precondition(channels * height * width * scalarBytes <= buffer.bytes || channels * height * width == 0, "tensor larger than its buffer")
        self.dims = dims; self.channels = channels; self.height = height; self.width = width; self.buffer = buffer
        self.scalarBytes = scalarBytes
    }
}

/// Buffers kept for reuse across layers and runs, by size: a tile-by-tile upscale asks for the same sizes on every
/// tile, so after the first tile a run allocates nothing. Owned by one GPUNet (freed with it).
final class GPUBufferPool {
    let device: VulkanDevice
    private var free: [Key: [VulkanBuffer]] = [:]
    private struct Key: Hashable { let bytes: Int, host: Bool }
    /// Bytes held (in use or free): what `GPUNet.deviceBytes` reports.
    private(set) var heldBytes = 0
    /// The buffers this pool made. The constants it must refuse are all made before it makes any, so an identifier
    /// here cannot belong to one even after a buffer lost to a failed run is freed.
    private var made = Set<ObjectIdentifier>()

    init(device: VulkanDevice) { self.device = device }

    /// Sizes are rounded up to 4 KiB (a few related shapes share buffers; waste ≤ 4 KiB each).
    static func rounded(_ bytes: Int) -> Int { max(4096, (bytes + 4095) & ~4095) }

    func take(bytes: Int, host: Bool) throws -> VulkanBuffer {
        let key = Key(bytes: GPUBufferPool.rounded(bytes), host: host)
        if let b = free[key]?.popLast() { return b }
        let b = try device.makeBuffer(bytes: key.bytes, host: host)
        heldBytes += b.bytes
        made.insert(ObjectIdentifier(b))
        return b
    }

    /// Frees the buffers waiting for reuse (after running out of device memory: a retry with smaller tiles needs
    /// smaller buffers, and the larger ones would only hold memory it may need).
    func drain() {
        for (_, list) in free { for b in list { heldBytes -= b.bytes; made.remove(ObjectIdentifier(b)) } }
        free.removeAll()
    }

    /// Takes back a buffer this pool made; any other (a weight, a MemoryData constant handed out as a blob) is not
    /// the pool's to reuse and is ignored.
    func give(_ buffer: VulkanBuffer) {
        guard made.contains(ObjectIdentifier(buffer)) else { return }
        free[Key(bytes: buffer.bytes, host: buffer.mapped != nil), default: []].append(buffer)
    }
}
