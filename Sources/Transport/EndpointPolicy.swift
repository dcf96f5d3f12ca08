/// Decides whether a bind endpoint may be used without CURVE keys.
public enum EndpointPolicy {
    /// True for endpoints only this machine can reach: ipc://, inproc://, and tcp on a loopback address.
    public static func isLocalOnly(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        var host = String(endpoint.dropFirst("tcp://".count))
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            host = String(host[host.index(after: host.startIndex)..<close])
            return host == "::1"
        }
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        // An interface name or `*` could be any address, so only literal loopback counts.
        return host == "localhost" || host.hasPrefix("127.")
    }

    /// Throws `TransportError.insecureBind` for a non-local bind without keys unless `insecure` is set.
    /// The coordinator CLI calls this for `--bind` before it opens any socket.
    public static func validateBind(_ endpoint: String, keysConfigured: Bool, insecure: Bool) throws {
        guard endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") else {
            throw TransportError.invalidEndpoint(endpoint, reason: "use tcp://HOST:PORT or ipc:///path")
        }
        if keysConfigured || insecure || isLocalOnly(endpoint) { return }
        throw TransportError.insecureBind(endpoint: endpoint)
    }
}
