import Coordinator
import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// `restore` on the farm with local worker processes and monitoring on: the plot lands in the job directory.
final class RestoreMonitoringTests: XCTestCase {
    func testFarmRestoreWritesTheThroughputPlotIntoTheKeptJobDirectory() throws {
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
        let dir = try Fixtures.temporaryDirectory("restore-monitoring")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("clip.mp4").path
        try Fixtures.syntheticClip(at: clip, seconds: 2, size: "160x120", rate: "25")
        let settings = RestoreSettings(input: clip, output: dir.appendingPathComponent("out.mkv").path, geometry: .scale(1), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), quiet: true)
        var options = FarmOptions(localWorkers: 2, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("job").path)
        options.maxSegmentSeconds = 0.5
        options.keepJobDirectory = true
        options.monitoring.liveView = .log
        options.monitoring.metricsPort = 0 // any free port: the server starts and stops with the farm
        let summary = try FarmRestorePipeline(settings: settings, options: options, warn: { _ in }).run()
        XCTAssertEqual(summary.frames, 50)
        let plot = dir.appendingPathComponent("job/throughput.png").path
        let png = try Data(contentsOf: URL(fileURLWithPath: plot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertEqual(try MediaInput(path: plot).primaryVideoStream().size, PixelSize(width: 960, height: 540))
    }
}
