import Foundation

/// A ZAP handler (RFC 27) for one context: accepts CURVE clients whose public key is listed, refuses the rest.
/// libzmq asks it about every CURVE handshake on sockets of the same context, so it must start before the
/// server socket binds. Runs on its own thread; the REP socket never leaves that thread. An accepted client's
/// user id is its Z85 public key (`Socket.receiveFromPeer` reads it back, so a server can say who asked).
public final class ZAPAuthenticator: @unchecked Sendable {
    public static let endpoint = "inproc://zeromq.zap.01"

    private let context: MessagingContext
    private let allowedKeys: Set<[UInt8]>
    private let log: @Sendable (String) -> Void
    /// Who the keys belong to, in refusals: "worker" (the farm), "client" (the service's remote control).
    private let role: String
    private let lock = NSLock()
    private var stopRequested = false
    private var thread: Thread?
    private var counts = (allowed: 0, denied: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var startError: Error?

    /// `allowedPublicKeys` are Z85 texts (the workers' `.pub` files).
    public init(context: MessagingContext, allowedPublicKeys: [String], role: String = "worker",
                log: @escaping @Sendable (String) -> Void) throws {
        self.context = context
        self.role = role
        self.allowedKeys = Set(try allowedPublicKeys.map { try CurveKeyPair.decodeZ85Key($0) })
        self.log = log
    }

    public var allowedCount: Int { lock.withLock { counts.allowed } }
    public var deniedCount: Int { lock.withLock { counts.denied } }

    /// Binds the handler and starts answering; returns once libzmq can reach it.
    public func start() throws {
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            let socket: Socket
            do {
                socket = try Socket(context, .reply)
                try socket.bind(ZAPAuthenticator.endpoint)
            } catch {
                lock.withLock { startError = error }
                ready.signal()
                finished.signal()
                return
            }
            ready.signal()
            serve(socket)
            socket.close()
            finished.signal()
        }
        thread.name = "lumiere-zap"
        self.thread = thread
        thread.start()
        ready.wait()
        if let error = lock.withLock({ startError }) { throw error }
    }

    public func stop() {
        lock.withLock { stopRequested = true }
        if thread != nil { finished.wait() }
        thread = nil
    }

    private func serve(_ socket: Socket) {
        while !lock.withLock({ stopRequested }) {
            do {
                guard try Socket.pollReadable([socket], timeoutMs: 100)[0], let request = try socket.receive() else { continue }
                try socket.send(parts: reply(to: request))
            } catch {
                log("ZAP handler error: \(error)")
            }
        }
    }

    /// Request frames: version, request id, domain, address, identity, mechanism, credentials...
    private func reply(to request: [[UInt8]]) -> [[UInt8]] {
        let requestID = request.count > 1 ? request[1] : []
        func answer(_ code: String, _ text: String, userID: String = "") -> [[UInt8]] {
            [Array("1.0".utf8), requestID, Array(code.utf8), Array(text.utf8), Array(userID.utf8), []]
        }
        guard request.count >= 6, request[0] == Array("1.0".utf8) else { return answer("500", "malformed ZAP request") }
        let address = String(decoding: request[3], as: UTF8.self)
        let mechanism = String(decoding: request[5], as: UTF8.self)
        guard mechanism == "CURVE", request.count >= 7, request[6].count == 32 else {
            lock.withLock { counts.denied += 1 }
            log("refused a \(mechanism) connection from \(address): this coordinator requires CURVE with a listed key")
            return answer("400", "CURVE required")
        }
        guard allowedKeys.contains(request[6]) else {
            lock.withLock { counts.denied += 1 }
            let key = (try? CurveKeyPair.encodeZ85Key(request[6])) ?? "?"
            log("refused \(role) key \(key) from \(address): not in the list of allowed \(role) keys")
            return answer("400", "unknown key")
        }
        lock.withLock { counts.allowed += 1 }
        return answer("200", "OK", userID: (try? CurveKeyPair.encodeZ85Key(request[6])) ?? "")
    }
}
