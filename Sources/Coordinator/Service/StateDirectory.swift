import Foundation

/// The service's state directory: `queue.json` (the job queue), `control.sock` (the Unix socket `submit`, `jobs`, …
/// reach the service through), `service.lock` (one service per directory) and `incoming/` (results being received).
///
/// Who may control the service is decided by file permissions, as for any local daemon: the directory is the
/// service user's own and 0700, the socket 0600. A directory others could write to (where they could swap the socket
/// or the queue) is refused rather than repaired, so a mistake in a deployment is seen, not hidden.
public struct StateDirectory: Sendable {
    public let url: URL

    public var queueURL: URL { url.appendingPathComponent("queue.json") }
    public var socketURL: URL { url.appendingPathComponent("control.sock") }
    public var lockURL: URL { url.appendingPathComponent("service.lock") }
    public var incomingURL: URL { url.appendingPathComponent("incoming") }
    /// The control endpoint: a Unix socket (`ipc://`), never a TCP port.
    public var controlEndpoint: String { "ipc://" + socketURL.path }

    public init(path: String) {
        url = URL(fileURLWithPath: path).standardizedFileURL
    }

    /// Creates the directory (0700) if needed; refuses one that is not a directory, not ours, or group/other-writable.
    public func prepare() throws {
        var info = stat()
        if lstat(url.path, &info) != 0 {
            guard errno == ENOENT else { throw ServiceError.stateDirectory(path: url.path, problem: String(cString: strerror(errno))) }
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard mkdir(url.path, 0o700) == 0 || errno == EEXIST else {
                throw ServiceError.stateDirectory(path: url.path, problem: "cannot create it: \(String(cString: strerror(errno)))")
            }
            guard lstat(url.path, &info) == 0 else { throw ServiceError.stateDirectory(path: url.path, problem: String(cString: strerror(errno))) }
        }
        try StateDirectory.checkOwnership(info, path: url.path)
        try FileManager.default.createDirectory(at: incomingURL, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Whether `info` (from lstat) is a directory this user owns that nobody else may write to.
    static func checkOwnership(_ info: stat, path: String) throws {
        guard info.st_mode & 0o170000 == 0o040000 else { // S_IFMT, S_IFDIR
            throw ServiceError.stateDirectory(path: path, problem: "it is not a directory (a symbolic link or a file)")
        }
        guard info.st_uid == geteuid() else {
            throw ServiceError.stateDirectory(path: path, problem: "it belongs to user \(info.st_uid), not to this user (\(geteuid())); run the service as its owner")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw ServiceError.stateDirectory(path: path, problem: String(format: "it is writable by group or others (mode %o); run chmod 700 on it", info.st_mode & 0o777))
        }
    }

    /// The client side: the directory must exist and pass the same checks before we talk to a socket in it.
    public func checkForClient() throws {
        var info = stat()
        guard lstat(url.path, &info) == 0 else {
            throw ServiceError.noService(stateDirectory: url.path, why: "the directory does not exist")
        }
        try StateDirectory.checkOwnership(info, path: url.path)
    }

    /// Takes the directory's lock for the life of the process (released by the kernel, even after kill -9); a second
    /// service on the same directory is refused.
    public func lock() throws -> Int32 {
        let fd = open(lockURL.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServiceError.stateDirectory(path: lockURL.path, problem: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ServiceError.alreadyServing(stateDirectory: url.path)
        }
        return fd
    }
}

public enum ServiceError: Error, Equatable, CustomStringConvertible {
    case stateDirectory(path: String, problem: String)
    case alreadyServing(stateDirectory: String)
    case noService(stateDirectory: String, why: String)
    /// `--service ENDPOINT`: nothing answered there in time (not running, or our key was refused).
    case noRemoteService(endpoint: String, why: String)
    /// `--service ENDPOINT`: the service's ZAP handler refused our key (`status` 400: it is not in its allow-list).
    case keyRefused(endpoint: String, status: Int)
    /// `serve --control-bind` without what a remote control endpoint needs (it never runs open).
    case remoteControl(String)
    /// The service answered with an error (its text says what to do); `status` is the exit status to use.
    case refused(message: String, status: Int32)
    case badReply(String)

    public var description: String {
        switch self {
        case .stateDirectory(let path, let problem): return "cannot use \(path) as the service's state directory: \(problem)"
        case .alreadyServing(let dir): return "a service is already running on \(dir) (its service.lock is held); stop it first or use another --state-dir"
        case .noService(let dir, let why):
            return "no service answers in \(dir) (\(why)); start one with: lumiere-coordinator serve --state-dir \(dir) --bind tcp://*:5555 (with --key and --allow-keys)"
        case .noRemoteService(let endpoint, let why):
            return "no service answers at \(endpoint) (\(why)); check that serve runs there with --control-bind, that your NAME.pub is in its "
                + "--control-allow-keys, and that --server-key is the head node's coordinator.pub"
        case .keyRefused(let endpoint, let status):
            return "the service at \(endpoint) refused this key (ZAP status \(status)): ask its admin to add your NAME.pub to its --control-allow-keys"
        case .remoteControl(let problem): return problem
        case .refused(let message, _): return message
        case .badReply(let why): return "the service's reply makes no sense (\(why)); are the service and this command the same Lumière version?"
        }
    }
}
