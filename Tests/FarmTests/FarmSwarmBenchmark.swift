import Coordinator
import Foundation
import Shared
import TestSupport
import Worker
import XCTest

/// Coordinator capacity at real farm sizes (issue 16 item 9). Not a timed test: runs only with FARM_BENCH=1.
/// The real `FarmCoordinator` runs in this process; the workers are `lumiere-swarm` child processes, each driving
/// thousands of real DEALER sockets through the real `WorkerMachine` on one thread with timers for render time.
/// So this process's CPU (getrusage: the coordinator's loop thread, its libzmq I/O thread and the result sink) is
/// the coordinator's alone, unlike FarmCapacityBenchmark's process-per-worker, which measured the machine.
/// `FARM_BENCH=1 FARM_BENCH_SWARM_WORKERS=10000 FARM_BENCH_SEGMENT_SECONDS=60 swift test -c release --filter FarmSwarmBenchmark`
/// Optional: FARM_BENCH_SEGMENTS_PER_WORKER (2), FARM_BENCH_FRAMES per segment (24, one progress message each),
/// FARM_BENCH_INPUT_BYTES (16384; one chunk each way), FARM_BENCH_JITTER (0.1: render times vary ±10 %),
/// FARM_BENCH_CONNECT_RATE (2000 sockets a second per swarm process), FARM_BENCH_HEARTBEAT (the coordinator's 1 s),
/// FARM_BENCH_SEGMENTS_AHEAD (1, lumiere-worker's: segments a worker holds beyond the one it renders; 0 turns lease-ahead off).
///
/// Busy share, three ways: `ideal/wall` as FarmCapacityBenchmark (segments × seconds over the wall time from the
/// last registration to the end); `job`: rendered worker-seconds over worker-seconds from each worker's welcome
/// to the job's end (includes the job's tail, where workers run out of segments); `steady`: S / (S + mean idle
/// gap between a worker's segments), the share a long job approaches.
final class FarmSwarmBenchmark: XCTestCase {
    private var swarms: [Process] = []
    private var root: URL?

    /// One swarm process holds two descriptors per worker (the socket's mailbox and its connection) under the
    /// hard limit of open files (20,000 on the machine measured), so 10,000 workers take two processes.
    private static let workersPerSwarm = 9_000

    override func tearDown() {
        for process in swarms where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        if let root { try? FileManager.default.removeItem(at: root) }
    }

    func testCoordinatorKeepsASwarmBusy() throws {
        let environment = ProcessInfo.processInfo.environment
        try Fixtures.gate("FARM_BENCH", "farm swarm benchmark")
        let workerCount = Int(environment["FARM_BENCH_SWARM_WORKERS"] ?? "") ?? 1_000
        let segmentSeconds = Double(environment["FARM_BENCH_SEGMENT_SECONDS"] ?? "") ?? 10
        let segmentsPerWorker = Int(environment["FARM_BENCH_SEGMENTS_PER_WORKER"] ?? "") ?? 2
        let frames = UInt32(environment["FARM_BENCH_FRAMES"] ?? "") ?? 24
        let inputBytes = Int(environment["FARM_BENCH_INPUT_BYTES"] ?? "") ?? 16 << 10
        let jitter = Double(environment["FARM_BENCH_JITTER"] ?? "") ?? 0.1
        let connectRate = Double(environment["FARM_BENCH_CONNECT_RATE"] ?? "") ?? 2_000 // per swarm process, per second
        let segmentsAhead = Int(environment["FARM_BENCH_SEGMENTS_AHEAD"] ?? "") ?? 1
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lumiere-swarm")
        try Fixtures.require(FileManager.default.isExecutableFile(atPath: binary.path), "build lumiere-swarm first (swift build -c release)")

        // 64 distinct inputs shared round-robin: 20,000 segment files would measure the disk, not the coordinator.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("farm-swarm-\(UUID().uuidString)")
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 16)
        let inputs: [[UInt8]] = (0..<64).map { _ in (0..<inputBytes).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        for (index, bytes) in inputs.enumerated() { try Data(bytes).write(to: root.appendingPathComponent("input-\(index).bin")) }
        let expected = inputs.map(SimulatedSegmentProcessor.transform)
        let specs = (1...(workerCount * segmentsPerWorker)).map {
            SegmentSpec(id: SegmentID(SegmentIndex($0)), inputFrameCount: frames, expectedOutputFrames: frames, expectedFrameSize: (64, 36))
        }
        let verified = VerifiedResults()

        // The coordinator's defaults (heartbeat 1 s × liveness 3, lease timeout 60 s, speculation on): what a farm runs.
        // FARM_BENCH_HEARTBEAT overrides the interval (workers follow the welcome), for machines too small to keep
        // both the swarm and the coordinator within 3 s.
        var configuration = FarmCoordinatorConfiguration(bindEndpoint: "tcp://127.0.0.1:*", workDirectory: root.appendingPathComponent("coordinator"))
        if let heartbeat = Double(environment["FARM_BENCH_HEARTBEAT"] ?? "") { configuration.heartbeatInterval = heartbeat }
        let coordinator = FarmCoordinator(configuration: configuration, logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let residentBefore = Self.residentMiB()
        let job = Background("coordinator") {
            try coordinator.run(segments: specs, inputs: { spec in root.appendingPathComponent("input-\(spec.id.segment.position % 64).bin") },
                                results: { spec, _, url in
                                    let bytes = Array(try Data(contentsOf: url))
                                    verified.record(spec.id, correct: bytes == expected[spec.id.segment.position % 64])
                                })
        }
        let swarmCount = (workerCount + Self.workersPerSwarm - 1) / Self.workersPerSwarm
        var outputs: [SwarmOutput] = []
        for index in 0..<swarmCount {
            let share = workerCount / swarmCount + (index < workerCount % swarmCount ? 1 : 0)
            let process = Process()
            process.executableURL = binary
            process.arguments = ["--connect", endpoint, "--workers", "\(share)", "--seconds", "\(segmentSeconds)", "--name-prefix", "swarm\(index)",
                                 "--jitter", "\(jitter)", "--connect-rate", "\(connectRate)", "--segments-ahead", "\(segmentsAhead)"]
            let stdin = Pipe(), stdout = Pipe()
            process.standardInput = stdin
            process.standardOutput = stdout
            try process.run()
            swarms.append(process)
            outputs.append(SwarmOutput(stdin: stdin, stdout: stdout))
        }

        // The clock starts once every worker has registered (the swarm paces its connects, as a real farm's
        // machines do not all start in the same millisecond); ramp = until every worker has held a segment.
        let connectStart = Date()
        while coordinator.statistics.registrations < workerCount {
            Thread.sleep(forTimeInterval: 0.01)
            XCTAssertLessThan(Date().timeIntervalSince(connectStart), 300, "workers did not all register")
            if Date().timeIntervalSince(connectStart) > 300 { return }
        }
        let cpuBefore = FarmHarness.cpuSeconds()
        let start = Date()
        var ramp: Double?
        while ramp == nil, Date().timeIntervalSince(start) < segmentSeconds {
            if coordinator.statistics.busyWorkers >= workerCount { ramp = Date().timeIntervalSince(start) }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let outcome = Result { try job.wait(timeout: 3600) }
        let wall = Date().timeIntervalSince(start)
        let cpu = FarmHarness.cpuSeconds() - cpuBefore
        let residentAfter = Self.residentMiB()
        let heartbeatInForce = coordinator.statistics.heartbeatInterval // grows with the farm (HeartbeatPolicy)
        for output in outputs { output.stdin.fileHandleForWriting.closeFile() }
        let stats = try outputs.map { try $0.statistics() }
        for process in swarms { process.waitUntilExit() }
        coordinator.close()
        for object in stats { print("swarm-stats \(object)") } // lateness shows whether the swarm kept up, also on failure
        let report = try outcome.get()
        XCTAssertTrue(report.succeeded, "\(report)")
        XCTAssertEqual(verified.counts.correct, specs.count, "results verified against the inputs' transform")
        XCTAssertEqual(verified.counts.wrong, 0)

        let reconnects = stats.reduce(0) { $0 + ($1["reconnects"] as? Int ?? 0) }
        let reconnectsBeforeWelcome = stats.reduce(0) { $0 + ($1["reconnectsBeforeWelcome"] as? Int ?? 0) }
        let exits = stats.reduce(0) { $0 + ($1["exits"] as? Int ?? 0) }
        let lateness = stats.map { $0["lateness"] as? [String: Double] ?? [:] }
        let gaps = stats.map { $0["idleGaps"] as? [String: Double] ?? [:] }
        let gapCount = gaps.reduce(0) { $0 + ($1["count"] ?? 0) }
        let gapMean = gapCount == 0 ? 0 : gaps.reduce(0) { $0 + ($1["mean"] ?? 0) * ($1["count"] ?? 0) } / gapCount
        let swarmCPU = stats.reduce(0.0) { $0 + ($1["cpuSeconds"] as? Double ?? 0) }
        let rendered = stats.reduce(0.0) { $0 + ($1["renderedSeconds"] as? Double ?? 0) }
        let window = stats.reduce(0.0) { $0 + ($1["windowSeconds"] as? Double ?? 0) }
        let ideal = Double(segmentsPerWorker) * segmentSeconds
        print(String(format: "farm swarm: %d workers (%d swarm processes, %d segments ahead), %d segments of %.1f s ±%.0f%%, %d frames, %d B: "
                     + "wall %.2f s (ideal %.2f s) → busy %.2f%%, job %.2f%%, steady %.2f%%, ramp %@; coordinator CPU %.2f s (%.3f ms per segment, "
                     + "%.1f%% of a core), RSS %d → %d MiB (peak %d MiB); "
                     + "swarm: lateness p99 %.3f s max %.3f s, idle gap between segments mean %.3f s p99 %.3f s max %.3f s, "
                     + "%d reconnects (%d before a welcome), %d exits, CPU %.1f s; heartbeat %.1f s → %.1f s; report: %@",
                     workerCount, swarmCount, segmentsAhead, specs.count, segmentSeconds, 100 * jitter, frames, inputBytes,
                     wall, ideal, 100 * ideal / wall, 100 * rendered / max(window, 1e-9), 100 * segmentSeconds / (segmentSeconds + gapMean), ramp.map { String(format: "%.2f s", $0) } ?? "not reached",
                     cpu, 1000 * cpu / Double(specs.count), 100 * cpu / wall, residentBefore, residentAfter, FarmHarness.peakResidentMiB(),
                     lateness.map { $0["p99"] ?? 0 }.max() ?? 0, lateness.map { $0["max"] ?? 0 }.max() ?? 0,
                     gapMean, gaps.map { $0["p99"] ?? 0 }.max() ?? 0, gaps.map { $0["max"] ?? 0 }.max() ?? 0,
                     reconnects, reconnectsBeforeWelcome, exits, swarmCPU, configuration.heartbeatInterval, heartbeatInForce, report.description))
        // The swarm must keep up: a timer late by a heartbeat interval could make a simulated worker miss its
        // heartbeats, and then a lost worker would be the swarm's fault, not a coordinator result. Reconnects with a
        // punctual swarm mean the coordinator was silent for 3 intervals (or, before a welcome, slow to register).
        let maxLateness = lateness.map { $0["max"] ?? 0 }.max() ?? 0
        XCTAssertLessThan(maxLateness, configuration.heartbeatInterval, "the swarm fell behind: its timers fired late")
        if reconnects > 0 { print("farm swarm: \(reconnects) reconnects with a punctual swarm: the coordinator was silent for \(configuration.liveness) heartbeats") }
        XCTAssertEqual(exits, 0)
    }

    private final class VerifiedResults: @unchecked Sendable {
        private let lock = NSLock()
        private var correct = Set<SegmentID>()
        private var wrong = 0
        func record(_ id: SegmentID, correct ok: Bool) { lock.withLock { if ok { correct.insert(id) } else { wrong += 1 } } }
        var counts: (correct: Int, wrong: Int) { lock.withLock { (correct.count, wrong) } }
    }

    private struct SwarmOutput {
        let stdin: Pipe
        let stdout: Pipe

        struct MissingStatistics: Error, CustomStringConvertible {
            let output: String
            var description: String { "lumiere-swarm printed no statistics; its output was: \(output.suffix(2000))" }
        }

        /// Reads to EOF (the swarm exits after printing) and parses the `swarm-stats` line.
        func statistics() throws -> [String: Any] {
            let text = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("swarm-stats ") }),
                  let object = try JSONSerialization.jsonObject(with: Data(line.dropFirst("swarm-stats ".count).utf8)) as? [String: Any] else {
                throw MissingStatistics(output: text)
            }
            return object
        }
    }



    /// Current resident set (VmRSS), to separate the coordinator's growth from the test process's baseline.
    private static func residentMiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kib / 1024
    }
}
