import CLumiereKernels

/// A blob flowing through the network: `channels × height × width` Float32 values, channel-major
/// (the layout of ncnn's Mat without packing). `dims` keeps ncnn's rank (1, 2 or 3) because some
/// layers (BinaryOp broadcasting, Crop/Slice axes) interpret shapes by rank.
///
/// Storage is a 64-byte aligned buffer owned by the tensor; tensors are reference types so that
/// Split can share one buffer between consumers without copying (layers never write their inputs).
public final class Tensor: @unchecked Sendable {
    public let dims: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    /// Number of logical values (channels × height × width).
    public let count: Int
    let storage: UnsafeMutablePointer<Float>
    /// Set when the values are stored in the Winograd convolution's padded 16-channel-interleaved
    /// layout (an internal hand-off between two convolutions; never seen by other layers or callers).
    let packed: PackedLayout?
    private let storageCount: Int

    struct PackedLayout: Equatable {
        let paddedHeight: Int, paddedWidth: Int, top: Int, left: Int
    }

    /// A zero-filled 3-D tensor.
    public convenience init(channels: Int, height: Int, width: Int) {
        self.init(dims: 3, channels: channels, height: height, width: width)
    }

    /// A 3-D tensor holding `values` (channel-major); their count must be `channels * height * width`.
    public convenience init(channels: Int, height: Int, width: Int, values: [Float]) throws {
        guard values.count == channels * height * width else {
            throw InferenceError.invalidInput("tensor \(channels)x\(height)x\(width) needs \(channels * height * width) values, got \(values.count)")
        }
        self.init(dims: 3, channels: channels, height: height, width: width)
        values.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    /// A zero-filled tensor of ncnn rank `dims` (1: width only, 2: height × width, 3: full).
    public init(dims: Int, channels: Int, height: Int, width: Int, zeroed: Bool = true) {
        precondition(dims >= 1 && dims <= 3 && channels >= 0 && height >= 0 && width >= 0, "bad tensor shape")
        self.dims = dims
        self.channels = channels
        self.height = height
        self.width = width
        self.count = channels * height * width
        self.packed = nil
        self.storageCount = max(count, 1)
        storage = BufferPool.shared.allocate(bytes: storageCount * 4).bindMemory(to: Float.self, capacity: storageCount)
        if zeroed { storage.initialize(repeating: 0, count: storageCount) }
    }

    /// A packed tensor (contents uninitialised).
    init(channels: Int, height: Int, width: Int, packed layout: PackedLayout) {
        self.dims = 3
        self.channels = channels
        self.height = height
        self.width = width
        self.count = channels * height * width
        self.packed = layout
        self.storageCount = (channels + 15) / 16 * layout.paddedHeight * layout.paddedWidth * 16
        storage = BufferPool.shared.allocate(bytes: storageCount * 4).bindMemory(to: Float.self, capacity: storageCount)
    }

    deinit { BufferPool.shared.release(UnsafeMutableRawPointer(storage), bytes: storageCount * 4) }

    /// This tensor in plain channel-major layout (itself unless packed).
    func planar() -> Tensor {
        guard let p = packed else { return self }
        let t = Tensor(dims: 3, channels: channels, height: height, width: width, zeroed: false)
        lk_unpack16_padded(storage, Int32(channels), Int32(height), Int32(width), Int32(p.top), Int32(p.left),
                           Int32(p.paddedHeight), Int32(p.paddedWidth), t.storage)
        return t
    }

    /// Values per channel plane.
    public var planeSize: Int { height * width }
    public var shapeDescription: String {
        switch dims {
        case 1: return "[\(width)]"
        case 2: return "[\(height)x\(width)]"
        default: return "[\(channels)x\(height)x\(width)]"
        }
    }

    /// A copy of the values, channel-major.
    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    public subscript(channel: Int, y: Int, x: Int) -> Float {
        get { storage[(channel * height + y) * width + x] }
        set { storage[(channel * height + y) * width + x] = newValue }
    }

    /// Read access to the raw values (valid only inside `body`).
    public func withUnsafeValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage, count: count))
    }

    /// Write access to the raw values (valid only inside `body`).
    public func withUnsafeMutableValues<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage, count: count))
    }

    /// The same values viewed with another shape of equal size (copies; used for rank changes).
    func reshaped(dims: Int, channels: Int, height: Int, width: Int) -> Tensor {
        let t = Tensor(dims: dims, channels: channels, height: height, width: width, zeroed: false)
        t.storage.update(from: storage, count: count)
        return t
    }
}
