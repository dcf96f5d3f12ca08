import CZMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Waits on many sockets' ZMQ_FD descriptors at once, for one thread driving thousands of sockets (the swarm
/// simulator of issue 16 item 9). `zmq_poll` and poll(2) cost O(sockets) per wait — 10,000 sockets at hundreds
/// of wake-ups a second is a core — while epoll costs O(ready). libzmq's own epoll-backed `zmq_poller` is a draft
/// API that Debian's libzmq5 does not export, hence this.
///
/// A wake-up only says "ask the socket": check `Socket.hasMessage()` after every send or receive on a socket too
/// (libzmq can consume the descriptor's signal inside them). Other platforms fall back to poll(2).
public final class ReadinessSet {
    #if os(Linux)
    private let epoll: Int32
    private var events: [epoll_event]
    #else
    private var entries: [(fd: Int32, token: UInt64)] = []
    #endif

    public init(capacityHint: Int = 1024) throws {
        #if os(Linux)
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw TransportError.failed(operation: "epoll_create1", code: errno, reason: String(cString: strerror(errno))) }
        events = Array(repeating: epoll_event(), count: max(16, min(capacityHint, 4096)))
        #endif
    }

    deinit {
        #if os(Linux)
        close(epoll)
        #endif
    }

    /// Watches `socket`; `wait` returns `token` when its descriptor signals.
    public func add(_ socket: Socket, token: UInt64) throws {
        try add(fileDescriptor: try socket.readinessDescriptor(), token: token)
    }

    /// Stops watching `socket`; call before closing it (its descriptor number is reused afterwards).
    public func remove(_ socket: Socket) throws {
        let fd = try socket.readinessDescriptor()
        #if os(Linux)
        var event = epoll_event()
        guard epoll_ctl(epoll, EPOLL_CTL_DEL, fd, &event) == 0 else {
            throw TransportError.failed(operation: "epoll_ctl del", code: errno, reason: String(cString: strerror(errno)))
        }
        #else
        entries.removeAll { $0.fd == fd }
        #endif
    }

    /// Watches a plain descriptor (e.g. a pipe) under `token`.
    public func add(fileDescriptor fd: Int32, token: UInt64) throws {
        #if os(Linux)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = token
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else {
            throw TransportError.failed(operation: "epoll_ctl add", code: errno, reason: String(cString: strerror(errno)))
        }
        #else
        entries.append((fd, token))
        #endif
    }

    /// Tokens whose descriptors signalled, waiting at most `timeoutMs` (0: just look). Interrupted: none.
    public func wait(timeoutMs: Int32) throws -> [UInt64] {
        #if os(Linux)
        let count = epoll_wait(epoll, &events, Int32(events.count), timeoutMs)
        if count < 0 {
            if errno == EINTR { return [] }
            throw TransportError.failed(operation: "epoll_wait", code: errno, reason: String(cString: strerror(errno)))
        }
        return (0..<Int(count)).map { events[$0].data.u64 }
        #else
        var fds = entries.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        let count = poll(&fds, nfds_t(fds.count), timeoutMs)
        if count < 0 {
            if errno == EINTR { return [] }
            throw TransportError.failed(operation: "poll", code: errno, reason: String(cString: strerror(errno)))
        }
        return zip(fds, entries).compactMap { $0.0.revents & Int16(POLLIN) != 0 ? $0.1.token : nil }
        #endif
    }
}
