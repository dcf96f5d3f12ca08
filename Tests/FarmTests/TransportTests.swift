import Foundation
import Transport
import TestSupport
import XCTest

final class TransportTests: XCTestCase {
    func testLoopbackAndIpcBindsNeedNoKeysButPublicOnesDo() throws {
        for endpoint in ["ipc:///tmp/lumiere.sock", "tcp://127.0.0.1:5555", "tcp://localhost:5555", "tcp://[::1]:5555", "tcp://127.0.0.1:*"] {
            XCTAssertNoThrow(try EndpointPolicy.validateBind(endpoint, keysConfigured: false, insecure: false), endpoint)
        }
        for endpoint in ["tcp://*:5555", "tcp://0.0.0.0:5555", "tcp://192.168.1.10:5555", "tcp://eth0:5555", "tcp://[::]:5555"] {
            XCTAssertThrowsError(try EndpointPolicy.validateBind(endpoint, keysConfigured: false, insecure: false), endpoint) {
                XCTAssertEqual($0 as? TransportError, .insecureBind(endpoint: endpoint))
                XCTAssertTrue("\($0)".contains("--insecure"))
            }
            XCTAssertNoThrow(try EndpointPolicy.validateBind(endpoint, keysConfigured: true, insecure: false))
            XCTAssertNoThrow(try EndpointPolicy.validateBind(endpoint, keysConfigured: false, insecure: true))
        }
        XCTAssertThrowsError(try EndpointPolicy.validateBind("http://x", keysConfigured: true, insecure: true))
    }

    func testKeygenWritesLoadableKeyFilesWithPrivateSecret() throws {
        try Fixtures.require(MessagingContext.hasCurve, "libzmq without CURVE")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pair = try CurveKeyPair.generate()
        XCTAssertNotEqual(pair, try CurveKeyPair.generate())
        let files = try pair.write(to: directory, name: "coordinator")
        XCTAssertEqual(try CurveKeyPair.load(secretFile: files.secretFile, publicFile: files.publicFile), pair)
        let mode = try FileManager.default.attributesOfItem(atPath: files.secretFile.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        XCTAssertThrowsError(try pair.write(to: directory, name: "coordinator"), "never overwrite a secret key")
        XCTAssertEqual(try CurveKeyPair.decodeZ85Key(pair.publicKey).count, 32)
        let other = try CurveKeyPair.generate()
        try other.write(to: directory, name: "worker-b")
        XCTAssertEqual(try CurveKeyPair.readPublicKeys(directory: directory), [pair.publicKey, other.publicKey])
        XCTAssertThrowsError(try CurveKeyPair.readPublicKeys(directory: directory.appendingPathComponent("none")))
        // A worker's .pub copied in for the allow-list (no .key beside it) is not replaced either, and no key is made.
        let copied = directory.appendingPathComponent("worker-c.pub")
        try Data("copied\n".utf8).write(to: copied)
        XCTAssertThrowsError(try CurveKeyPair.generate().write(to: directory, name: "worker-c")) { XCTAssert("\($0)".contains("exists already"), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: copied), Data("copied\n".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("worker-c.key").path))
    }

    func testMalformedKeysAreRejected() throws {
        XCTAssertThrowsError(try CurveKeyPair.decodeZ85Key("short"))
        XCTAssertThrowsError(try CurveKeyPair.decodeZ85Key(String(repeating: "~", count: 40)) )
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("badkey-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let big = directory.appendingPathComponent("big.pub")
        try Data(repeating: 65, count: 10_000).write(to: big)
        XCTAssertThrowsError(try CurveKeyPair.readKeyFile(big))
        XCTAssertThrowsError(try CurveKeyPair.readKeyFile(directory.appendingPathComponent("missing.pub")))
    }

    func testRouterDealerRoundTripAndMaxMessageSizeDropsOversizedPeer() throws {
        let context = try MessagingContext()
        let router = try Socket(context, .router)
        var options = Socket.Options()
        options.maxMessageBytes = 1000
        try router.apply(options)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:") && !endpoint.hasSuffix("*"), endpoint)
        let dealer = try Socket(context, .dealer)
        try dealer.connect(endpoint)
        XCTAssertTrue(try dealer.send(parts: [[1, 2, 3]]))
        let message = try receive(router)
        XCTAssertEqual(message.count, 2)
        XCTAssertEqual(message[1], [1, 2, 3])
        XCTAssertTrue(try router.send(parts: [message[0], [4, 5]]))
        XCTAssertEqual(try receive(dealer), [[4, 5]])
        // Oversized: libzmq drops the connection instead of delivering the message.
        XCTAssertTrue(try dealer.send(parts: [[UInt8](repeating: 1, count: 5000)]))
        _ = try Socket.pollReadable([router], timeoutMs: 300)
        XCTAssertNil(try router.receive())
    }

    private func receive(_ socket: Socket) throws -> [[UInt8]] {
        for _ in 0..<100 {
            if try Socket.pollReadable([socket], timeoutMs: 50)[0], let message = try socket.receive() { return message }
        }
        throw TransportError.wouldBlock
    }
}
