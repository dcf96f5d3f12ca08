import FlyingFox
import FlyingSocks
import Foundation

/// The coordinator's HTTP endpoint (FlyingFox): `/metrics` in Prometheus text format, `/status.json` for
/// `lumiere-coordinator status --connect`, and `/`: the live web page for a browser (WebPage.swift, fed by
/// `/farm.json`), plain text for a quick `curl` (anything that does not ask for HTML). Read-only.
public final class StatusServer: @unchecked Sendable {
    private let server: HTTPServer
    private let host: String
    private var runTask: Task<Void, Error>?
    public private(set) var port: UInt16 = 0

    /// `host`: the address to listen on (`127.0.0.1` by default: only this machine; `0.0.0.0` for a Prometheus
    /// elsewhere). `port` 0 picks a free one (see `port` after `start`).
    /// `web`: the page's model; by default the snapshot's workers and no job names.
    public init(host: String = "127.0.0.1", port: UInt16, snapshot: @escaping @Sendable () -> FarmSnapshot,
                metrics: FarmMetrics = FarmMetrics(), web: (@Sendable () -> WebStatus)? = nil) throws {
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
            ("GET /farm.json", { _ in
                let status = web?() ?? WebStatus(snapshot: snapshot(), history: ThroughputHistory(), jobs: JobList())
                return HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                                    body: try status.jsonData())
            }),
            ("GET /web.js", { _ in
                HTTPResponse(statusCode: .ok, headers: [.contentType: "text/javascript; charset=utf-8"], body: Data(WebPage.script.utf8))
            }),
            ("GET /", { request in
                guard (request.headers[HTTPHeader("Accept")] ?? "").contains("text/html") else {
                    return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                                        body: Data((LiveView.logLines(snapshot()).joined(separator: "\n") + "\n").utf8))
                }
                return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/html; charset=utf-8",
                                                              HTTPHeader("Content-Security-Policy"): WebPage.contentSecurityPolicy,
                                                              HTTPHeader("X-Content-Type-Options"): "nosniff"],
                                    body: Data(WebPage.html.utf8))
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
        let box = StartResult()
        runTask = Task {
            do { try await server.run() } catch { box.set(error: error) } // e.g. port in use: run() fails at once
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let error = box.error {
                throw MonitoringError.serverFailed("cannot listen on \(host): \(error) (port in use? try another --metrics-port)")
            }
            let probed = DispatchSemaphore(value: 0)
            Task {
                if await server.isListening, let address = await server.listeningAddress {
                    if case .ip4(_, let port) = address { box.set(port: port) }
                    if case .ip6(_, let port) = address { box.set(port: port) }
                }
                probed.signal()
            }
            probed.wait()
            if let port = box.port { self.port = port; return port }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw MonitoringError.serverFailed("cannot listen on \(host): not listening after \(timeout) s")
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
        private let lock = NSLock()
        private var _port: UInt16?
        private var _error: Error?
        var port: UInt16? { lock.withLock { _port } }
        var error: Error? { lock.withLock { _error } }
        func set(port: UInt16) { lock.withLock { _port = port } }
        func set(error: Error) { lock.withLock { _error = error } }
    }
}
