#if canImport(Glibc)
import Glibc
#endif

/// glibc serves allocations above 128 KiB with fresh mmap()s and returns them on free, so every 256 KiB
/// transfer chunk costs page faults on first touch: measured 1 GB/s for encode+decode instead of 8 GB/s.
/// Raising the mmap and trim thresholds keeps such buffers on the heap for reuse. Process-wide; idempotent.
public enum AllocatorTuning {
    private static let mmapThreshold: Int32 = 16 << 20
    private static let trimThreshold: Int32 = 64 << 20

    /// Applies the thresholds through glibc's `mallopt` (looked up at run time; no-op elsewhere).
    /// Returns whether it took effect.
    @discardableResult
    public static func keepTransferBuffersOnHeap() -> Bool {
        #if canImport(Glibc)
        typealias MalloptFunction = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: MalloptFunction.self)
        let mmapThresholdOption: Int32 = -3, trimThresholdOption: Int32 = -1 // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        return mallopt(mmapThresholdOption, mmapThreshold) == 1 && mallopt(trimThresholdOption, trimThreshold) == 1
        #else
        return false
        #endif
    }
}
