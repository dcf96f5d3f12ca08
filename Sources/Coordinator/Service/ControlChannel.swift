import Foundation
import Transport

/// What `submit`, `jobs`, `cancel`, `pause`, `resume` and `priority` ask the service: one JSON request, one JSON reply,
/// over a Unix socket in the state directory (libzmq REQ/REP on `ipc://`, the transport's one choke point).
public struct ControlRequest: Codable, Equatable, Sendable {
    public enum Command: String, Codable, Sendable { case submit, jobs, cancel, pause, resume, priority }
    public var command: Command
    public var job: Int?
    public var priority: Int?
    /// submit: the `restore` arguments (FILM -o OUT …) and the directory they are relative to.
    public var arguments: [String]?
    public var directory: String?

    public init(command: Command, job: Int? = nil, priority: Int? = nil, arguments: [String]? = nil, directory: String? = nil) {
        self.command = command
        self.job = job
        self.priority = priority
        self.arguments = arguments
        self.directory = directory
    }
}

public struct ControlReply: Codable, Equatable, Sendable {
    public var error: String?
    /// The exit status a client uses for `error` (64: the request itself was wrong).
    public var status: Int32?
    public var job: Int?
    public var jobs: [JobView]?

    public init(error: String? = nil, status: Int32? = nil, job: Int? = nil, jobs: [JobView]? = nil) {
        self.error = error
        self.status = status
        self.job = job
        self.jobs = jobs
    }
}

/// One row of `jobs`: the queue's record plus the running job's progress.
public struct JobView: Codable, Equatable, Sendable {
    public var id: Int
    public var state: String
    public var priority: Int
    /// Output frames accepted and expected (the running job only; nil otherwise).
    public var framesDone: Int64?
    public var framesTotal: Int64?
    public var runs: Int
    public var film: String
    public var output: String
    public var message: String?
    /// "45%" (the running job's accepted frames), "100%" when done, "-" when unknown.
    public var progress: String

    public init(id: Int, state: String, priority: Int, framesDone: Int64? = nil, framesTotal: Int64? = nil, runs: Int, film: String,
                output: String, message: String?) {
        self.id = id
        self.state = state
        self.priority = priority
        self.framesDone = framesDone
        self.framesTotal = framesTotal
        self.runs = runs
        self.film = film
        self.output = output
        self.message = message
        if state == JobQueue.State.done.rawValue {
            progress = "100%"
        } else if let done = framesDone, let total = framesTotal, total > 0 {
            progress = "\(min(100, Int(Double(done) * 100 / Double(total))))%"
        } else {
            progress = "-"
        }
    }
}

/// The service's end: answers requests on its own thread (libzmq sockets stay on the thread that made them).
final class ControlServer: @unchecked Sendable {
    /// Requests are a command line at most; anything larger is not ours.
    static let maxRequestBytes: Int64 = 1 << 20
    private let endpoint: String
    private let socketPath: String
    private let handler: @Sendable (ControlRequest) -> ControlReply
    private let lock = NSLock()
    private var stopping = false
    private var thread: Thread?
    private let ready = DispatchSemaphore(value: 0)
    private var startError: Error?

    init(state: StateDirectory, handler: @escaping @Sendable (ControlRequest) -> ControlReply) {
        endpoint = state.controlEndpoint
        socketPath = state.socketURL.path
        self.handler = handler
    }

    /// Binds the socket (0600) and starts answering; throws if it cannot bind.
    func start() throws {
        let thread = Thread { [self] in serve() }
        thread.name = "lumiere-control"
        self.thread = thread
        thread.start()
        ready.wait()
        if let startError { throw startError }
    }

    func stop() { lock.withLock { stopping = true } }

    private func serve() {
        let socket: Socket
        let context: MessagingContext
        do {
            context = try MessagingContext()
            socket = try Socket(context, .reply)
            var options = Socket.Options()
            options.maxMessageBytes = ControlServer.maxRequestBytes
            try socket.apply(options)
            // A socket left by a killed service is replaced (the state directory's lock says no other service runs).
            unlink(socketPath)
            try socket.bind(endpoint)
            // The directory is 0700 already; the socket itself is 0600 too, so a looser directory later still guards it.
            guard chmod(socketPath, 0o600) == 0 else {
                throw ServiceError.stateDirectory(path: socketPath, problem: "cannot make the socket private: \(String(cString: strerror(errno)))")
            }
        } catch {
            startError = error
            ready.signal()
            return
        }
        ready.signal()
        while !lock.withLock({ stopping }) {
            do {
                guard try Socket.pollReadable([socket], timeoutMs: 100)[0], let parts = try socket.receive() else { continue }
                let reply: ControlReply
                if parts.count == 1, let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(parts[0])) {
                    reply = handler(request)
                } else {
                    reply = ControlReply(error: "not a Lumière control request", status: 64)
                }
                try socket.send(parts: [Array((try? JSONEncoder().encode(reply)) ?? Data())])
            } catch TransportError.interrupted {
                continue
            } catch {
                FileHandle.standardError.write(Data("warning: control socket: \(error)\n".utf8))
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        socket.close()
        unlink(socketPath)
        _ = context
    }
}

/// The commands' end: one request, one reply, or `ServiceError.noService` when nobody answers.
public enum ControlClient {
    public static func send(_ request: ControlRequest, stateDirectory: String, timeoutSeconds: Double = 15) throws -> ControlReply {
        let state = StateDirectory(path: stateDirectory)
        try state.checkForClient()
        guard FileManager.default.fileExists(atPath: state.socketURL.path) else {
            throw ServiceError.noService(stateDirectory: state.url.path, why: "no control.sock")
        }
        let context = try MessagingContext()
        let socket = try Socket(context, .request)
        defer { socket.close() }
        var options = Socket.Options()
        options.maxMessageBytes = 64 << 20 // a long `jobs` listing
        try socket.apply(options)
        try socket.connect(state.controlEndpoint)
        guard try socket.send(parts: [Array(try JSONEncoder().encode(request))]) else {
            throw ServiceError.noService(stateDirectory: state.url.path, why: "the socket does not accept requests")
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if try Socket.pollReadable([socket], timeoutMs: 100)[0], let parts = try socket.receive() {
                guard parts.count == 1, let reply = try? JSONDecoder().decode(ControlReply.self, from: Data(parts[0])) else {
                    throw ServiceError.badReply("\(parts.count) part(s) that do not decode")
                }
                if let error = reply.error { throw ServiceError.refused(message: error, status: reply.status ?? 1) }
                return reply
            }
        }
        throw ServiceError.noService(stateDirectory: state.url.path, why: "no reply within \(Int(timeoutSeconds)) s; the service may have stopped")
    }
}
