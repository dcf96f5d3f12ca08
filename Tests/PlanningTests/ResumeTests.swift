import Coordinator
import Foundation
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// `restore` through the farm, interrupted and resumed: only unfinished segments are recomputed and the
/// output is byte-identical (x264 at a fixed preset, one thread).
final class ResumeTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("resume")
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func restore(_ input: String, output: URL, job: URL, tile: Int? = nil) throws -> RestorePipeline.Summary {
        let settings = RestoreSettings(input: input, output: output.path, geometry: .scale(1), processor: "lanczos", tileSize: tile,
                                       encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast"), threads: 1, quiet: true)
        var options = FarmOptions(localWorkers: 2, threadsPerWorker: 1, jobDirectory: job.path)
        options.maxSegmentSeconds = 2 // 50 frames: bikes' 61- and 55-frame shots are split, with an 8-frame overlap
        options.keepJobDirectory = true
        return try FarmRestorePipeline(settings: settings, options: options, warn: { _ in }).run()
    }

    func testResumeRedoesOnlyMissingOrDamagedSegmentsAndOutputIsByteIdentical() throws {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        let job = dir.appendingPathComponent("job")
        let first = dir.appendingPathComponent("first.mp4")
        let summary = try restore(bikes, output: first, job: job)
        XCTAssertEqual(summary.frames, 250)
        let plan = try JSONDecoder().decode(RestoreJobPlan.self, from: Data(contentsOf: job.appendingPathComponent("plan.json")))
        let segments = plan.segments.segments
        XCTAssertEqual(segments.count, 8, "6 shots, two of them split: \(segments.map(\.input))")
        XCTAssertEqual(summary.segmentsRestored, 8)
        XCTAssertEqual(zip(segments, segments.dropFirst()).filter { $0.shot == $1.shot }.count, 2, "two seams to blend")
        // Segment boundaries follow the shots: the cuts are segment starts.
        XCTAssertEqual(Set(plan.shots.map(\.frame)).subtracting(segments.map(\.owned.lowerBound)), [])

        // "Interrupt": one result lost, one damaged on disk.
        let journal = try JobDirectory(url: job)
        let lost = try XCTUnwrap(journal.entries[plan.keys[2]]), damaged = try XCTUnwrap(journal.entries[plan.keys[5]])
        try FileManager.default.removeItem(at: journal.resultURL(lost))
        var bytes = try Data(contentsOf: journal.resultURL(damaged))
        bytes[bytes.count / 2] ^= 0x5A
        try bytes.write(to: journal.resultURL(damaged))

        let second = dir.appendingPathComponent("second.mp4")
        let resumed = try restore(bikes, output: second, job: job)
        XCTAssertEqual(resumed.segmentsRestored, 2, "only the lost and the damaged segment are recomputed")
        XCTAssertEqual(resumed.segmentsReused, 6)
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second), "resumed output differs from the uninterrupted one")

        // A changed setting (here the engine tile size, part of the recipe) reuses nothing.
        let third = dir.appendingPathComponent("third.mp4")
        let changed = try restore(bikes, output: third, job: job, tile: 64)
        XCTAssertEqual(changed.segmentsRestored, 8)
        XCTAssertEqual(changed.segmentsReused, 0)
    }
}
