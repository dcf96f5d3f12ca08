import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// `restore` through the farm protocol with local worker processes (the default path).
final class FarmRestoreTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("farm-restore")
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testTwoLocalWorkersRestoreBikesInSegmentsFrameExact() throws {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        let farmOut = dir.appendingPathComponent("farm.mkv").path
        let settings = RestoreSettings(input: bikes, output: farmOut, geometry: .scale(1), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), quiet: true)
        var options = FarmOptions(localWorkers: 2, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("job").path)
        options.maxSegmentSeconds = 3 // 75 frames: every one of bikes' 6 shots (cuts at 30, 76, 137, 187, 242) fits in one segment
        options.keepJobDirectory = true
        let summary = try FarmRestorePipeline(settings: settings, options: options, warn: { _ in }).run()
        XCTAssertEqual(summary.frames, 250)
        let results = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("job/results").path)
        XCTAssertEqual(results.filter { $0.hasSuffix(".mkv") }.count, 6)

        // Same frames, in the same order, as restoring in one process (up to the 16-bit intermediate's rounding).
        let direct = dir.appendingPathComponent("direct.mkv").path
        try RestorePipeline(settings: RestoreSettings(input: bikes, output: direct, geometry: .scale(1), processor: "lanczos",
                                                      encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), quiet: true), warn: { _ in }).run()
        let a = try ConstantRateReader(path: farmOut), b = try ConstantRateReader(path: direct)
        var index = 0
        while let fa = try a.next() {
            let fb = try XCTUnwrap(try b.next(), "direct output ended at \(index)")
            var worst = 0
            for (x, y) in zip(fa.picture.data, fb.picture.data) { worst = max(worst, abs(Int(x) - Int(y))) }
            XCTAssertLessThanOrEqual(worst, 1, "frame \(index)")
            index += 1
        }
        XCTAssertEqual(index, 250)
        XCTAssertNil(try b.next())
    }
}
