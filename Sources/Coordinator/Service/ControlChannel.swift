import Foundation
import Transport

/// What `submit`, `jobs`, `cancel`, `pause`, `resume` and `priority` ask the service: one JSON request, one JSON reply,
/// over a Unix socket in the state directory (libzmq REQ/REP on `ipc://`, the transport's one choke point), or the
/// same messages over the service's CURVE control endpoint from another machine (`RemoteControl.swift`).
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

    /// Limits beyond the message's size (`ControlServer.maxRequestBytes`), for bytes from another machine: a command
    /// line is a few dozen arguments; a path is at most PATH_MAX.
    static let maxArguments = 1024
    static let maxArgumentBytes = 4096

    /// Why the request is not one a person could have typed (nil: it is).
    var problem: String? {
        if let arguments {
            if arguments.count > ControlRequest.maxArguments { return "\(arguments.count) arguments (at most \(ControlRequest.maxArguments))" }
            if arguments.contains(where: { $0.utf8.count > ControlRequest.maxArgumentBytes }) {
                return "an argument longer than \(ControlRequest.maxArgumentBytes) bytes"
            }
        }
        if let directory, directory.utf8.count > ControlRequest.maxArgumentBytes { return "a directory longer than \(ControlRequest.maxArgumentBytes) bytes" }
        return nil
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

/// Who sent a request: the local socket's user (the service's own), or a remote client by its CURVE key.
public struct ControlPeer: Sendable, CustomStringConvertible {
    /// The client's Z85 public key (nil: the local socket).
    public var publicKey: String?
    /// The name of its `.pub` file in `--control-allow-keys`.
    public var name: String?
    public var address: String?

    public static let local = ControlPeer()

    /// "alice (key rq:Ab3x…, 10.0.0.7)": the file name, the key's first 8 characters, the address.
    public var description: String {
        guard let publicKey else { return "the local socket" }
        return "\(name ?? "an unnamed key") (key \(publicKey.prefix(8))…\(address.map { ", \($0)" } ?? ""))"
    }
}

/// The service's end: answers requests on its own thread (libzmq sockets stay on the thread that made them), on the
/// state directory's Unix socket or on the remote control endpoint (CURVE server, only listed client keys).
final class ControlServer: @unchecked Sendable {
    /// Requests are a command line at most; anything larger is not ours (libzmq drops a peer that sends more).
    static let maxRequestBytes: Int64 = 1 << 20
    private enum Listener {
        case local(endpoint: String, socketPath: String)
        case remote(RemoteControlOptions)
    }
    private let listener: Listener
    private let handler: @Sendable (ControlRequest, ControlPeer) -> ControlReply
    private let log: @Sendable (String) -> Void
    private let lock = NSLock()
    private var stopping = false
    private var thread: Thread?
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var startError: Error?
    /// The endpoint bound (a `tcp://…:*` with its port filled in), once `start` returned.
    private(set) var boundEndpoint: String?

    init(state: StateDirectory, handler: @escaping @Sendable (ControlRequest, ControlPeer) -> ControlReply) {
        listener = .local(endpoint: state.controlEndpoint, socketPath: state.socketURL.path)
        self.handler = handler
        log = { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }
    }

    init(remote: RemoteControlOptions, log: @escaping @Sendable (String) -> Void, handler: @escaping @Sendable (ControlRequest, ControlPeer) -> ControlReply) {
        listener = .remote(remote)
        self.handler = handler
        self.log = log
    }

    /// Binds the socket (0600; or CURVE with its ZAP handler) and starts answering; throws if it cannot bind.
    func start() throws {
        let thread = Thread { [self] in serve(); finished.signal() }
        thread.name = "lumiere-control"
        self.thread = thread
        thread.start()
        ready.wait()
        if let startError { throw startError }
    }

    /// Stops answering and returns once the socket is closed (within the loop's 100 ms poll).
    func stop() {
        lock.withLock { stopping = true }
        if thread != nil { finished.wait() }
        thread = nil
    }

    private func serve() {
        let socket: Socket
        let context: MessagingContext
        var authenticator: ZAPAuthenticator?
        var names: [String: String] = [:]
        do {
            context = try MessagingContext()
            if case .remote(let remote) = listener {
                // Its own context, so its own ZAP handler: a worker's key cannot submit, a client's cannot join the farm.
                let zap = try ZAPAuthenticator(context: context, allowedPublicKeys: remote.allowedClients.map(\.key), role: "client", log: log)
                try zap.start()
                authenticator = zap
                names = Dictionary(remote.allowedClients.map { ($0.key, $0.name) }, uniquingKeysWith: { first, _ in first })
            }
            socket = try Socket(context, .reply)
            var options = Socket.Options()
            options.maxMessageBytes = ControlServer.maxRequestBytes
            try socket.apply(options)
            switch listener {
            case .local(let endpoint, let socketPath):
                // A socket left by a killed service is replaced (the state directory's lock says no other service runs).
                unlink(socketPath)
                boundEndpoint = try socket.bind(endpoint)
                // The directory is 0700 already; the socket itself is 0600 too, so a looser directory later still guards it.
                guard chmod(socketPath, 0o600) == 0 else {
                    throw ServiceError.stateDirectory(path: socketPath, problem: "cannot make the socket private: \(String(cString: strerror(errno)))")
                }
            case .remote(let remote):
                try socket.makeCurveServer(remote.keys)
                boundEndpoint = try socket.bind(remote.endpoint)
            }
        } catch {
            authenticator?.stop()
            startError = error
            ready.signal()
            return
        }
        ready.signal()
        while !lock.withLock({ stopping }) {
            do {
                guard try Socket.pollReadable([socket], timeoutMs: 100)[0], let message = try socket.receiveFromPeer() else { continue }
                let peer = ControlPeer(publicKey: message.userID, name: message.userID.flatMap { names[$0] }, address: message.peerAddress)
                let reply: ControlReply
                if message.parts.count == 1, let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(message.parts[0])) {
                    if let problem = request.problem {
                        log("refused a control request from \(peer): \(problem)")
                        reply = ControlReply(error: "not a Lumière control request: \(problem)", status: 64)
                    } else {
                        reply = handler(request, peer)
                    }
                } else {
                    log("refused a control request from \(peer): \(message.parts.count) part(s) that do not decode")
                    reply = ControlReply(error: "not a Lumière control request", status: 64)
                }
                try socket.send(parts: [Array((try? JSONEncoder().encode(reply)) ?? Data())])
            } catch TransportError.interrupted {
                continue
            } catch {
                log("control socket: \(error)")
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        socket.close()
        authenticator?.stop()
        if case .local(_, let socketPath) = listener { unlink(socketPath) }
        _ = context
    }
}

/// The commands' end: one request, one reply, or `ServiceError.noService` when nobody answers in time.
public enum ControlClient {
    public static func send(_ request: ControlRequest, stateDirectory: String, timeoutSeconds: Double = 15) throws -> ControlReply {
        let state = StateDirectory(path: stateDirectory)
        try state.checkForClient()
        guard FileManager.default.fileExists(atPath: state.socketURL.path) else {
            throw ServiceError.noService(stateDirectory: state.url.path, why: "no control.sock")
        }
        return try exchange(request, endpoint: state.controlEndpoint, curve: nil, timeoutSeconds: timeoutSeconds) {
            ServiceError.noService(stateDirectory: state.url.path, why: $0)
        }
    }

    /// The same, from another machine: to the service's `--control-bind` endpoint as a CURVE client.
    public static func send(_ request: ControlRequest, service: RemoteService, timeoutSeconds: Double = 15) throws -> ControlReply {
        try exchange(request, endpoint: service.endpoint, curve: (service.clientKeys, service.serverPublicKey), timeoutSeconds: timeoutSeconds) {
            ServiceError.noRemoteService(endpoint: service.endpoint, why: $0)
        }
    }

    private static func exchange(_ request: ControlRequest, endpoint: String, curve: (keys: CurveKeyPair, server: String)?, timeoutSeconds: Double,
                                 noService: (String) -> ServiceError) throws -> ControlReply {
        let context = try MessagingContext()
        let socket = try Socket(context, .request)
        defer { socket.close() }
        var options = Socket.Options()
        options.maxMessageBytes = 64 << 20 // a long `jobs` listing
        try socket.apply(options)
        var monitor: HandshakeMonitor?
        if let curve {
            try socket.makeCurveClient(curve.keys, serverPublicKey: curve.server)
            monitor = try HandshakeMonitor(watching: socket)
        }
        defer { monitor?.events.close() }
        try socket.connect(endpoint)
        guard try socket.send(parts: [Array(try JSONEncoder().encode(request))]) else {
            throw noService("the socket does not accept requests")
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var handshake: HandshakeMonitor.Failure?
        while Date() < deadline {
            let readable = try Socket.pollReadable([socket] + (monitor.map { [$0.events] } ?? []), timeoutMs: 100)
            if readable.count > 1, readable[1], let failure = try monitor?.failure() {
                // Refused: said at once. A broken handshake may be retried by libzmq (a service restarting), so wait on.
                if case .refused(let status) = failure { throw ServiceError.keyRefused(endpoint: endpoint, status: status) }
                handshake = failure
            }
            if readable[0], let parts = try socket.receive() {
                guard parts.count == 1, let reply = try? JSONDecoder().decode(ControlReply.self, from: Data(parts[0])) else {
                    throw ServiceError.badReply("\(parts.count) part(s) that do not decode")
                }
                if let error = reply.error { throw ServiceError.refused(message: error, status: reply.status ?? 1) }
                return reply
            }
        }
        // Without a monitor event, a wrong --server-key looks like no service: the server cannot read our hello and
        // libzmq keeps the request queued.
        if curve == nil { throw noService("no reply within \(formatted(timeoutSeconds)) s; the service may have stopped") }
        throw noService("no reply within \(formatted(timeoutSeconds)) s: " + (handshake == nil ? "the service is not running there"
                                                                            : "the CURVE handshake failed (is --server-key the head node's coordinator.pub?)"))
    }

    private static func formatted(_ seconds: Double) -> String { seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)" }
}
