import Coordinator
import Foundation
import Logging
import Shared
import Transport
import Worker
import XCTest

/// Builds a small farm job in a temporary directory: random input files per segment, a result sink that
/// records what it got, and helpers to run coordinator and workers on their own threads.
final class FarmHarness: @unchecked Sendable {
    let root: URL
    let segments: [SegmentSpec]
    private let lock = NSLock()
    private var received: [SegmentID: [UInt8]] = [:]
    private var inputs: [SegmentID: [UInt8]] = [:]

    init(segmentCount: Int, bytesPerSegment: @escaping (Int) -> Int = { _ in 300_000 }, seed: UInt64 = 7) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("farm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inputs"), withIntermediateDirectories: true)
        var rng = SplitMix64(seed: seed)
        var specs: [SegmentSpec] = []
        for index in 0..<segmentCount {
            let id = SegmentID(SegmentIndex(index + 1))
            let bytes = (0..<bytesPerSegment(index)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            inputs[id] = bytes
            try Data(bytes).write(to: root.appendingPathComponent("inputs/segment-\(id).bin"))
            specs.append(SegmentSpec(id: id, inputFrameCount: UInt32(10 + index), expectedOutputFrames: UInt32(10 + index),
                                     expectedFrameSize: (64, 36)))
        }
        segments = specs
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func inputFile(_ id: SegmentID) -> URL { root.appendingPathComponent("inputs/segment-\(id).bin") }

    var inputProvider: SegmentInputProvider { { [root] spec in root.appendingPathComponent("inputs/segment-\(spec.id).bin") } }

    var resultSink: SegmentResultSink {
        { [self] spec, _, url in
            let bytes = Array(try Data(contentsOf: url))
            lock.withLock { received[spec.id] = bytes }
        }
    }

    /// Every segment's result must be exactly the simulated transform of its input.
    func assertAllResultsCorrect(file: StaticString = #filePath, line: UInt = #line) {
        lock.withLock {
            XCTAssertEqual(Set(received.keys), Set(segments.map(\.id)), "results missing", file: file, line: line)
            for (id, input) in inputs {
                XCTAssertEqual(received[id], SimulatedSegmentProcessor.transform(input), "segment \(id) result differs", file: file, line: line)
            }
        }
    }

    func coordinatorConfiguration(endpoint: String = "tcp://127.0.0.1:*") -> FarmCoordinatorConfiguration {
        var c = FarmCoordinatorConfiguration(bindEndpoint: endpoint, workDirectory: root.appendingPathComponent("coordinator"))
        c.heartbeatInterval = 0.1
        c.liveness = 10 // 1 s: fast tests that still tolerate a loaded 2-core CI machine
        c.scheduler.leaseTimeoutSeconds = 10
        return c
    }

    func workerConfiguration(name: String, endpoint: String) -> FarmWorkerConfiguration {
        var c = FarmWorkerConfiguration(
            endpoint: endpoint,
            capabilities: WorkerCapabilities(workerName: name, host: "localhost", threads: 1, models: [], freeMemoryBytes: 1 << 30),
            workDirectory: root.appendingPathComponent("worker-\(name)"))
        c.timing.heartbeatInterval = 0.1
        c.timing.liveness = 10
        c.timing.reconnectInitialDelay = 0.1
        c.timing.reconnectMaxDelay = 0.4
        return c
    }

    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["FARM_TEST_LOG"] == nil ? .critical : .debug
        return logger
    }
}

/// Runs `body` on a new thread; `wait()` returns its result.
final class Background<T>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, Error>?

    init(_ name: String, _ body: @escaping () throws -> T) {
        let thread = Thread { [self] in
            result = Result { try body() }
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    func wait(timeout: Double = 60) throws -> T {
        guard done.wait(timeout: .now() + timeout) == .success else { throw HarnessTimeout() }
        return try result!.get()
    }
}

struct HarnessTimeout: Error {}

/// Deterministic generator for inputs and mutation tests (fixed seeds, reproducible failures).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension FarmHarness {
    /// CPU seconds (user + system) this test process has used: the coordinator's, when the workers are other processes.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// This process's peak resident set (ru_maxrss), in MiB.
    static func peakResidentMiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024
    }
}
