import Planning
import Shared
import XCTest

/// The backpressure policy on segment inputs (issue 16 item 1): pure, so every case is checked without a film.
final class InputBacklogTests: XCTestCase {
    func testTheBoundFollowsTheWorkers() {
        XCTAssertEqual(InputBacklog.limit(workers: 1), 4)
        XCTAssertEqual(InputBacklog.limit(workers: 2), 6)
        XCTAssertEqual(InputBacklog.limit(workers: 100), 202)
        // No worker registered yet (remote workers): as for one, so the first segments are ready when one comes.
        XCTAssertEqual(InputBacklog.limit(workers: 0), 4)
        XCTAssertEqual(InputBacklog.limit(workers: -3), 4)
    }

    func testWritingStopsAtTheLimitAndResumesAsSegmentsFinish() {
        var backlog = InputBacklog()
        for segment in 0..<4 {
            XCTAssertTrue(backlog.mayWrite(limit: 4))
            backlog.written(SegmentIndex(segment))
        }
        XCTAssertFalse(backlog.mayWrite(limit: 4), "four written, none finished")
        backlog.finished(2) // out of order: any finished segment frees its place
        XCTAssertTrue(backlog.mayWrite(limit: 4))
        backlog.written(4)
        XCTAssertFalse(backlog.mayWrite(limit: 4))
        XCTAssertEqual(backlog.outstanding, [0, 1, 3, 4])
        XCTAssertEqual(backlog.peak, 4)
        // More workers registered: the limit read at the next check is larger.
        XCTAssertTrue(backlog.mayWrite(limit: 6))
    }

    func testUnknownAndRepeatedFinishesChangeNothing() {
        var backlog = InputBacklog()
        backlog.written(7)
        backlog.finished(9) // a segment written before the bound applied, or reused
        backlog.finished(7)
        backlog.finished(7) // a speculative copy's second result
        XCTAssertEqual(backlog.outstanding, [])
        XCTAssertEqual(backlog.peak, 1)
    }

    func testALimitBelowOneStillLetsOneInputThrough() {
        // One input at a time is the least that can make progress; 0 would wait for ever.
        let backlog = InputBacklog()
        XCTAssertTrue(backlog.mayWrite(limit: 0))
        var one = backlog
        one.written(0)
        XCTAssertFalse(one.mayWrite(limit: 0))
    }

    func testAPeakIsTheMostAtOnceNotTheTotal() {
        var backlog = InputBacklog()
        for segment in 0..<50 {
            backlog.written(SegmentIndex(segment))
            if segment >= 2 { backlog.finished(SegmentIndex(segment - 2)) }
        }
        XCTAssertEqual(backlog.peak, 3)
        XCTAssertEqual(backlog.outstanding.count, 2)
    }
}
