import Foundation

/// Recycles large float buffers between layers and runs. Fresh multi-megabyte allocations come
/// from mmap and are zero-filled by the kernel on first touch, which costs as much as a convolution
/// layer's arithmetic; reusing freed buffers of the same size avoids that. Cached memory is capped.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool(capBytes: 512 << 20)

    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private let capBytes: Int
    /// Buffers smaller than this go straight to malloc (cheap, and not worth tracking).
    static let minPooledBytes = 1 << 20

    init(capBytes: Int) { self.capBytes = capBytes }

    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let size = BufferPool.roundedSize(bytes)
        if size >= BufferPool.minPooledBytes {
            lock.lock()
            if let p = free[size]?.popLast() {
                cachedBytes -= size
                lock.unlock()
                return p
            }
            lock.unlock()
        }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    func release(_ p: UnsafeMutableRawPointer, bytes: Int) {
        let size = BufferPool.roundedSize(bytes)
        guard size >= BufferPool.minPooledBytes else { p.deallocate(); return }
        lock.lock()
        if cachedBytes + size <= capBytes {
            free[size, default: []].append(p)
            cachedBytes += size
            lock.unlock()
        } else {
            lock.unlock()
            p.deallocate()
        }
    }

    /// Drops every cached buffer (e.g. after a large frame, to return memory to the system).
    func trim() {
        lock.lock()
        let all = free.values.flatMap { $0 }
        free = [:]
        cachedBytes = 0
        lock.unlock()
        for p in all { p.deallocate() }
    }

    /// Sizes rounded up to 64 KiB so that nearly equal requests share buffers.
    static func roundedSize(_ bytes: Int) -> Int { (max(bytes, 64) + 65535) & ~65535 }
}

/// A pooled scratch buffer of `count` floats, returned to the pool by `release()`.
struct ScratchBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = BufferPool.shared.allocate(bytes: count * 4).bindMemory(to: Float.self, capacity: count)
    }
    func release() { BufferPool.shared.release(UnsafeMutableRawPointer(pointer), bytes: count * 4) }
}
