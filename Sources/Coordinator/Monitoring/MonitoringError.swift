import Foundation

public enum MonitoringError: Error, CustomStringConvertible {
    case badEndpoint(String)
    case unreachable(endpoint: String, underlying: String)
    case httpStatus(endpoint: String, code: Int)
    case responseTooLarge(bytes: Int, limit: Int)
    case malformedStatus(String)
    case incompatibleStatus(theirs: Int, ours: Int)
    case serverFailed(String)
    case plotFailed(String)

    public var description: String {
        switch self {
        case .badEndpoint(let text):
            return "cannot use \(text) as a status endpoint; give host:port or http://host:port (the coordinator's --metrics-port)"
        case .unreachable(let endpoint, let underlying):
            return "cannot reach the coordinator at \(endpoint): \(underlying). Is it running with --metrics-port, and is the port open?"
        case .httpStatus(let endpoint, let code):
            return "the coordinator at \(endpoint) answered HTTP \(code); is this a lumiere-coordinator --metrics-port?"
        case .responseTooLarge(let bytes, let limit):
            return "status response of \(bytes) bytes exceeds the \(limit)-byte limit; is this a lumiere-coordinator?"
        case .malformedStatus(let why): return "status response is not a Lumière farm status: \(why)"
        case .incompatibleStatus(let theirs, let ours):
            return "the coordinator speaks status format \(theirs), this program \(ours); run the same Lumière version on both"
        case .serverFailed(let why): return "the status/metrics HTTP server failed: \(why)"
        case .plotFailed(let why): return "cannot write the throughput plot: \(why)"
        }
    }
}
