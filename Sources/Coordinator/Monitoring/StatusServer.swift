import FlyingFox
import FlyingSocks
import Foundation

/// The coordinator's HTTP endpoint (FlyingFox): `/metrics` in Prometheus text format, `/status.json` for
/// `lumiere-coordinator status --connect`, and `/` as plain text for a quick `curl`. Read-only.
public final class StatusServer: @unchecked Sendable {
    private let server: HTTPServer
    private let host: String
    private var runTask: Task<Void, Error>?
    public private(set) var port: UInt16 = 0

    /// `host`: the address to listen on (`127.0.0.1` by default: only this machine; `0.0.0.0` for a Prometheus
    /// elsewhere). `port` 0 picks a free one (see `port` after `start`).
    public init(host: String = "127.0.0.1", port: UInt16, snapshot: @escaping @Sendable () -> FarmSnapshot,
                metrics: FarmMetrics = FarmMetrics()) throws {
        do {
            if host.contains(":") {
                server = HTTPServer(address: try sockaddr_in6.inet6(ip6: host, port: port), timeout: 10, logger: .disabled)
            } else {
                server = HTTPServer(address: try sockaddr_in.inet(ip4: host, port: port), timeout: 10, logger: .disabled)
            }
        } catch {
            throw MonitoringError.serverFailed("\(host) is not a numeric IPv4 or IPv6 address (--metrics-host): \(error)")
        }
        self.host = host
        let routes: [(String, @Sendable (HTTPRequest) async throws -> HTTPResponse)] = [
            ("GET /metrics", { _ in
                HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                             body: Data(metrics.render(snapshot()).utf8))
            }),
            ("GET /status.json", { _ in
                HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"], body: try snapshot().jsonData())
            }),
            ("GET /", { _ in
                HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                             body: Data((LiveView.logLines(snapshot()).joined(separator: "\n") + "\n").utf8))
            }),
        ]
        let server = self.server
        let registered = DispatchSemaphore(value: 0)
        Task {
            for (route, handler) in routes { await server.appendRoute(HTTPRoute(stringLiteral: route), handler: handler) }
            registered.signal()
        }
        registered.wait()
    }

    /// Starts listening; returns once the socket is bound (or throws why it could not be).
    @discardableResult
    public func start(timeout: Double = 10) throws -> UInt16 {
        let server = self.server
        let task = Task { try await server.run() }
        runTask = task
        let box = StartResult()
        let ready = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.waitUntilListening(timeout: timeout)
                if case .ip4(_, let port) = await server.listeningAddress { box.port = port }
                if case .ip6(_, let port) = await server.listeningAddress { box.port = port }
            } catch {
                // run() failed (port in use, no permission): its error says why.
                if case .failure(let runError) = await task.result { box.error = runError } else { box.error = error }
            }
            ready.signal()
        }
        ready.wait()
        if let error = box.error {
            throw MonitoringError.serverFailed("cannot listen on \(host): \(error) (port in use? try another --metrics-port)")
        }
        port = box.port
        return port
    }

    public func stop() {
        let server = self.server
        let done = DispatchSemaphore(value: 0)
        Task { await server.stop(timeout: 1); done.signal() }
        done.wait()
        runTask?.cancel()
        runTask = nil
    }

    deinit { runTask?.cancel() }

    private final class StartResult: @unchecked Sendable {
        var port: UInt16 = 0
        var error: Error?
    }
}
