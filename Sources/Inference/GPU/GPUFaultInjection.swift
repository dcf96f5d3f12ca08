import Foundation

/// A test hook for the fault paths (issue 17 item 4): `LUMIERE_GPU_FAULT=alloc:N` makes the process's Nth device
/// allocation fail as out of device memory, `submit:N` its Nth queue submission fail as a lost device (both may be
/// given, comma-separated). Each fires once. Real drivers rarely fail on demand, and lavapipe never does; this lets
/// tests drive a GPU worker into the failure in the middle of a segment. Read once, at the first check; unset, a
/// check is one lookup in an empty dictionary.
enum GPUFaultInjection {
    enum Point: String { case alloc, submit }

    private static let plan: [Point: Int] = {
        guard let text = ProcessInfo.processInfo.environment["LUMIERE_GPU_FAULT"], !text.isEmpty else { return [:] }
        var plan: [Point: Int] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":")
            if parts.count == 2, let point = Point(rawValue: String(parts[0])), let n = Int(parts[1]), n >= 1 { plan[point] = n }
        }
        return plan
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counts: [Point: Int] = [:]

    /// Throws the injected failure when this is the planned call at `point`; `what` names the call in the error.
    static func check(_ point: Point, _ what: @autoclosure () -> String) throws {
        guard let n = plan[point] else { return }
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
}
