import Coordinator
import Foundation
import Logging
import Shared
import Worker
import TestSupport
import XCTest

/// The soak run of issue 8 (not CI: `FAULT_SOAK=1`, run by faults/run-all.sh): SOAK_WORKERS real
/// `lumiere-worker --simulate-seconds S` processes, enough short segments for SOAK_MINUTES minutes of work.
/// Checks: every segment's result arrives exactly once and is the exact transform of its input; the
/// coordinator's resident memory is flat (last third vs first third of the samples after warm-up); its open
/// file descriptors do not grow during the run and return to the starting count after `close()`.
final class SoakTest: XCTestCase {
    private var processes: [Process] = []

    override func tearDown() {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
    }

    func testLongRunWithManySimulatedWorkers() throws {
        let environment = ProcessInfo.processInfo.environment
        try Fixtures.gate("FAULT_SOAK", "the soak test")
        let workerCount = Int(environment["SOAK_WORKERS"] ?? "") ?? 200
        let minutes = Double(environment["SOAK_MINUTES"] ?? "") ?? 10
        let segmentSeconds = Double(environment["SOAK_SEGMENT_SECONDS"] ?? "") ?? 2
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lumiere-worker")
        try Fixtures.require(FileManager.default.isExecutableFile(atPath: binary.path), "build lumiere-worker first")

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("soak-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        // 16 distinct inputs (32 KiB each) reused round-robin: thousands of segments without gigabytes of files.
        var rng = SystemRandomNumberGenerator()
        var inputURLs: [URL] = [], checksums: [UInt64] = []
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inputs"), withIntermediateDirectories: true)
        for index in 0..<16 {
            let bytes = (0..<(32 << 10)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let url = root.appendingPathComponent("inputs/\(index).bin")
            try Data(bytes).write(to: url)
            inputURLs.append(url)
            checksums.append(XXHash64.checksum(SimulatedSegmentProcessor.transform(bytes)))
        }
        let inputs = inputURLs, expected = checksums
        // 90% of the ideal capacity, so the farm (not the segment supply) sets the pace for the whole run.
        let segmentCount = Int(Double(workerCount) * minutes * 60 / segmentSeconds * 0.9)
        let segments = (0..<segmentCount).map { index in
            SegmentSpec(id: SegmentID(SegmentIndex(index + 1)), inputFrameCount: 10, expectedOutputFrames: 10, expectedFrameSize: (64, 36))
        }
        let tally = Tally(segmentCount: segmentCount)

        var configuration = FarmCoordinatorConfiguration(bindEndpoint: "tcp://127.0.0.1:*", workDirectory: root.appendingPathComponent("coordinator"))
        configuration.heartbeatInterval = 1
        var logger = Logger(label: "soak")
        logger.logLevel = .error
        // Foundation's Process opens a few descriptors of its own once (child-reaping machinery): start and
        // reap one trivial child first, so the baseline already holds them.
        let warmUp = try Process.run(URL(fileURLWithPath: "/bin/true"), arguments: [])
        warmUp.waitUntilExit()
        let fdsBefore = Self.openDescriptors()
        let fdTargetsBefore = Self.descriptorTargets()
        let coordinator = FarmCoordinator(configuration: configuration, logger: logger)
        let endpoint = try coordinator.bind()
        for index in 0..<workerCount {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["--connect", endpoint, "--name", "soak\(index)", "--simulate-seconds", "\(segmentSeconds)", "--threads", "1",
                                 "--log-level", "error", "--work-dir", root.appendingPathComponent("w\(index)").path]
            try process.run()
            processes.append(process)
        }
        let started = Date()
        var samples: [(seconds: Double, rssKiB: Int, fds: Int, accepted: Int)] = []
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        Thread {
            outcome.value = Result {
                try coordinator.run(segments: segments, inputs: { inputs[($0.id.segment.position - 1) % inputs.count] }, results: { spec, _, url in
                    let checksum = XXHash64.checksum(Array(try Data(contentsOf: url)))
                    tally.record(spec.id, correct: checksum == expected[(spec.id.segment.position - 1) % expected.count])
                })
            }
            done.signal()
        }.start()
        while done.wait(timeout: .now() + 10) == .timedOut {
            samples.append((Date().timeIntervalSince(started), Self.residentKiB(), Self.openDescriptors(), coordinator.statistics.segmentsAccepted))
            if let last = samples.last {
                print(String(format: "soak sample t=%.0f s: RSS %d MiB, %d fds, %d/%d segments", last.seconds, last.rssKiB / 1024, last.fds,
                             last.accepted, segmentCount))
            }
        }
        let wall = Date().timeIntervalSince(started)
        let report = try XCTUnwrap(outcome.value).get()
        for process in processes { process.terminate() }
        for process in processes { process.waitUntilExit() }
        coordinator.close()
        Thread.sleep(forTimeInterval: 0.5)
        let fdsAfter = Self.openDescriptors()

        XCTAssertTrue(report.succeeded, "\(report)")
        let (received, duplicates, wrong) = tally.summary()
        XCTAssertEqual(received, segmentCount, "every segment accounted for")
        XCTAssertEqual(duplicates, 0, "no segment accepted twice")
        XCTAssertEqual(wrong, 0, "every result is the exact transform of its input")
        XCTAssertGreaterThanOrEqual(wall, minutes * 60 * 0.8, "the run lasted about the requested time")

        // Memory: after a minute of warm-up, the last third of the samples vs the first third.
        let steady = samples.filter { $0.seconds >= 60 }
        let third = max(1, steady.count / 3)
        let early = steady.prefix(third).map(\.rssKiB).max() ?? 0
        let late = steady.suffix(third).map(\.rssKiB).max() ?? 0
        XCTAssertFalse(steady.isEmpty, "no samples after the warm-up")
        XCTAssertLessThanOrEqual(late, early + max(early / 10, 16 << 10), "coordinator memory grew: \(early / 1024) → \(late / 1024) MiB")
        let fdsEarly = steady.first?.fds ?? 0, fdsLate = steady.last?.fds ?? 0
        XCTAssertLessThanOrEqual(fdsLate, fdsEarly + 8, "descriptors grew during the run: \(fdsEarly) → \(fdsLate)")
        XCTAssertLessThanOrEqual(fdsAfter, fdsBefore + 2, "descriptors leaked: \(fdsBefore) before bind, \(fdsAfter) after close; "
                                 + "new: \(Self.descriptorTargets().subtracting(fdTargetsBefore).sorted())")
        print(String(format: "soak: %d worker processes, %d segments of %.1f s in %.0f s (%.1f min), %d received exactly once, %d wrong, "
                     + "%d requeues; coordinator RSS %d MiB (first third) → %d MiB (last third), peak %d MiB; fds %d → %d during the run, "
                     + "%d before bind → %d after close; %d samples",
                     workerCount, segmentCount, segmentSeconds, wall, wall / 60, received, wrong, report.requeues, early / 1024, late / 1024,
                     (samples.map(\.rssKiB).max() ?? 0) / 1024, fdsEarly, fdsLate, fdsBefore, fdsAfter, samples.count))
    }

    private static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// "fd → target" for every open descriptor (what a leak is: a socket, a pipe, a file).
    private static func descriptorTargets() -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(names.map { "\($0)→" + ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "?") })
    }

    private static func openDescriptors() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }
}

/// The coordinator thread's result, read after it signalled.
private final class OutcomeBox: @unchecked Sendable {
    var value: Result<JobReport, Error>?
}

/// Counts results per segment from the coordinator's sink (called on its thread).
private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Bool]
    private var duplicates = 0, wrong = 0
    init(segmentCount: Int) { seen = Array(repeating: false, count: segmentCount) }
    func record(_ id: SegmentID, correct: Bool) {
        lock.withLock {
            let index = id.segment.position - 1
            if seen[index] { duplicates += 1 }
            seen[index] = true
            if !correct { wrong += 1 }
        }
    }
    func summary() -> (received: Int, duplicates: Int, wrong: Int) {
        lock.withLock { (seen.filter { $0 }.count, duplicates, wrong) }
    }
}
