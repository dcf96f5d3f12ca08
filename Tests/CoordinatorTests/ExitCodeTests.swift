import Coordinator
import Foundation
import Media
import Planning
import TestSupport
import XCTest

/// Issue 18 item 4: a job stopped by SIGTERM exits with its own status, 143 (resumable), and the schedulers'
/// files retry exactly that: the Kubernetes Job's podFailurePolicy and the systemd unit name the Swift constants.
final class ExitCodeTests: XCTestCase {
    private static let root = Fixtures.repositoryRoot

    func testExitCodesAreDistinct() {
        XCTAssertEqual(StopSignal.terminatedExitCode, 128 + SIGTERM, "what shells and schedulers report for SIGTERM")
        XCTAssertEqual(StopSignal.interruptedExitCode, 128 + SIGINT, "what shells report for Ctrl-C")
        XCTAssertEqual(StopSignal.exitStatus(signal: SIGTERM), 143)
        XCTAssertEqual(StopSignal.exitStatus(signal: SIGINT), 130)
        XCTAssertEqual(StopSignal.exitStatus(signal: nil), 130)
        let all: [Int32] = [ExitStatus.failure, ExitStatus.usage] + StopSignal.resumableExitCodes
        XCTAssertEqual(Set(all).count, all.count, "\(all)")
    }

    func testTheFirstSignalPicksTheStatus() {
        let term = StopSignal()
        term.request(signal: SIGTERM)
        XCTAssertEqual(term.requestedExitCode, 143)
        let ctrlC = StopSignal()
        ctrlC.request(signal: SIGINT)
        XCTAssertEqual(ctrlC.requestedExitCode, 130)
    }

    /// The Job's podFailurePolicy: FailJob on exactly the real failures (1, 64), Ignore on the resumable SIGTERM stop
    /// (143), so a drained node or a preempted pod starts the coordinator again on its job directory.
    func testKubernetesPodFailurePolicyMatchesTheSwiftConstants() throws {
        let yaml = try String(contentsOf: Self.root.appendingPathComponent("cluster/kubernetes/coordinator-job.yaml"), encoding: .utf8)
        let rules = Self.podFailureRules(yaml)
        XCTAssertEqual(rules["FailJob"], [ExitStatus.failure, ExitStatus.usage], "\(rules)")
        XCTAssertEqual(rules["Ignore"], [StopSignal.terminatedExitCode], "\(rules)")
        XCTAssert(yaml.contains("containerName: coordinator"), "the rules name the container")
        XCTAssert(yaml.contains("- name: coordinator\n"), "the container they name exists")
        // The grace period outlasts the drain (which waits up to drainTimeoutSeconds for the segments in hand), so the
        // pod exits 143 rather than being killed (137, which would be counted against backoffLimit).
        let grace = yaml.split(separator: "\n").first { $0.contains("terminationGracePeriodSeconds:") }
        let seconds = Double(grace?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        let drain = FarmCoordinatorConfiguration(bindEndpoint: "ipc:///unused", workDirectory: URL(fileURLWithPath: "/unused")).drainTimeoutSeconds
        XCTAssertGreaterThanOrEqual(seconds, drain + 15, "grace \(seconds) s, drain \(drain) s")
    }

    /// `systemctl stop` sends SIGTERM: the unit treats the resumable 143 as a clean exit.
    func testSystemdUnitTreatsTheSIGTERMStopAsSuccess() throws {
        let unit = try String(contentsOf: Self.root.appendingPathComponent("cluster/systemd/lumiere-coordinator@.service"), encoding: .utf8)
        XCTAssert(unit.contains("\nSuccessExitStatus=\(StopSignal.terminatedExitCode)\n"), unit)
        XCTAssert(unit.contains("\nKillSignal=SIGTERM\n"))
    }

    /// The real executable, SIGTERM while a worker holds a segment: it finishes the segment in hand, exits 143 with
    /// no output and the job directory kept; the same command then completes, reusing what was finished.
    func testSIGTERMDuringTheFarmExits143AndTheSameCommandResumes() throws {
        _ = try XCTUnwrap(Fixtures.useBuiltWorker(), "lumiere-worker must be built")
        let film = try Fixtures.requireFootage("video/bikes.mp4")
        let dir = try Fixtures.temporaryDirectory("sigterm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("clip.mp4")
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", film, "-t", "2", "-vf", "scale=160:-2", "-c:v", "libx264", "-preset", "ultrafast", clip.path])
        // A neural model, so that a segment takes seconds and the stop comes with one in hand; short segments, so that
        // the one in hand ends within the drain's 30 s on a loaded machine.
        let arguments = ["restore", clip.path, "-o", "out.mp4", "--model", "realesr-general-wdn", "--scale", "4", "--workers", "1",
                         "--segment-seconds", "0.5", "--status", "off", "--metrics-port", "0"]
        let port = LockedValue<UInt16>()
        let job = BackgroundProduct("lumiere-coordinator", arguments, in: dir, timeout: 300) { text in
            if port.value == nil, let range = text.range(of: "monitoring: http://127.0.0.1:") {
                port.set(UInt16(text[range.upperBound...].prefix { $0.isNumber }))
            }
        }
        defer { job.send(SIGKILL); _ = try? job.wait() }
        // The farm phase with a segment in hand, as /status.json shows it.
        let deadline = Date().addingTimeInterval(120)
        var running = false
        while Date() < deadline, !running {
            if let port = port.value, let endpoint = try? StatusClient.Endpoint(parsing: "127.0.0.1:\(port)"),
               let snapshot = try? StatusClient.fetchStatus(endpoint) {
                running = snapshot.segments.running > 0 && snapshot.workers.contains { $0.state == .processing }
            }
            if !running { Thread.sleep(forTimeInterval: 0.05) }
        }
        XCTAssert(running, "a worker was processing a segment")
        job.send(SIGTERM)
        let stopped = try job.wait()
        XCTAssertEqual(stopped.status, StopSignal.terminatedExitCode, stopped.stderr)
        XCTAssert(stopped.stderr.contains("Run the same command again to resume"), stopped.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.mp4").path))
        let jobDirectory = dir.appendingPathComponent("out.mp4.lumiere-job")
        let finished = try JobDirectory(url: jobDirectory).entries.count
        XCTAssertGreaterThanOrEqual(finished, 1, "the segment in hand was finished and journaled before the exit")

        let resumed = try Fixtures.runProduct("lumiere-coordinator", arguments, in: dir, timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let made = try Fixtures.probe(dir.appendingPathComponent("out.mp4").path, stream: "v:0")
        let source = try Fixtures.probe(clip.path, stream: "v:0")
        XCTAssertNotNil(source["nb_read_frames"])
        XCTAssertEqual(made["nb_read_frames"], source["nb_read_frames"], "every frame of the clip: \(made)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: jobDirectory.path), "cleaned up after success")
    }

    /// `action` → `values` of each onExitCodes rule of a podFailurePolicy (a reader for this file's layout: any other
    /// layout yields no rules, and the test above fails rather than passing on nothing).
    static func podFailureRules(_ yaml: String) -> [String: [Int32]] {
        var rules: [String: [Int32]] = [:]
        var action: String?
        for line in yaml.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("- action: ") { action = String(line.dropFirst("- action: ".count)) }
            if line.hasPrefix("values: ["), line.hasSuffix("]"), let action {
                let list = line.dropFirst("values: [".count).dropLast().split(separator: ",")
                rules[action, default: []] += list.compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
            }
        }
        return rules
    }
}

private final class LockedValue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    func set(_ v: T?) { lock.lock(); stored = v; lock.unlock() }
    var value: T? { lock.lock(); defer { lock.unlock() }; return stored }
}
