import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a small file so that a reader (or a crash) sees either the old contents or the new, never a
/// mix: write a temporary file beside it, fsync it, rename it over the old one, fsync the directory.
/// A full disk is reported as `PlanningError.diskFull` and leaves the old file as it was.
public enum AtomicFile {
    /// The system call that writes; tests substitute one that fails like a full disk.
    public typealias Writer = (Int32, UnsafeRawPointer, Int) -> Int

    public static func write(_ data: Data, to url: URL,
                             writer: Writer = { fd, p, n in systemWrite(fd, p, n) }) throws {
        let directory = url.deletingLastPathComponent().path
        // Unique per call: two writers of the same file in one process must not share a temporary file.
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(String(UInt32.random(in: .min ... .max), radix: 16))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(errno, temporary, "create") }
        var written = 0
        var failed: PlanningError?
        data.withUnsafeBytes { raw in
            while written < raw.count {
                let n = writer(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failed = failure(errno, temporary, "write")
                    return
                }
                written += n
            }
        }
        if failed == nil, fsync(fd) != 0 { failed = failure(errno, temporary, "fsync") }
        close(fd)
        if let failed {
            unlink(temporary)
            throw failed
        }
        guard rename(temporary, url.path) == 0 else {
            let e = errno
            unlink(temporary)
            throw failure(e, url.path, "rename")
        }
        try syncDirectory(directory)
    }

    /// Makes a rename or a new name in `directory` durable.
    public static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno, directory, "open directory") }
        defer { close(fd) }
        if fsync(fd) != 0, errno != EINVAL { throw failure(errno, directory, "fsync directory") }
    }

    static func failure(_ code: Int32, _ path: String, _ operation: String) -> PlanningError {
        code == ENOSPC || code == EDQUOT ? .diskFull(path: path) : .io(path: path, operation: operation, errno: code)
    }
}

/// `write(2)`, by a name that does not clash with `AtomicFile.write`.
@usableFromInline func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
