import Coordinator
import Foundation
import Shared
import Transport
import Worker
import TestSupport
import XCTest

/// Coordinator and workers in one process over real ZeroMQ sockets (tcp loopback), simulated processor.
final class FarmIntegrationTests: XCTestCase {
    private func startWorker(_ harness: FarmHarness, _ name: String, _ endpoint: String,
                             processor: SegmentProcessor = SimulatedSegmentProcessor(secondsPerSegment: 0.05),
                             curve: (keys: CurveKeyPair, serverPublicKey: String)? = nil) -> (FarmWorker, Background<FarmWorker.ExitReason>) {
        var configuration = harness.workerConfiguration(name: name, endpoint: endpoint)
        configuration.curve = curve
        let worker = FarmWorker(configuration: configuration, processor: processor, logger: FarmHarness.logger("worker-\(name)"))
        return (worker, Background("worker-\(name)") { try worker.run() })
    }

    func testSmallJobCompletesOnThreeWorkersWithByteExactResults() throws {
        let harness = try FarmHarness(segmentCount: 8, bytesPerSegment: { 100_000 + $0 * 90_000 })
        let descriptorsBefore = openDescriptorCount()
        var coordinator: FarmCoordinator? = FarmCoordinator(configuration: harness.coordinatorConfiguration(), logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator!.bind()
        var workers: [(FarmWorker, Background<FarmWorker.ExitReason>)] = (1...3).map { startWorker(harness, "w\($0)", endpoint) }
        let report = try coordinator!.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        XCTAssertTrue(report.succeeded, "\(report)")
        XCTAssertEqual(report.completedSegments, 8)
        harness.assertAllResultsCorrect()
        XCTAssertGreaterThan(report.completedByWorker.count, 1, "work should spread over several workers: \(report.completedByWorker)")
        for (worker, thread) in workers {
            worker.requestShutdown()
            XCTAssertEqual(try thread.wait(timeout: 10), .shutdown)
        }
        coordinator!.close()
        coordinator = nil
        workers.removeAll()
        XCTAssertEqual(openDescriptorCount(), descriptorsBefore, "files, sockets and pipes of the job must all be closed")
    }

    private func openDescriptorCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    func testWorkerKilledMidSegmentIsRequeuedAndFinishedByAnother() throws {
        let harness = try FarmHarness(segmentCount: 5)
        var configuration = harness.coordinatorConfiguration()
        configuration.scheduler.speculateAfterMedianFactor = nil // exercise death detection, not a speculative race
        let coordinator = FarmCoordinator(configuration: configuration, logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let victimBox = Box<FarmWorker>()
        let killed = Box<LeaseRef>()
        let victimProcessor = SimulatedSegmentProcessor(secondsPerSegment: 1.0, onStart: { lease in
            if killed.value == nil { killed.value = lease; victimBox.value?.kill() }
        })
        let (victim, victimThread) = startWorker(harness, "victim", endpoint, processor: victimProcessor)
        victimBox.value = victim
        // The survivor joins a little later so the victim surely gets a segment first.
        let survivorDelay = Background("delay") { Thread.sleep(forTimeInterval: 0.3) }
        try survivorDelay.wait()
        let (survivor, survivorThread) = startWorker(harness, "survivor", endpoint)
        let report = try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        XCTAssertEqual(try victimThread.wait(timeout: 10), .killed)
        XCTAssertNotNil(killed.value, "the victim never started a segment")
        XCTAssertTrue(report.succeeded, "\(report)")
        XCTAssertGreaterThanOrEqual(report.requeues, 1)
        XCTAssertEqual(report.completedByWorker["survivor"], 5, "\(report.completedByWorker)")
        XCTAssertEqual(coordinator.statistics.segmentsDone, 5)
        harness.assertAllResultsCorrect()
        survivor.requestShutdown()
        _ = try survivorThread.wait(timeout: 10)
        coordinator.close()
    }

    func testGarbageFromRogueDealerIsRejectedWithoutAffectingTheJob() throws {
        let harness = try FarmHarness(segmentCount: 4)
        let coordinator = FarmCoordinator(configuration: harness.coordinatorConfiguration(), logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        // The rogue speaks before any worker exists and keeps speaking while the job runs.
        let context = try MessagingContext()
        let rogue = try Socket(context, .dealer)
        try rogue.connect(endpoint)
        let garbage: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\n\r\n".utf8),
            [0x4C, 0x46, 99, 11],                     // future protocol version: answered with a reject
            [0x4C, 0x46, FarmProtocol.version, 200],  // unknown type
            Array(MessageCodec.encode(.heartbeat).dropLast(0)) + [1, 2, 3], // trailing bytes
        ]
        for message in garbage { XCTAssertTrue(try rogue.send(parts: [message])) }
        XCTAssertTrue(try rogue.send(parts: [[1], [2]]))  // multi-part
        let (worker, workerThread) = startWorker(harness, "honest", endpoint)
        let report = try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        XCTAssertTrue(report.succeeded, "\(report)")
        harness.assertAllResultsCorrect()
        let stats = coordinator.statistics
        XCTAssertGreaterThanOrEqual(stats.rejectedMessages, 5, "every garbage message must be counted: \(stats)")
        XCTAssertEqual(report.completedByWorker.keys.sorted(), ["honest"])
        var answers: [FarmMessage] = [], versions: [UInt8] = []
        while let parts = try rogue.receive() { versions.append(parts[0][2]); answers.append(try MessageCodec.decode(parts[0])) }
        guard case .reject(let reason)? = answers.first, answers.count == 1 else { return XCTFail("\(answers)") }
        XCTAssertEqual(versions, [99], "the refusal is tagged with the peer's own version, so its decoder reads it")
        XCTAssertTrue(reason.contains("protocol \(FarmProtocol.version), the worker 99"), reason)
        rogue.close()
        worker.requestShutdown()
        _ = try workerThread.wait(timeout: 10)
        coordinator.close()
    }

    func testCurveWorkerWithUnlistedKeyIsRefusedAndGetsNoWork() throws {
        try Fixtures.require(MessagingContext.hasCurve, "libzmq without CURVE")
        let harness = try FarmHarness(segmentCount: 3)
        let serverKeys = try CurveKeyPair.generate()
        let goodKeys = try CurveKeyPair.generate()
        let rogueKeys = try CurveKeyPair.generate()
        var configuration = harness.coordinatorConfiguration()
        configuration.curve = (serverKeys, [goodKeys.publicKey])
        let coordinator = FarmCoordinator(configuration: configuration, logger: FarmHarness.logger("coordinator"))
        let endpoint = try coordinator.bind()
        let (rogue, rogueThread) = startWorker(harness, "rogue", endpoint, curve: (rogueKeys, serverKeys.publicKey))
        let deadline = Date().addingTimeInterval(10)
        while coordinator.statistics.authenticationDenials == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertGreaterThanOrEqual(coordinator.statistics.authenticationDenials, 1, "the ZAP handler never saw the rogue")
        // A worker without any key cannot complete the CURVE handshake either.
        let (plain, plainThread) = startWorker(harness, "plain", endpoint)
        let (good, goodThread) = startWorker(harness, "good", endpoint, curve: (goodKeys, serverKeys.publicKey))
        let report = try coordinator.run(segments: harness.segments, inputs: harness.inputProvider, results: harness.resultSink)
        XCTAssertTrue(report.succeeded, "\(report)")
        XCTAssertEqual(report.completedByWorker, ["good": 3])
        harness.assertAllResultsCorrect()
        XCTAssertFalse(rogue.snapshot.welcomed, "a worker with an unlisted key must never be welcomed")
        XCTAssertFalse(plain.snapshot.welcomed, "a worker without a key must never be welcomed")
        XCTAssertEqual(coordinator.statistics.registrations, 1)
        rogue.kill()
        plain.kill()
        _ = try plainThread.wait(timeout: 10)
        good.requestShutdown()
        _ = try rogueThread.wait(timeout: 10)
        _ = try goodThread.wait(timeout: 10)
        coordinator.close()
    }
}

/// A mutable reference for test hooks called from worker threads.
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
