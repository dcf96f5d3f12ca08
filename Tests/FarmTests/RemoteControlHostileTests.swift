import Coordinator
import Foundation
import TestSupport
import Transport
import XCTest

/// The service's remote control endpoint (`serve --control-bind`) takes bytes from other machines: even from an allowed
/// key, what is not a request a person could have typed is refused with a reply, not acted on, and a message over the
/// size limit costs the sender its connection; the service answers the next good request. The `submit` checks the
/// `submit` command makes on the client are made again on the service (a client is not trusted to have made them).
final class RemoteControlHostileTests: XCTestCase {
    private var dir: URL!
    private var service: Process?

    override func setUpWithError() throws {
        try Fixtures.require(MessagingContext.hasCurve, "libzmq without CURVE")
        dir = try Fixtures.temporaryDirectory("remote-hostile")
    }

    override func tearDownWithError() throws {
        if let service, service.isRunning { kill(service.processIdentifier, SIGKILL); service.waitUntilExit() }
        try? FileManager.default.removeItem(at: dir)
    }

    func testAllowedClientSendingGarbageGetsRefusalsAndTheServiceGoesOn() throws {
        let keys = dir.appendingPathComponent("keys")
        let coordinator = try CurveKeyPair.generate(), worker = try CurveKeyPair.generate(), client = try CurveKeyPair.generate()
        try coordinator.write(to: keys, name: "coordinator")
        try worker.write(to: keys.appendingPathComponent("workers"), name: "w1")
        try client.write(to: keys.appendingPathComponent("clients"), name: "alice")
        // The clients/ directory holds alice.key too: only *.pub files are read from an allow-list directory.
        let endpoint = "tcp://127.0.0.1:\(try Fixtures.freeLoopbackPort())"
        let process = Process()
        process.executableURL = try Fixtures.product("lumiere-coordinator")
        process.arguments = ["serve", "--state-dir", dir.appendingPathComponent("state").path, "--bind", "tcp://127.0.0.1:\(try Fixtures.freeLoopbackPort())",
                             "--key", keys.appendingPathComponent("coordinator.key").path, "--allow-keys", keys.appendingPathComponent("workers").path,
                             "--control-bind", endpoint, "--control-allow-keys", keys.appendingPathComponent("clients").path, "--log-level", "info"]
        let log = dir.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        service = process
        func serviceLog() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(30)
        while !serviceLog().contains("remote control on"), Date() < deadline, process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertTrue(serviceLog().contains("remote control on"), serviceLog())

        /// One message from alice on a fresh connection; the reply, or nil when none came within `timeout`.
        func ask(_ parts: [[UInt8]], timeout: Double = 5) throws -> ControlReply? {
            let context = try MessagingContext()
            let socket = try Socket(context, .request)
            defer { socket.close() }
            try socket.makeCurveClient(client, serverPublicKey: coordinator.publicKey)
            try socket.connect(endpoint)
            XCTAssertTrue(try socket.send(parts: parts))
            let end = Date().addingTimeInterval(timeout)
            while Date() < end {
                if try Socket.pollReadable([socket], timeoutMs: 100)[0], let reply = try socket.receive() {
                    XCTAssertEqual(reply.count, 1)
                    return try JSONDecoder().decode(ControlReply.self, from: Data(reply[0]))
                }
            }
            return nil
        }
        func request(_ request: ControlRequest) throws -> [[UInt8]] { [Array(try JSONEncoder().encode(request))] }

        let notJSON = try XCTUnwrap(try ask([Array("\u{0}\u{1}{garbage".utf8)]))
        XCTAssertEqual(notJSON.status, 64)
        XCTAssertEqual(notJSON.error, "not a Lumière control request")
        let twoParts = try XCTUnwrap(try ask(try request(ControlRequest(command: .jobs)) + [[1, 2, 3]]))
        XCTAssertEqual(twoParts.error, "not a Lumière control request")
        let tooMany = try XCTUnwrap(try ask(try request(ControlRequest(command: .submit, arguments: Array(repeating: "-q", count: 2000)))))
        XCTAssertEqual(tooMany.status, 64)
        XCTAssertTrue(tooMany.error?.contains("2000 arguments (at most 1024)") == true, "\(tooMany)")
        let longPath = try XCTUnwrap(try ask(try request(ControlRequest(command: .submit, arguments: ["/" + String(repeating: "a", count: 5000), "-o", "/x.mp4"]))))
        XCTAssertTrue(longPath.error?.contains("longer than 4096 bytes") == true, "\(longPath)")
        // Over the 1 MiB limit: libzmq drops the connection before the service sees a byte of it; no reply.
        XCTAssertNil(try ask([[UInt8](repeating: 0x7b, count: 2 << 20)], timeout: 2))

        // A submit the client-side checks would have stopped: made again on the service.
        let film = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        let farmOption = try XCTUnwrap(try ask(try request(ControlRequest(command: .submit, arguments: [film, "-o", dir.appendingPathComponent("a.mp4").path,
                                                                                                        "--bind", "tcp://*:1"]))))
        XCTAssertEqual(farmOption.status, 64)
        XCTAssertTrue(farmOption.error?.contains("--bind is the service's to set") == true, "\(farmOption)")
        // A directory sent with relative paths is not used: the paths must be the head node's own, absolute.
        let relative = try XCTUnwrap(try ask(try request(ControlRequest(command: .submit, arguments: ["carphone.mp4", "-o", "a.mp4"],
                                                                        directory: (film as NSString).deletingLastPathComponent))))
        XCTAssertEqual(relative.status, 64)
        XCTAssertTrue(relative.error?.contains("relative") == true, "\(relative)")
        let badOption = try XCTUnwrap(try ask(try request(ControlRequest(command: .submit, arguments: [film, "-o", "/tmp/b.mp4", "--tile", "7"]))))
        XCTAssertEqual(badOption.status, 1, "\(badOption)") // `restore --tile 7` exits 1 too (a ValidationFailure)
        XCTAssertTrue(badOption.error?.contains("--tile") == true, "\(badOption)")

        // Nothing was queued, and the service still answers.
        let jobs = try XCTUnwrap(try ask(try request(ControlRequest(command: .jobs))))
        XCTAssertNil(jobs.error)
        XCTAssertEqual(jobs.jobs, [])
        XCTAssertTrue(process.isRunning)
        XCTAssertTrue(serviceLog().contains("refused a control request from alice"), serviceLog())
    }
}
