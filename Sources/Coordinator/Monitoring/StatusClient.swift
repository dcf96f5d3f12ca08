import Foundation

/// Fetches a running coordinator's `/status.json` (or `/metrics`) with a minimal blocking HTTP/1.0 GET:
/// the reply is untrusted, so its size is capped and its status line checked before the body is used.
public enum StatusClient {
    public struct Endpoint: Equatable, Sendable {
        public var host: String
        public var port: UInt16

        /// `host:port`, `http://host:port`, `http://host:port/...`, `[::1]:port`.
        public init(parsing text: String) throws {
            var rest = Substring(text.trimmingCharacters(in: .whitespaces))
            if rest.hasPrefix("http://") { rest = rest.dropFirst(7) }
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            let hostPart: Substring, portPart: Substring
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                hostPart = rest[rest.index(after: rest.startIndex)..<close]
                let after = rest[rest.index(after: close)...]
                guard after.hasPrefix(":") else { throw MonitoringError.badEndpoint(text) }
                portPart = after.dropFirst()
            } else {
                guard let colon = rest.lastIndex(of: ":") else { throw MonitoringError.badEndpoint(text) }
                hostPart = rest[..<colon]
                portPart = rest[rest.index(after: colon)...]
            }
            guard !hostPart.isEmpty, let port = UInt16(portPart), port > 0 else { throw MonitoringError.badEndpoint(text) }
            host = String(hostPart)
            self.port = port
        }

        public var description: String { host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)" }
    }

    public static let maxResponseBytes = 16 << 20

    public static func fetchStatus(_ endpoint: Endpoint, timeout: Double = 5) throws -> FarmSnapshot {
        try FarmSnapshot.decode(get(endpoint, path: "/status.json", timeout: timeout))
    }

    /// GET `path`; returns the body of a 200 answer.
    public static func get(_ endpoint: Endpoint, path: String, timeout: Double = 5) throws -> Data {
        let fd = try connect(endpoint, timeout: timeout)
        defer { close(fd) }
        let request = "GET \(path) HTTP/1.0\r\nHost: \(endpoint.host)\r\nUser-Agent: lumiere-coordinator\r\nConnection: close\r\n\r\n"
        var bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw MonitoringError.unreachable(endpoint: endpoint.description, underlying: errnoText()) }
            sent += n
        }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let deadline = Date().addingTimeInterval(timeout) // a peer trickling bytes must not hold us forever
        while true {
            guard Date() < deadline else {
                throw MonitoringError.unreachable(endpoint: endpoint.description, underlying: "no complete answer within \(timeout) s")
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw MonitoringError.unreachable(endpoint: endpoint.description, underlying: "reading: \(errnoText())") }
            response += buffer[0..<n]
            guard response.count <= maxResponseBytes else {
                throw MonitoringError.responseTooLarge(bytes: response.count, limit: maxResponseBytes)
            }
        }
        return try body(of: response, endpoint: endpoint)
    }

    /// Splits an HTTP/1.x response; anything but `200` is an error naming the code.
    static func body(of response: [UInt8], endpoint: Endpoint) throws -> Data {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, response.count - 3)).first(where: { Array(response[$0..<$0 + 4]) == separator }),
              let head = String(bytes: response[0..<end], encoding: .utf8) else {
            throw MonitoringError.malformedStatus("no HTTP header in the \(response.count)-byte answer")
        }
        let status = head.split(separator: "\r\n").first.map { $0.split(separator: " ") } ?? []
        guard status.count >= 2, status[0].hasPrefix("HTTP/1."), let code = Int(status[1]) else {
            throw MonitoringError.malformedStatus("not an HTTP status line: \(head.prefix(80))")
        }
        guard code == 200 else { throw MonitoringError.httpStatus(endpoint: endpoint.description, code: code) }
        return Data(response[(end + 4)...])
    }

    private static func connect(_ endpoint: Endpoint, timeout: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.host, "\(endpoint.port)", &hints, &list)
        guard rc == 0, let first = list else {
            throw MonitoringError.unreachable(endpoint: endpoint.description, underlying: "cannot resolve \(endpoint.host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errnoText(); continue }
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            lastError = errnoText()
            close(fd)
        }
        throw MonitoringError.unreachable(endpoint: endpoint.description, underlying: lastError)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
