import Shared
import Worker
import XCTest

/// A worker holding a segment ahead (lease-ahead): the next input arrives while one renders, the next starts the moment
/// one ends, and results go back one at a time, in order. Pure machine, manual clock.
final class WorkerMachineLeaseAheadTests: XCTestCase {
    let first = LeaseRef(segment: 1, attempt: 1), second = LeaseRef(segment: 2, attempt: 1), third = LeaseRef(segment: 3, attempt: 1)

    func machine(ahead: UInt8 = 1) -> WorkerMachine {
        var m = WorkerMachine(capabilities: WorkerCapabilities(workerName: "w", host: "h", threads: 2, models: [], freeMemoryBytes: 1,
                                                               segmentsAhead: ahead))
        _ = m.onStart(now: 0)
        _ = m.onMessage(.welcome(heartbeatIntervalMs: 1000), now: 0)
        return m
    }

    func assignment(_ lease: LeaseRef, _ bytes: [UInt8] = [7, 8, 9]) -> SegmentAssignment {
        SegmentAssignment(lease: lease, inputFrameCount: 3, work: SegmentWork(),
                          input: PayloadDescription(byteCount: UInt64(bytes.count), checksum: XXHash64.checksum(bytes)))
    }

    func info(_ bytes: UInt64 = 10) -> SegmentResultInfo {
        SegmentResultInfo(frameCount: 3, frameWidth: 8, frameHeight: 8, output: PayloadDescription(byteCount: bytes, checksum: 1))
    }

    /// Assigns `lease` and delivers its whole input in one chunk.
    func receive(_ m: inout WorkerMachine, _ lease: LeaseRef, now: Double) -> [WorkerDirective] {
        _ = m.onMessage(.assign(assignment(lease)), now: now)
        return m.onMessage(.chunk(lease, offset: 0, bytes: [7, 8, 9]), now: now)
    }

    func testTheNextSegmentArrivesWhileOneRendersAndStartsTheMomentItEnds() {
        var m = machine()
        XCTAssertEqual(receive(&m, first, now: 1).last, .startProcessing(assignment(first)))
        XCTAssertEqual(m.onMessage(.assign(assignment(second)), now: 2),
                       [.beginInput(assignment(second)), .send(.credit(second, chunks: ChunkReceiver.initialWindow))],
                       "the second input is taken while the first renders")
        XCTAssertEqual(m.onMessage(.chunk(second, offset: 0, bytes: [7, 8, 9]), now: 3), [.writeInput(second, offset: 0, bytes: [7, 8, 9])],
                       "it waits: one segment renders at a time")
        XCTAssertEqual(m.phase, .processing(first))
        XCTAssertEqual(m.onProcessingFinished(first, info(), now: 10), [.startProcessing(assignment(second)), .send(.result(first, info()))],
                       "the second starts before the first result goes out")
        XCTAssertEqual(m.phase, .processing(second))
        XCTAssertEqual(m.onMessage(.credit(first, chunks: 16), now: 10.1), [.sendResultChunk(first, offset: 0, length: 10), .discardLease(first)])
        XCTAssertEqual(m.segmentsCompleted, 1)
        XCTAssertEqual(m.heldLeases, [second])
    }

    func testAnAssignmentBeyondTheAdvertisedQueueIsRefused() {
        var m = machine()
        _ = receive(&m, first, now: 1)
        _ = m.onMessage(.assign(assignment(second)), now: 2)
        guard case .send(.failure(third, let message))? = m.onMessage(.assign(assignment(third)), now: 3).first else { return XCTFail() }
        XCTAssertTrue(message.contains("holds 2 of 2"), message)
        XCTAssertEqual(m.heldLeases, [first, second])
    }

    func testResultsGoBackOneAtATimeInOrder() {
        var m = machine()
        _ = receive(&m, first, now: 1)
        _ = receive(&m, second, now: 2)
        _ = m.onProcessingFinished(first, info(), now: 10)
        XCTAssertEqual(m.onProcessingFinished(second, info(), now: 11), [], "the first result is still uploading")
        XCTAssertEqual(m.onMessage(.credit(first, chunks: 16), now: 12),
                       [.sendResultChunk(first, offset: 0, length: 10), .discardLease(first), .send(.result(second, info()))])
        XCTAssertEqual(m.phase, .sending(second))
    }

    func testCancellingTheQueuedSegmentLeavesTheRenderingOne() {
        var m = machine()
        _ = receive(&m, first, now: 1)
        _ = m.onMessage(.assign(assignment(second)), now: 2)
        XCTAssertEqual(m.onMessage(.cancel(second, reason: "moved"), now: 3), [.discardLease(second)])
        XCTAssertEqual(m.phase, .processing(first))
        XCTAssertEqual(m.onMessage(.chunk(second, offset: 0, bytes: [7, 8, 9]), now: 3.1), [], "a stale chunk of the cancelled input")
        XCTAssertEqual(m.onMessage(.assign(assignment(third)), now: 4).first, .beginInput(assignment(third)), "its place is free again")
    }

    func testCoordinatorLossDropsEverySegmentHeld() {
        var m = machine()
        _ = receive(&m, first, now: 1)
        _ = receive(&m, second, now: 1)
        XCTAssertEqual(m.onTick(now: 4.5), [.cancelProcessing(first), .discardLease(first), .discardLease(second), .reconnect(afterSeconds: 1)])
        XCTAssertEqual(m.heldLeases, [])
    }

    /// The first stop finishes the segment rendering and drops the one queued behind it (the coordinator takes it back
    /// with the goodbye); the second hands everything back.
    func testFirstShutdownDropsTheQueuedSegmentAndFinishesTheCurrentOne() {
        var m = machine()
        _ = receive(&m, first, now: 1)
        _ = receive(&m, second, now: 1)
        XCTAssertEqual(m.onShutdownRequested(now: 2), [.discardLease(second)])
        XCTAssertEqual(m.onProcessingFinished(first, info(), now: 3), [.send(.result(first, info()))])
        XCTAssertEqual(m.onMessage(.credit(first, chunks: 16), now: 4),
                       [.sendResultChunk(first, offset: 0, length: 10), .discardLease(first), .send(.goodbye(reason: "worker shutting down")),
                        .exit(reason: "shutdown requested")])
    }

    func testAFailedRenderStartsTheNextSegment() {
        var m = machine()
        _ = receive(&m, first, now: 1)
        _ = receive(&m, second, now: 1)
        XCTAssertEqual(m.onProcessingFailed(first, message: "out of memory", now: 2),
                       [.send(.failure(first, message: "out of memory")), .cancelProcessing(first), .discardLease(first), .startProcessing(assignment(second))])
    }
}
