import Foundation
import Processors
import XCTest

/// The streaming layer of a segment's restore (`FramePipeline`, issue 17 item 2): the same items in the same order
/// both ways, errors of each stage with their own type and in their order, a stop that ends both threads before it
/// returns, queues that stay bounded. Plain closures, no media: milliseconds. Segments on real footage are in
/// SegmentPipelineTests and DeviceCommandLineTests.
final class FramePipelineTests: XCTestCase {
    enum StageError: Error, Equatable { case read(Int), write(Int), restore(Int) }

    /// What the stages did, recorded from their threads.
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var _reads = 0, _written: [Int] = [], _maxAhead = 0
        var reads: Int { lock.withLock { _reads } }
        var written: [Int] { lock.withLock { _written } }
        /// The most items read and not yet taken by the restore.
        var maxAhead: Int { lock.withLock { _maxAhead } }
        func read(taken: Int) -> Int { lock.withLock { _reads += 1; _maxAhead = max(_maxAhead, _reads - taken); return _reads - 1 } }
        func wrote(_ i: Int) { lock.withLock { _written.append(i) } }
    }

    /// Reads `count` items (item i is i; `failRead` fails there), restores each as i * 10 on this thread (`failRestore`),
    /// writes them (`failWrite`). Returns what the restore saw and the error that ended it.
    private func stream(_ streaming: FrameStreaming, count: Int, failRead: Int? = nil, failWrite: Int? = nil, failRestore: Int? = nil,
                     readDelay: useconds_t = 0, writeDelay: useconds_t = 0, log: Log) -> (seen: [Int], error: Error?) {
        let taken = Counter()
        let pipeline = FramePipeline<Int, Int>(streaming, read: {
            let i = log.read(taken: taken.value)
            if readDelay > 0 { usleep(readDelay) }
            if i == failRead { throw StageError.read(i) }
            return i < count ? i : nil
        }, write: { item in
            if writeDelay > 0 { usleep(writeDelay) }
            if item / 10 == failWrite { throw StageError.write(item / 10) }
            log.wrote(item)
        })
        var seen: [Int] = []
        do {
            while let i = try pipeline.next() {
                taken.increment()
                seen.append(i)
                if i == failRestore { throw StageError.restore(i) }
                try pipeline.write(i * 10)
            }
            try pipeline.finish()
            return (seen, nil)
        } catch {
            return (seen, pipeline.stop(after: error))
        }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        var value: Int { lock.withLock { n } }
        func increment() { lock.withLock { n += 1 } }
    }

    func testBothWaysGiveEveryItemInOrderAndThePipelineStaysBounded() {
        for streaming in FrameStreaming.allCases {
            // A slow writer: the restore runs ahead of it until the queue is full; a slow reader: the restore waits.
            for (readDelay, writeDelay) in [(useconds_t(0), useconds_t(2000)), (2000, 0)] {
                let log = Log()
                let (seen, error) = stream(streaming, count: 20, readDelay: readDelay, writeDelay: writeDelay, log: log)
                XCTAssertNil(error)
                XCTAssertEqual(seen, Array(0..<20), "\(streaming)")
                XCTAssertEqual(log.written, (0..<20).map { $0 * 10 }, "\(streaming)")
                // depth 2 queued + 1 being read (+ the end's nil read): never the whole segment decoded ahead.
                XCTAssertLessThanOrEqual(log.maxAhead, streaming == .pipelined ? 4 : 1, "\(streaming)")
            }
        }
    }

    /// A decode error at item 5 reaches the restore after items 0…4, as sequentially. The segment has failed: items
    /// still queued for the encoder may be dropped, never written out of order.
    func testAReadErrorArrivesAfterTheItemsBeforeIt() {
        for streaming in FrameStreaming.allCases {
            let log = Log()
            let (seen, error) = stream(streaming, count: 20, failRead: 5, writeDelay: 500, log: log)
            XCTAssertEqual(error as? StageError, .read(5), "\(streaming)")
            XCTAssertEqual(seen, Array(0..<5), "\(streaming)")
            let written = log.written
            XCTAssertEqual(written, (0..<written.count).map { $0 * 10 }, "\(streaming)")
            if streaming == .sequential { XCTAssertEqual(written.count, 5) }
            XCTAssertEqual(log.reads, 6, "\(streaming): nothing read after the failure")
        }
    }

    /// An encoder failure at item 3 ends the restore with the encoder's own error; nothing after it is written.
    func testAWriteErrorEndsTheRestoreWithTheEncodersError() {
        for streaming in FrameStreaming.allCases {
            let log = Log()
            let (seen, error) = stream(streaming, count: 20, failWrite: 3, writeDelay: 500, log: log)
            XCTAssertEqual(error as? StageError, .write(3), "\(streaming)")
            XCTAssertEqual(log.written, [0, 10, 20], "\(streaming)")
            XCTAssertLessThanOrEqual(seen.count, streaming == .pipelined ? 7 : 4, "\(streaming): the restore stopped within the queue's depth")
        }
    }

    /// The restore fails (a GPU fault) at item 4 while the reader is ahead and the writer behind: the restore's error,
    /// and once `stop` returns neither thread reads or writes again.
    func testARestoreErrorStopsBothThreadsBeforeStopReturns() {
        for streaming in FrameStreaming.allCases {
            let log = Log()
            let (seen, error) = stream(streaming, count: 50, failRestore: 4, readDelay: 1000, writeDelay: 3000, log: log)
            XCTAssertEqual(error as? StageError, .restore(4), "\(streaming)")
            XCTAssertEqual(seen, Array(0...4), "\(streaming)")
            let reads = log.reads, written = log.written
            usleep(30_000)
            XCTAssertEqual(log.reads, reads, "\(streaming): the decoder thread had ended")
            XCTAssertEqual(log.written, written, "\(streaming): the encoder thread had ended")
            XCTAssertEqual(written, Array((0..<written.count).map { $0 * 10 }), "\(streaming): written in order, none skipped")
            XCTAssertLessThanOrEqual(reads, 5 + 4, "\(streaming)")
        }
    }
}
