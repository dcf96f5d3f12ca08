/// Errors of the ZeroMQ transport, with libzmq's reason and what to do about it.
public enum TransportError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A non-blocking call would block (queue full at the high-water mark, or nothing to receive).
    case wouldBlock
    /// A signal interrupted a blocking call; retry or check for shutdown.
    case interrupted
    /// libzmq failed `operation` with `code` (errno value) and `reason` (zmq_strerror).
    case failed(operation: String, code: Int32, reason: String)
    case invalidEndpoint(String, reason: String)
    case invalidKey(String)
    case curveUnavailable
    case insecureBind(endpoint: String)

    public var description: String {
        switch self {
        case .wouldBlock: return "ZeroMQ operation would block"
        case .interrupted: return "ZeroMQ call interrupted by a signal"
        case .failed(let operation, let code, let reason): return "ZeroMQ \(operation) failed: \(reason) (errno \(code))"
        case .invalidEndpoint(let endpoint, let reason): return "invalid endpoint '\(endpoint)': \(reason)"
        case .invalidKey(let reason): return "invalid CURVE key: \(reason)"
        case .curveUnavailable:
            return "this libzmq was built without CURVE support: install a libzmq built with libsodium (Debian's libzmq5 is)"
        case .insecureBind(let endpoint):
            return "refusing to bind \(endpoint) without CURVE keys: it is reachable from other machines. "
                + "Configure keys (lumiere-coordinator keygen) or pass --insecure if the network is trusted"
        }
    }
}
