import Foundation
import Planning
import Shared
import TestSupport
import XCTest

/// A segment's number became `SegmentIndex` (issue 16 item 5); what a job keeps on disk did not change: job directories
/// written before still resume.
final class SegmentIndexFormatTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("segment-index") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// plan.json's segments as the code with `index: Int` wrote them (sorted keys): read, and written back the same.
    /// (The pieces are `ShotSplit`'s, from the shot's start forward; the format is what this test is about.)
    func testAPlanWrittenWithIntegerIndicesReadsAndWritesTheSame() throws {
        let old = #"{"frameCount":20,"segments":[{"index":0,"input":[0,10],"owned":[0,8],"shot":0},{"index":1,"input":[6,18],"owned":[8,16],"shot":0},"#
            + #"{"index":2,"input":[14,20],"owned":[16,20],"shot":0}],"settings":{"maxSegmentFrames":12,"overlapFrames":4},"shots":[[0,20]]}"#
        let plan = try JSONDecoder().decode(SegmentPlan.self, from: Data(old.utf8)).validated()
        XCTAssertEqual(plan, try SegmentPlanner.plan(shots: [0..<20], frameCount: 20, settings: SegmentPlannerSettings(maxSegmentFrames: 12, overlapFrames: 4)))
        XCTAssertEqual(plan.segments.map(\.index), [0, 1, 2])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        XCTAssertEqual(String(decoding: try encoder.encode(plan), as: UTF8.self), old)
    }

    /// A file's index outside 0..<2^32 is a decoding error (the plan is refused), never a trap.
    func testAnIndexOutOfRangeInAFileIsRefused() {
        for bad in ["-1", "4294967296"] {
            let text = #"{"index":"# + bad + #","input":[0,8],"owned":[0,6],"shot":0}"#
            XCTAssertThrowsError(try JSONDecoder().decode(Segment.self, from: Data(text.utf8)), bad)
        }
    }

    /// journal.json never held a segment's number: entries are keyed by the result key, which is made from the
    /// segment's frames. A journal in the format the code before `SegmentIndex` wrote, with the key it computed for
    /// segment 1 of this plan (SHA-256 worked out outside Swift, by Python's hashlib), opens with its result intact, and
    /// today's plan computes the same key for that segment, so its result is reused.
    func testAJournalWrittenBeforeSegmentIndexStillResumes() throws {
        let plan = try SegmentPlanner.plan(shots: [0..<20], frameCount: 20, settings: SegmentPlannerSettings(maxSegmentFrames: 12, overlapFrames: 4))
        let segment = plan.segments[1]
        XCTAssertEqual(segment.index, 1)
        XCTAssertEqual(segment.input, 6..<18)
        let key = "939bca66cb7c943c3863982cf030b2b0"
        XCTAssertEqual(JobKeys.segmentKey(input: "source-identity", settings: "settings-text", frames: segment.input), key)

        let jobURL = dir.appendingPathComponent("job")
        let job = try JobDirectory(url: jobURL) // the marker and folders, as any run makes them
        // 5000 bytes 1, 2, …, 255, 0, 1, …: their SHA-256 also from hashlib.
        try Data((0..<5000).map { UInt8(truncatingIfNeeded: $0) &+ 1 }).write(to: job.resultsURL.appendingPathComponent("segment-\(key).mkv"))
        let journal = """
        {
          "entries" : {
            "\(key)" : {
              "bytes" : 5000,
              "file" : "segment-\(key).mkv",
              "frames" : 12,
              "inputFrames" : "0123456789abcdef",
              "key" : "\(key)",
              "sha256" : "4d5846ec5fa6d5b594bef58842321ee6fe7cb80a03463ab8a0fa003a2dfb36f8"
            }
          },
          "version" : 1
        }
        """
        try Data(journal.utf8).write(to: job.journalURL)

        let reopened = try JobDirectory(url: jobURL)
        XCTAssertEqual(try reopened.verify(keeping: [key]), [], "the old result is intact and wanted")
        let entry = try XCTUnwrap(reopened.entries[key])
        XCTAssertEqual(entry.frames, segment.input.count)
        XCTAssertEqual(entry.inputFrames, "0123456789abcdef")
    }
}
