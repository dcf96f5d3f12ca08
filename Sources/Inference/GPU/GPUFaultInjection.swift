import Foundation

/// A test hook for the fault paths (issue 17 item 4), comma-separated items in `LUMIERE_GPU_FAULT`:
/// - `alloc:N`: the process's Nth device allocation fails as out of device memory (once);
/// - `submit:N`: its Nth queue submission fails as a lost device (once);
/// - `alloc>BYTES:K`: the first K allocations of more than BYTES bytes fail as out of device memory (a device that
///   cannot hold one large tile: the tiled upscaler retries with smaller tiles, `TiledUpscaler`);
/// - `alloc>BYTES`: every allocation of more than BYTES fails (a device too small for any tile of the frame: after
///   the smallest tile the worker goes on with the CPU engine).
/// Real drivers rarely fail on demand, and lavapipe never does; this lets tests drive a GPU worker into the failure in
/// the middle of a segment. Read once, at the first check; unset, a check is one lookup in an empty dictionary.
enum GPUFaultInjection {
    enum Point: String { case alloc, submit }

    struct Plan {
        var nth: [Point: Int] = [:]
        /// `alloc>BYTES[:K]`: allocations over `bytes` fail, the first `times` of them (nil: all).
        var largeAllocations: (bytes: Int, times: Int?)?

        /// Items that do not parse are ignored (a typo disables that fault, it never fires a different one).
        init(_ text: String) {
            for item in text.split(separator: ",") {
                if item.hasPrefix("alloc>") {
                    let parts = item.dropFirst(6).split(separator: ":", omittingEmptySubsequences: false)
                    guard let bytes = Int(parts[0]), bytes >= 0 else { continue }
                    if parts.count == 1 { largeAllocations = (bytes, nil) }
                    if parts.count == 2, let k = Int(parts[1]), k >= 1 { largeAllocations = (bytes, k) }
                    continue
                }
                let parts = item.split(separator: ":")
                if parts.count == 2, let point = Point(rawValue: String(parts[0])), let n = Int(parts[1]), n >= 1 { nth[point] = n }
            }
        }
    }

    private static let plan = Plan(ProcessInfo.processInfo.environment["LUMIERE_GPU_FAULT"] ?? "")
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counts: [Point: Int] = [:]
    nonisolated(unsafe) private static var largeFailures = 0

    /// Throws the injected failure when this is the planned call at `point`; `what` names the call in the error.
    static func check(_ point: Point, _ what: @autoclosure () -> String) throws {
        guard let n = plan.nth[point] else { return }
        let count: Int = lock.withLock {
            counts[point, default: 0] += 1
            return counts[point]!
        }
        guard count == n else { return }
        let reason = "\(what()) (injected by LUMIERE_GPU_FAULT=\(point.rawValue):\(n))"
        switch point {
        case .alloc: throw GPUError.outOfDeviceMemory(reason)
        case .submit: throw GPUError.deviceLost(reason)
        }
    }

    /// An allocation of `bytes`: the `alloc:N` count, then the `alloc>BYTES[:K]` limit.
    static func checkAllocation(bytes: Int, _ what: @autoclosure () -> String) throws {
        try check(.alloc, what())
        guard let large = plan.largeAllocations, bytes > large.bytes else { return }
        let fires: Bool = lock.withLock {
            if let times = large.times, largeFailures >= times { return false }
            largeFailures += 1
            return true
        }
        guard fires else { return }
        let spelled = "alloc>\(large.bytes)" + (large.times.map { ":\($0)" } ?? "")
        throw GPUError.outOfDeviceMemory("\(what()) (injected by LUMIERE_GPU_FAULT=\(spelled))")
    }
}
