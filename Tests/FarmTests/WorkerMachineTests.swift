import Shared
import Worker
import XCTest

final class WorkerMachineTests: XCTestCase {
    let lease = LeaseRef(segment: 5, attempt: 1)

    func machine() -> WorkerMachine {
        var timing = WorkerTiming()
        timing.heartbeatInterval = 1
        timing.liveness = 3
        timing.reconnectInitialDelay = 1
        timing.reconnectMaxDelay = 4
        return WorkerMachine(capabilities: WorkerCapabilities(workerName: "w", host: "h", threads: 2, models: [], freeMemoryBytes: 1),
                             timing: timing)
    }

    func sent(_ directives: [WorkerDirective]) -> [FarmMessage] {
        directives.compactMap { if case .send(let m) = $0 { return m } else { return nil } }
    }

    func assignment(_ bytes: [UInt8]) -> SegmentAssignment {
        SegmentAssignment(lease: lease, inputFrameCount: 3, work: SegmentWork(),
                          input: PayloadDescription(byteCount: UInt64(bytes.count), checksum: XXHash64.checksum(bytes)))
    }

    /// A coordinator of another protocol version never works: the worker stops with both versions named (exit
    /// status 2, as for a refusal) instead of retrying for ever; other undecodable messages are only dropped.
    func testAnotherProtocolVersionStopsTheWorkerWithAClearReason() {
        var m = machine()
        _ = m.onStart(now: 0)
        XCTAssertEqual(m.onUndecodable(.trailingBytes(count: 3), now: 0.1), [], "garbage is dropped, the worker carries on")
        XCTAssertNotEqual(m.phase, .stopped)
        let out = m.onUndecodable(.unsupportedVersion(got: 9, supported: FarmProtocol.version), now: 0.2)
        guard case .exit(let reason)? = out.last else { return XCTFail("\(out)") }
        XCTAssertTrue(reason.hasPrefix("coordinator refused"), reason)
        XCTAssertTrue(reason.contains("protocol 9, this worker \(FarmProtocol.version)"), reason)
        XCTAssertEqual(m.phase, .stopped)
        XCTAssertEqual(m.onUndecodable(.unsupportedVersion(got: 9, supported: FarmProtocol.version), now: 0.3), [], "once")
    }

    func testRegistersReceivesInputUnderCreditProcessesAndSendsResult() {
        var m = machine()
        XCTAssertEqual(sent(m.onStart(now: 0)).map(\.kind), [.register])
        XCTAssertEqual(m.onMessage(.welcome(heartbeatIntervalMs: 500), now: 0.1), [])
        XCTAssertEqual(m.phase, .idle)
        let input: [UInt8] = Array(0..<200)
        let start = m.onMessage(.assign(assignment(input)), now: 0.2)
        XCTAssertEqual(start, [.beginInput(assignment(input)), .send(.credit(lease, chunks: ChunkReceiver.initialWindow))])
        XCTAssertEqual(m.onMessage(.chunk(lease, offset: 0, bytes: Array(input[0..<100])), now: 0.3),
                       [.writeInput(lease, offset: 0, bytes: Array(input[0..<100])), .send(.credit(lease, chunks: 1))])
        let last = m.onMessage(.chunk(lease, offset: 100, bytes: Array(input[100...])), now: 0.4)
        XCTAssertEqual(last, [.writeInput(lease, offset: 100, bytes: Array(input[100...])), .startProcessing(assignment(input))])
        XCTAssertEqual(sent(m.onProgress(lease, framesDone: 1, framesTotal: 3, now: 0.5)), [.progress(lease, framesDone: 1, framesTotal: 3)])
        let info = SegmentResultInfo(frameCount: 3, frameWidth: 8, frameHeight: 8, output: PayloadDescription(byteCount: 600_000, checksum: 1))
        XCTAssertEqual(m.onProcessingFinished(lease, info, now: 0.6), [.send(.result(lease, info))])
        XCTAssertEqual(m.onMessage(.credit(lease, chunks: 2), now: 0.7), [
            .sendResultChunk(lease, offset: 0, length: FarmProtocol.maxChunkBytes),
            .sendResultChunk(lease, offset: UInt64(FarmProtocol.maxChunkBytes), length: FarmProtocol.maxChunkBytes)])
        let final = m.onMessage(.credit(lease, chunks: 5), now: 0.8)
        XCTAssertEqual(final, [.sendResultChunk(lease, offset: UInt64(2 * FarmProtocol.maxChunkBytes), length: 600_000 - 2 * FarmProtocol.maxChunkBytes),
                               .discardLease(lease)])
        XCTAssertEqual(m.phase, .idle)
        XCTAssertEqual(m.segmentsCompleted, 1)
    }

    func testCorruptedInputIsReportedAsFailure() {
        var m = machine()
        _ = m.onStart(now: 0)
        _ = m.onMessage(.welcome(heartbeatIntervalMs: 1000), now: 0)
        _ = m.onMessage(.assign(assignment([1, 2, 3])), now: 0)
        let out = m.onMessage(.chunk(lease, offset: 0, bytes: [1, 2, 4]), now: 0.1)
        guard case .failure(lease, let message)? = sent(out).first else { return XCTFail("\(out)") }
        XCTAssertTrue(message.contains("checksum mismatch"), message)
        XCTAssertEqual(m.phase, .idle)
    }

    func testHeartbeatsAndReconnectWithExponentialBackoff() {
        var m = machine()
        _ = m.onStart(now: 0)
        _ = m.onMessage(.welcome(heartbeatIntervalMs: 1000), now: 0)
        XCTAssertEqual(m.onTick(now: 0.5), [])
        XCTAssertEqual(sent(m.onTick(now: 1.0)), [.heartbeat])
        XCTAssertEqual(m.onTick(now: 3.1), [.reconnect(afterSeconds: 1)], "3 silent intervals: reconnect")
        _ = m.onReconnected(now: 4)
        XCTAssertNotEqual(m.onTick(now: 13.9).last, .reconnect(afterSeconds: 2), "a registration waits 10 intervals for its welcome")
        XCTAssertEqual(m.onTick(now: 14.1).last, .reconnect(afterSeconds: 2))
        _ = m.onReconnected(now: 16)
        XCTAssertEqual(m.onTick(now: 26.1).last, .reconnect(afterSeconds: 4))
        _ = m.onReconnected(now: 30)
        XCTAssertEqual(m.onTick(now: 40.1).last, .reconnect(afterSeconds: 4), "capped")
        _ = m.onReconnected(now: 44)
        _ = m.onMessage(.welcome(heartbeatIntervalMs: 1000), now: 44.1)
        XCTAssertEqual(m.onTick(now: 47.2).last, .reconnect(afterSeconds: 1), "a welcome resets the backoff; welcomed, 3 intervals")
    }

    /// A coordinator welcoming thousands of workers at once answers late: a registration waits `registrationLiveness`
    /// intervals (10 s) for its welcome, heartbeating meanwhile, before registering again on a fresh connection.
    func testARegistrationWaitsLongerForItsWelcomeThanAWelcomedWorkerForWord() {
        var m = machine()
        XCTAssertEqual(sent(m.onStart(now: 0)).map(\.kind), [.register])
        XCTAssertEqual(sent(m.onTick(now: 1)), [.heartbeat])
        XCTAssertEqual(m.phase, .connecting)
        XCTAssertEqual(sent(m.onTick(now: 9.9)), [.heartbeat], "9.9 s without a welcome: still waiting")
        XCTAssertEqual(m.onTick(now: 10.1), [.reconnect(afterSeconds: 1)])
        _ = m.onReconnected(now: 11)
        _ = m.onMessage(.welcome(heartbeatIntervalMs: 1000), now: 12)
        XCTAssertEqual(m.onTick(now: 15.1), [.reconnect(afterSeconds: 1)], "welcomed: 3 silent intervals, as before")
    }

    func testCoordinatorLossDuringProcessingCancelsTheLease() {
        var m = machine()
        _ = m.onStart(now: 0)
        _ = m.onMessage(.welcome(heartbeatIntervalMs: 1000), now: 0)
        _ = m.onMessage(.assign(assignment([9])), now: 0)
        _ = m.onMessage(.chunk(lease, offset: 0, bytes: [9]), now: 0)
        XCTAssertEqual(m.phase, .processing(lease))
        XCTAssertEqual(m.onTick(now: 3.5), [.cancelProcessing(lease), .discardLease(lease), .reconnect(afterSeconds: 1)])
    }

    func testFirstShutdownFinishesTheSegmentSecondHandsItBack() {
        var m = machine()
        _ = m.onStart(now: 0)
        _ = m.onMessage(.welcome(heartbeatIntervalMs: 1000), now: 0)
        _ = m.onMessage(.assign(assignment([9])), now: 0)
        _ = m.onMessage(.chunk(lease, offset: 0, bytes: [9]), now: 0)
        XCTAssertEqual(m.onShutdownRequested(now: 1), [], "first request: keep working")
        XCTAssertEqual(sent(m.onMessage(.assign(assignment([1])), now: 1.1)).map(\.kind), [.failure], "no new work while stopping")
        let second = m.onShutdownRequested(now: 2)
        XCTAssertEqual(second, [.cancelProcessing(lease), .discardLease(lease), .send(.goodbye(reason: "worker shutting down")),
                                .exit(reason: "shutdown requested")])
        XCTAssertEqual(m.phase, .stopped)
    }

    func testShutdownAfterResultSaysGoodbye() {
        var m = machine()
        _ = m.onStart(now: 0)
        _ = m.onMessage(.welcome(heartbeatIntervalMs: 1000), now: 0)
        _ = m.onMessage(.assign(assignment([9])), now: 0)
        _ = m.onMessage(.chunk(lease, offset: 0, bytes: [9]), now: 0)
        _ = m.onShutdownRequested(now: 1)
        let info = SegmentResultInfo(frameCount: 3, frameWidth: 8, frameHeight: 8, output: PayloadDescription(byteCount: 10, checksum: 1))
        _ = m.onProcessingFinished(lease, info, now: 1.5)
        let out = m.onMessage(.credit(lease, chunks: 16), now: 1.6)
        XCTAssertEqual(out.suffix(2), [.send(.goodbye(reason: "worker shutting down")), .exit(reason: "shutdown requested")])
    }

    func testRejectStopsTheWorker() {
        var m = machine()
        _ = m.onStart(now: 0)
        let out = m.onMessage(.reject(reason: "blocklisted"), now: 0.1)
        guard case .exit(let reason)? = out.last else { return XCTFail("\(out)") }
        XCTAssertTrue(reason.contains("blocklisted"))
        XCTAssertEqual(m.onTick(now: 100), [])
    }

    /// A coordinator whose farm grew welcomes its workers again with a longer interval (`HeartbeatPolicy`): the worker
    /// keeps what it holds, heartbeats at the new interval and waits 3 of them before giving up on the coordinator.
    func testAWelcomeMidSessionChangesOnlyTheHeartbeatInterval() {
        var m = machine()
        _ = m.onStart(now: 0)
        _ = m.onMessage(.welcome(heartbeatIntervalMs: 1000), now: 0)
        let input: [UInt8] = Array(0..<100)
        _ = m.onMessage(.assign(assignment(input)), now: 0.1)
        _ = m.onMessage(.chunk(lease, offset: 0, bytes: input), now: 0.2)
        XCTAssertEqual(m.phase, .processing(lease))
        XCTAssertEqual(m.onMessage(.welcome(heartbeatIntervalMs: 5000), now: 0.3), [], "nothing to do but retime")
        XCTAssertEqual(m.heartbeatInterval, 5)
        XCTAssertEqual(m.phase, .processing(lease))
        XCTAssertEqual(m.heldLeases, [lease])
        XCTAssertEqual(m.onTick(now: 4), [], "no heartbeat within 5 s of the last message sent")
        XCTAssertEqual(sent(m.onTick(now: 5.3)), [.heartbeat])
        XCTAssertEqual(sent(m.onTick(now: 10.3)), [.heartbeat])
        XCTAssertEqual(m.onTick(now: 15.2), [], "14.9 s without word: within 3 × 5 s")
        XCTAssertEqual(m.onTick(now: 15.4), [.cancelProcessing(lease), .discardLease(lease), .reconnect(afterSeconds: 1)])
    }
}
