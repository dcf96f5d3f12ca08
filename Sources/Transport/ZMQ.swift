import CZMQ
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one place that calls libzmq: return codes become `TransportError`, and no C type leaves this file.

/// A ZeroMQ context: owns the I/O threads and the inproc namespace (one ZAP handler per context).
public final class MessagingContext: @unchecked Sendable {
    fileprivate let handle: UnsafeMutableRawPointer

    /// `maxSockets`: libzmq refuses a context's 1,024th socket (ZMQ_MAX_SOCKETS defaults to 1023), so a process
    /// holding thousands of connections (the swarm simulator) must raise it before the first socket opens.
    public init(ioThreads: Int32 = 1, maxSockets: Int32? = nil) throws {
        guard let handle = zmq_ctx_new() else { throw lastError("zmq_ctx_new") }
        self.handle = handle
        _ = zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
        if let maxSockets, zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, maxSockets) != 0 {
            let failure = lastError("zmq_ctx_set ZMQ_MAX_SOCKETS \(maxSockets)")
            while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
            throw failure
        }
    }

    /// Sockets keep their context alive, so by the time this runs every socket is closed and term returns.
    deinit { while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {} }

    public static var hasCurve: Bool { zmq_has("curve") != 0 }
}

public enum SocketKind: Sendable {
    case router, dealer, reply, request, pair

    fileprivate var raw: Int32 {
        switch self {
        case .router: return ZMQ_ROUTER
        case .dealer: return ZMQ_DEALER
        case .reply: return ZMQ_REP
        case .request: return ZMQ_REQ
        case .pair: return ZMQ_PAIR
        }
    }
}

/// A ZeroMQ socket. Like libzmq sockets it must be used by one thread at a time.
public final class Socket {
    private var handle: UnsafeMutableRawPointer?
    public let kind: SocketKind
    fileprivate let context: MessagingContext

    public init(_ context: MessagingContext, _ kind: SocketKind) throws {
        guard let handle = zmq_socket(context.handle, kind.raw) else { throw lastError("zmq_socket") }
        self.handle = handle
        self.kind = kind
        self.context = context
        try setInt(ZMQ_LINGER, 0, "ZMQ_LINGER") // never block close/term on unsent messages; the protocol retries
    }

    deinit { close() }

    public func close() {
        if let handle { zmq_close(handle) }
        handle = nil
    }

    fileprivate func live() throws -> UnsafeMutableRawPointer {
        guard let handle else { throw TransportError.failed(operation: "use of closed socket", code: EBADF, reason: "socket closed") }
        return handle
    }

    // MARK: Options (set before bind/connect)

    public struct Options {
        public var sendHighWaterMark: Int32?
        public var receiveHighWaterMark: Int32?
        public var maxMessageBytes: Int64?
        public var lingerMs: Int32?
        /// ROUTER: fail with EHOSTUNREACH instead of silently dropping a message to an unknown peer.
        public var routerMandatory: Bool?
        public var reconnectIntervalMs: Int32?
        public var reconnectIntervalMaxMs: Int32?
        /// Queue messages only to completed connections (so a send before the handshake fails, not queues).
        public var immediate: Bool?
        public var zapDomain: String?
        public init() {}
    }

    public func apply(_ options: Options) throws {
        if let v = options.sendHighWaterMark { try setInt(ZMQ_SNDHWM, v, "ZMQ_SNDHWM") }
        if let v = options.receiveHighWaterMark { try setInt(ZMQ_RCVHWM, v, "ZMQ_RCVHWM") }
        if let v = options.maxMessageBytes { try setRaw(ZMQ_MAXMSGSIZE, v, "ZMQ_MAXMSGSIZE") }
        if let v = options.lingerMs { try setInt(ZMQ_LINGER, v, "ZMQ_LINGER") }
        if let v = options.routerMandatory { try setInt(ZMQ_ROUTER_MANDATORY, v ? 1 : 0, "ZMQ_ROUTER_MANDATORY") }
        if let v = options.reconnectIntervalMs { try setInt(ZMQ_RECONNECT_IVL, v, "ZMQ_RECONNECT_IVL") }
        if let v = options.reconnectIntervalMaxMs { try setInt(ZMQ_RECONNECT_IVL_MAX, v, "ZMQ_RECONNECT_IVL_MAX") }
        if let v = options.immediate { try setInt(ZMQ_IMMEDIATE, v ? 1 : 0, "ZMQ_IMMEDIATE") }
        if let v = options.zapDomain { try setBytes(ZMQ_ZAP_DOMAIN, Array(v.utf8), "ZMQ_ZAP_DOMAIN") }
    }

    /// Makes this socket a CURVE server (the coordinator): clients must know `keys.publicKey`.
    public func makeCurveServer(_ keys: CurveKeyPair) throws {
        guard MessagingContext.hasCurve else { throw TransportError.curveUnavailable }
        try setInt(ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER")
        try setBytes(ZMQ_CURVE_SECRETKEY, try keys.secretKeyBytes(), "ZMQ_CURVE_SECRETKEY")
    }

    /// Makes this socket a CURVE client (a worker) of the server whose Z85 public key is `serverPublicKey`.
    public func makeCurveClient(_ keys: CurveKeyPair, serverPublicKey: String) throws {
        guard MessagingContext.hasCurve else { throw TransportError.curveUnavailable }
        try setBytes(ZMQ_CURVE_SERVERKEY, try CurveKeyPair.decodeZ85Key(serverPublicKey), "ZMQ_CURVE_SERVERKEY")
        try setBytes(ZMQ_CURVE_PUBLICKEY, try keys.publicKeyBytes(), "ZMQ_CURVE_PUBLICKEY")
        try setBytes(ZMQ_CURVE_SECRETKEY, try keys.secretKeyBytes(), "ZMQ_CURVE_SECRETKEY")
    }

    private func setInt(_ option: Int32, _ value: Int32, _ name: String) throws { try setRaw(option, value, name) }

    private func setRaw<T: FixedWidthInteger>(_ option: Int32, _ value: T, _ name: String) throws {
        let handle = try live()
        let rc = withUnsafeBytes(of: value) { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw lastError("setsockopt \(name)") }
    }

    private func setBytes(_ option: Int32, _ bytes: [UInt8], _ name: String) throws {
        let handle = try live()
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw lastError("setsockopt \(name)") }
    }

    // MARK: Endpoints

    /// Binds and returns the endpoint actually bound (with the port filled in for `tcp://host:*`).
    @discardableResult
    public func bind(_ endpoint: String) throws -> String {
        let handle = try live()
        guard zmq_bind(handle, endpoint) == 0 else { throw lastError("bind \(endpoint)") }
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return endpoint }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func connect(_ endpoint: String) throws {
        let handle = try live()
        guard zmq_connect(handle, endpoint) == 0 else { throw lastError("connect \(endpoint)") }
    }

    // MARK: Messages

    /// Sends a (multi-part) message without blocking. Returns false if the peer's queue is full (HWM) —
    /// the caller keeps the message and retries later — and throws on real errors (e.g. unknown peer).
    @discardableResult
    public func send(parts: [[UInt8]]) throws -> Bool {
        let handle = try live()
        for (index, part) in parts.enumerated() {
            let more = index < parts.count - 1
            let flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)
            let rc = part.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            if rc < 0 {
                let code = zmq_errno()
                // Only the first part can be refused by the HWM; later parts are atomic with it.
                if code == EAGAIN && index == 0 { return false }
                if code == EINTR { throw TransportError.interrupted }
                throw error(code, "send")
            }
        }
        return true
    }

    /// Receives one whole message (all parts) without blocking; nil when nothing is queued. Reads no connection
    /// metadata: the coordinator receives every heartbeat of every worker here, and two metadata look-ups and strings
    /// per message were wasted on it (`receiveFromPeer` reads them).
    public func receive() throws -> [[UInt8]]? { try receive(metadata: false)?.parts }

    /// `receive`, with who sent it: the ZAP handler's user id for the connection (`ZAPAuthenticator` gives the
    /// client's Z85 public key; nil without CURVE) and the peer's address (nil for ipc:// and inproc://).
    public func receiveFromPeer() throws -> (parts: [[UInt8]], userID: String?, peerAddress: String?)? {
        try receive(metadata: true)
    }

    private func receive(metadata: Bool) throws -> (parts: [[UInt8]], userID: String?, peerAddress: String?)? {
        let handle = try live()
        var parts: [[UInt8]] = []
        var userID: String?, peerAddress: String?
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            let rc = zmq_msg_recv(&message, handle, parts.isEmpty ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let code = zmq_errno()
                if code == EAGAIN && parts.isEmpty { return nil }
                if code == EINTR { throw TransportError.interrupted }
                throw error(code, "receive")
            }
            if parts.isEmpty && metadata {
                // Metadata of the connection the message came on (libzmq's strings live as long as the message).
                userID = zmq_msg_gets(&message, "User-Id").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
                peerAddress = zmq_msg_gets(&message, "Peer-Address").map { String(cString: $0) }
            }
            let size = zmq_msg_size(&message)
            if size > 0, let data = zmq_msg_data(&message) {
                parts.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                parts.append([])
            }
            if zmq_msg_more(&message) == 0 { return (parts, userID, peerAddress) }
        }
    }

    // MARK: Readiness for an external event loop (epoll over thousands of sockets)

    /// The descriptor libzmq signals when this socket's state may have changed (ZMQ_FD). It is not the data
    /// connection: readable means "ask `hasMessage`", and libzmq may consume the signal during any send or
    /// receive, so a caller must check `hasMessage` after every operation on the socket, not only on wake-ups.
    public func readinessDescriptor() throws -> Int32 {
        let handle = try live()
        var fd: Int32 = -1
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, ZMQ_FD, &fd, &size) == 0 else { throw lastError("getsockopt ZMQ_FD") }
        return fd
    }

    /// Whether a whole message can be received now (ZMQ_EVENTS has POLLIN); also clears a pending ZMQ_FD signal.
    public func hasMessage() throws -> Bool {
        let handle = try live()
        var events: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, ZMQ_EVENTS, &events, &size) == 0 else { throw lastError("getsockopt ZMQ_EVENTS") }
        return events & Int32(ZMQ_POLLIN) != 0
    }

    /// Waits until any of `sockets` has a message to read, or `timeoutMs` passes; returns which are readable.
    /// `fileDescriptors` (e.g. a wake-up pipe) are polled alongside; their results follow the sockets'.
    public static func pollReadable(_ sockets: [Socket], fileDescriptors: [Int32] = [], timeoutMs: Int) throws -> [Bool] {
        var items = try sockets.map { zmq_pollitem_t(socket: try $0.live(), fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        items += fileDescriptors.map { zmq_pollitem_t(socket: nil, fd: $0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let rc = zmq_poll(&items, Int32(items.count), timeoutMs)
        if rc < 0 {
            let code = zmq_errno()
            if code == EINTR { return Array(repeating: false, count: items.count) }
            throw error(code, "poll")
        }
        return items.map { ($0.revents & Int16(ZMQ_POLLIN)) != 0 }
    }
}

/// How a connecting socket's handshakes fail, from libzmq's socket monitor: a CURVE client whose key the server's
/// ZAP handler refused hears nothing else (libzmq keeps its message queued and does not reconnect), so this is how a
/// client tells "refused" from "nobody there".
public final class HandshakeMonitor {
    public enum Failure: Equatable, Sendable {
        /// The server's ZAP handler refused us, with its status code (400: our key is not listed).
        case refused(status: Int)
        /// The handshake broke off (e.g. we named the wrong server key, or the peer is not a CURVE server).
        case failed
    }

    /// The PAIR socket libzmq sends the events to; poll it with the watched socket.
    public let events: Socket

    private static let counter = LockedCounter()

    /// Starts monitoring `socket` (before it connects).
    public init(watching socket: Socket) throws {
        let address = "inproc://lumiere-monitor-\(getpid())-\(HandshakeMonitor.counter.next())"
        let mask = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        guard zmq_socket_monitor(try socket.live(), address, mask) == 0 else { throw lastError("zmq_socket_monitor") }
        events = try Socket(socket.context, .pair)
        try events.connect(address)
    }

    /// The failure among the events received so far, if any (never blocks).
    public func failure() throws -> Failure? {
        while let parts = try events.receive() {
            // Frame 1: the event (uint16) and its value (uint32), native byte order; frame 2: the endpoint.
            guard let first = parts.first, first.count >= 6 else { continue }
            let event = first.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) }
            let value = first.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self) }
            if Int32(event) == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH { return .refused(status: Int(value)) }
            return .failed
        }
        return nil
    }

    deinit { events.close() }
}

private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}

// MARK: CURVE key helpers backed by libzmq

extension CurveKeyPair {
    /// A fresh key pair from libzmq (libsodium's randomness).
    public static func generate() throws -> CurveKeyPair {
        guard MessagingContext.hasCurve else { throw TransportError.curveUnavailable }
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw lastError("zmq_curve_keypair") }
        let text = { (chars: [CChar]) in String(decoding: chars.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return try CurveKeyPair(publicKey: text(publicKey), secretKey: text(secretKey))
    }

    /// Decodes a 40-character Z85 key into its 32 bytes.
    public static func decodeZ85Key(_ text: String) throws -> [UInt8] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count == 40 else { throw TransportError.invalidKey("expected 40 Z85 characters, got \(trimmed.utf8.count)") }
        var output = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&output, trimmed) != nil else { throw TransportError.invalidKey("'\(trimmed)' is not valid Z85") }
        return output
    }

    /// Encodes 32 key bytes as Z85 (as ZAP hands keys over in binary).
    public static func encodeZ85Key(_ bytes: [UInt8]) throws -> String {
        guard bytes.count == 32 else { throw TransportError.invalidKey("expected 32 bytes, got \(bytes.count)") }
        var output = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&output, bytes, 32) != nil else { throw TransportError.invalidKey("Z85 encoding failed") }
        return String(decoding: output.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

private func lastError(_ operation: String) -> TransportError { error(zmq_errno(), operation) }

private func error(_ code: Int32, _ operation: String) -> TransportError {
    if code == EAGAIN { return .wouldBlock }
    if code == EINTR { return .interrupted }
    return .failed(operation: operation, code: code, reason: String(cString: zmq_strerror(code)))
}
