#if canImport(Glibc)
import Glibc
#endif

/// A coordinator with a thousand workers holds a socket per worker plus transfer files; the usual soft
/// limit of 1024 descriptors would make it fail at scale, so it raises the soft limit to the hard one.
public enum ProcessLimits {
    /// Raises the soft RLIMIT_NOFILE to the hard limit; returns the resulting soft limit (nil if unknown).
    @discardableResult
    public static func raiseOpenFileLimit() -> UInt64? {
        #if canImport(Glibc)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
        #else
        return nil
        #endif
    }
}
