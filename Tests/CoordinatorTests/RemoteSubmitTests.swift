import Foundation
import TestSupport
import XCTest

/// Issue 18 item 1, "or clients presenting an allowed CURVE key — never an open port", with the real executables:
/// `serve --control-bind` with an allow-list of client keys; `submit`/`jobs`/`cancel` from "another machine"
/// (`--service`, `--server-key`, `--key`). An allowed key submits and lists, and its job's output is byte-identical to
/// `restore`'s; an unknown key (and a worker's key) gets no answer and the client says so within its timeout; each
/// remote request is logged with the client's key; the Unix socket still works beside it; and `serve` refuses a
/// control endpoint without an allow-list or without a key pair.
final class RemoteSubmitTests: XCTestCase {
    private var dir: URL!
    private var processes: LoggedProcesses!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("remote-submit")
        processes = LoggedProcesses(in: dir)
    }

    override func tearDownWithError() throws {
        processes?.stopAll()
        try? FileManager.default.removeItem(at: dir)
    }

    func testAllowedKeySubmitsFromAnotherMachineAndOthersAreRefused() throws {
        let film = try clip()
        let reference = dir.appendingPathComponent("reference.mp4")
        let restored = try Fixtures.runProduct("lumiere-coordinator", ["restore", film.path, "-o", reference.path] + settings
                                               + ["--job-dir", dir.appendingPathComponent("reference-job").path, "--workers", "1"], timeout: 300)
        XCTAssertEqual(restored.status, 0, restored.stderr)

        let keys = try makeKeys()
        let state = dir.appendingPathComponent("state")
        let workerEndpoint = "tcp://127.0.0.1:\(try Fixtures.freeLoopbackPort())"
        let controlEndpoint = "tcp://127.0.0.1:\(try Fixtures.freeLoopbackPort())"
        _ = try launch("lumiere-coordinator", ["serve", "--state-dir", state.path, "--bind", workerEndpoint, "--key", keys.coordinatorKey,
                                               "--allow-keys", keys.workers, "--control-bind", controlEndpoint, "--control-allow-keys", keys.clients,
                                               "--log-level", "info"], log: "serve.log")
        XCTAssertTrue(waitFor(30) { log("serve.log").contains("remote control on") }, log("serve.log"))
        _ = try launch("lumiere-worker", ["--connect", workerEndpoint, "--key", keys.secret("w1"), "--server-key", keys.coordinatorPub,
                                          "--threads", "1", "--name", "w1", "--work-dir", dir.appendingPathComponent("scratch-w1").path],
                       log: "w1.log")
        func remote(_ arguments: [String], as client: String = "alice", timeout: String = "15") throws -> Fixtures.CommandResult {
            try Fixtures.runProduct("lumiere-coordinator", arguments + ["--service", controlEndpoint, "--server-key", keys.coordinatorPub,
                                                                        "--key", keys.secret(client), "--timeout", timeout],
                                    in: dir, timeout: 60, captureStdout: true)
        }

        // An allowed key submits (absolute paths: the head node's) and lists the job.
        let output = dir.appendingPathComponent("remote.mp4")
        let submitted = try remote(["submit", film.path, "-o", output.path] + settings + ["--job-dir", dir.appendingPathComponent("remote-job").path])
        XCTAssertEqual(submitted.status, 0, submitted.stderr + log("serve.log"))
        let id = try XCTUnwrap(Int(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), submitted.stdout)
        func jobState(_ job: Int) throws -> String? {
            let listing = try remote(["jobs", "--json"])
            XCTAssertEqual(listing.status, 0, listing.stderr)
            let rows = try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [[String: Any]]
            return rows?.first { $0["id"] as? Int == job }?["state"] as? String
        }
        XCTAssertNotNil(try jobState(id), "the remote listing shows the job")
        XCTAssertTrue(waitFor(300) { (try? jobState(id)) == "done" }, "the job did not finish: \(log("serve.log").suffix(3000))")
        XCTAssertEqual(try Data(contentsOf: output), try Data(contentsOf: reference), "the remotely submitted job's output differs from `restore`'s")

        // The Unix socket works beside it (the service's own user, no keys).
        let local = try Fixtures.runProduct("lumiere-coordinator", ["jobs", "--state-dir", state.path], timeout: 60, captureStdout: true)
        XCTAssertEqual(local.status, 0, local.stderr)
        XCTAssertTrue(local.stdout.contains("done") && local.stdout.contains("remote.mp4"), local.stdout)

        // Paths are the head node's: a relative one is refused; a missing film as a local submit refuses it.
        let relative = try remote(["submit", film.lastPathComponent, "-o", "relative.mp4"] + settings)
        XCTAssertEqual(relative.status, 64, relative.stderr)
        XCTAssertTrue(relative.stderr.contains("head node"), relative.stderr)
        let missing = dir.appendingPathComponent("no-such-film.mkv").path
        let remoteMissing = try remote(["submit", missing, "-o", dir.appendingPathComponent("m1.mp4").path] + settings)
        let localMissing = try Fixtures.runProduct("lumiere-coordinator", ["submit", missing, "-o", dir.appendingPathComponent("m1.mp4").path]
                                                   + settings + ["--state-dir", state.path], timeout: 60)
        XCTAssertNotEqual(localMissing.status, 0)
        XCTAssertEqual(remoteMissing.status, localMissing.status, remoteMissing.stderr)
        XCTAssertEqual(remoteMissing.stderr.split(separator: "\n").first, localMissing.stderr.split(separator: "\n").first)
        // A farm option is the service's, remotely too.
        XCTAssertEqual(try remote(["submit", film.path, "-o", dir.appendingPathComponent("m2.mp4").path, "--workers", "3"]).status, 1)

        // An unknown key, and a worker's key (the farm's allow-list is not the control endpoint's), get no answer; the
        // client sees the refusal in the handshake and says so at once (well before its 15 s timeout), and the
        // service logs it.
        for stranger in ["mallory", "w1"] {
            let started = Date()
            let refused = try remote(["jobs"], as: stranger)
            XCTAssertEqual(refused.status, 1, refused.stderr)
            XCTAssertTrue(refused.stderr.contains("refused this key (ZAP status 400)"), refused.stderr)
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, "a refusal is reported at once, not at the timeout")
            XCTAssertEqual(refused.stdout, "")
        }
        // A client that names the wrong server key cannot complete the handshake: it gives up at its timeout, with a sentence.
        let started = Date()
        let wrongServer = try Fixtures.runProduct("lumiere-coordinator", ["jobs", "--service", controlEndpoint, "--server-key", keys.root.appendingPathComponent("w1.pub").path,
                                                                          "--key", keys.secret("alice"), "--timeout", "2"], timeout: 60)
        XCTAssertEqual(wrongServer.status, 1, wrongServer.stderr)
        XCTAssertTrue(wrongServer.stderr.contains("no reply within 2 s") && wrongServer.stderr.contains("--server-key"), wrongServer.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "the client must not hang")
        XCTAssertTrue(waitFor(10) { log("serve.log").contains("refused client key \(keys.publicKey("mallory"))") }, log("serve.log"))
        XCTAssertTrue(log("serve.log").contains("refused client key \(keys.publicKey("w1"))"), log("serve.log"))
        let cancel = try remote(["cancel", "999"], as: "mallory", timeout: "1")
        XCTAssertEqual(cancel.status, 1)

        // The audit trail: each remote request with the client's key file name and key.
        let audit = log("serve.log").split(separator: "\n").filter { $0.contains("remote ") && $0.contains(" from alice (key \(keys.publicKey("alice").prefix(8))") }
        XCTAssertTrue(audit.contains { $0.contains("remote submit ") && $0.contains(": job \(id)") }, "\(audit)")
        XCTAssertTrue(audit.contains { $0.contains("remote jobs from") }, "\(audit)")
        XCTAssertTrue(audit.contains { $0.contains("refused") && $0.contains("head node") }, "\(audit)")
        XCTAssertFalse(log("serve.log").contains("from mallory"), "a refused key never reaches the service")
        print("remote audit:\n" + audit.joined(separator: "\n"))
    }

    /// Never an open port: `serve --control-bind` without an allow-list, or without the service's key pair, does not start.
    func testServeRefusesAControlEndpointWithoutAllowListOrKey() throws {
        let keys = try makeKeys()
        let control = "tcp://127.0.0.1:\(try Fixtures.freeLoopbackPort())"
        let base = ["serve", "--state-dir", dir.appendingPathComponent("state").path, "--bind", "tcp://127.0.0.1:\(try Fixtures.freeLoopbackPort())"]
        let noList = try Fixtures.runProduct("lumiere-coordinator", base + ["--key", keys.coordinatorKey, "--allow-keys", keys.workers,
                                                                            "--control-bind", control], timeout: 30)
        XCTAssertEqual(noList.status, 1)
        XCTAssertTrue(noList.stderr.contains("--control-bind needs --control-allow-keys"), noList.stderr)
        let noKey = try Fixtures.runProduct("lumiere-coordinator", base + ["--control-bind", control, "--control-allow-keys", keys.clients], timeout: 30)
        XCTAssertEqual(noKey.status, 1)
        XCTAssertTrue(noKey.stderr.contains("--control-bind needs the service's CURVE key pair: --key"), noKey.stderr)
        let notTCP = try Fixtures.runProduct("lumiere-coordinator", base + ["--key", keys.coordinatorKey, "--allow-keys", keys.workers,
                                                                            "--control-bind", "ipc:///tmp/x", "--control-allow-keys", keys.clients], timeout: 30)
        XCTAssertEqual(notTCP.status, 1)
        XCTAssertTrue(notTCP.stderr.contains("--control-bind takes tcp://HOST:PORT"), notTCP.stderr)
        let listOnly = try Fixtures.runProduct("lumiere-coordinator", base + ["--control-allow-keys", keys.clients], timeout: 30)
        XCTAssertEqual(listOnly.status, 1)
        XCTAssertTrue(listOnly.stderr.contains("--control-allow-keys is for --control-bind"), listOnly.stderr)
        // And the client: --service without its keys says what to pass.
        let bare = try Fixtures.runProduct("lumiere-coordinator", ["jobs", "--service", control], timeout: 30)
        XCTAssertEqual(bare.status, 1)
        XCTAssertTrue(bare.stderr.contains("--service needs --server-key"), bare.stderr)
    }

    // MARK: fixtures

    /// Short and plain (lanczos): this is about who may submit, not about restoring.
    private let settings = ["--scale", "2", "--model", "lanczos", "--codec", "h264", "--preset", "ultrafast", "--crf", "18",
                            "--segment-seconds", "0.5", "--quiet"]

    /// 1 s of carphone as FFV1 (no audio).
    private func clip() throws -> URL {
        let source = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        let clip = dir.appendingPathComponent("carphone.mkv")
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", source, "-t", "1", "-c:v", "ffv1", "-an", clip.path])
        return clip
    }

    /// Key pairs by `keygen`: the coordinator's, a worker's (w1), an allowed client's (alice) and a stranger's
    /// (mallory); `workers/` and `clients/` hold the public keys each allow-list accepts.
    private struct Keys {
        let root: URL
        var coordinatorKey: String { secret("coordinator") }
        var coordinatorPub: String { root.appendingPathComponent("coordinator.pub").path }
        var workers: String { root.appendingPathComponent("workers").path }
        var clients: String { root.appendingPathComponent("clients").path }
        func secret(_ name: String) -> String { root.appendingPathComponent("\(name).key").path }
        func publicKey(_ name: String) -> String {
            ((try? String(contentsOf: root.appendingPathComponent("\(name).pub"), encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    private func makeKeys() throws -> Keys {
        let keys = Keys(root: dir.appendingPathComponent("keys"))
        for name in ["coordinator", "w1", "alice", "mallory"] {
            let made = try Fixtures.runProduct("lumiere-coordinator", ["keygen", "--name", name, "--output-dir", keys.root.path], timeout: 30)
            try Fixtures.require(made.status == 0, "keygen (CURVE in libzmq): \(made.stderr)")
        }
        for (list, name) in [(keys.workers, "w1"), (keys.clients, "alice")] {
            try FileManager.default.createDirectory(atPath: list, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: keys.root.appendingPathComponent("\(name).pub").path, toPath: list + "/\(name).pub")
        }
        return keys
    }

    private func launch(_ product: String, _ arguments: [String], log: String) throws -> Process {
        try processes.launch(product, arguments, log: log)
    }

    private func log(_ name: String) -> String { processes.log(name) }

    private func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        Fixtures.waitFor(seconds, every: 0.2, condition)
    }
}
