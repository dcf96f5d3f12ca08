import Coordinator
import Foundation
import Logging
import Media
import Shared
import TestSupport
import XCTest

/// Issue 16, item 2 on the farm: segment inputs are the source's packets where the stream can be cut exactly, and
/// lossless FFV1 files otherwise, with a log line saying why (the frame-exactness itself: SegmentInputCutTests).
final class CompressedInputTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("compressed-inputs")
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Restores `input` on two local workers in 1 s segments; returns the frames written and the coordinator's log.
    private func restore(_ input: String, name: String, segmentSeconds: Double = 1) throws -> (frames: Int64, log: [String]) {
        let captured = CapturedLog()
        let logger = Logger(label: "test") { _ in CapturingLogHandler(captured: captured) }
        let settings = RestoreSettings(input: input, output: dir.appendingPathComponent("\(name).mkv").path, geometry: .scale(1), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), quiet: true)
        var options = FarmOptions(localWorkers: 2, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("job-\(name)").path)
        options.maxSegmentSeconds = segmentSeconds
        let summary = try FarmRestorePipeline(settings: settings, options: options, logger: logger, warn: { _ in }).run()
        return (summary.frames, captured.lines)
    }

    func testAProgressiveH264FilmTravelsAsPacketCuts() throws {
        let (frames, log) = try restore(try Fixtures.requireFootage("video/pens.mp4"), name: "pens")
        XCTAssertEqual(frames, 64)
        XCTAssertTrue(log.contains { $0.contains("segment inputs:") && $0.contains("cuts of the source's h264 packets") }, "\(log)")
        XCTAssertFalse(log.contains { $0.contains("lossless FFV1") }, "\(log)")
    }

    /// The 1906 film in half-second segments: its cuts cost more than lossless inputs, which is decided before the
    /// first segment goes out. Decided as the cuts were made, it flipped after 140 frames and restarted the job after
    /// segments were done (the fault suite's injected faults then fell into the first attempt).
    func testCutsOrLosslessIsDecidedBeforeTheFirstSegment() throws {
        let (frames, log) = try restore(try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv"), name: "calais", segmentSeconds: 0.5)
        XCTAssertEqual(frames, 288)
        XCTAssertTrue(log.contains { $0.contains("lossless FFV1") && ($0.contains("more than lossless inputs") || $0.contains("too far apart")) },
                      "the cost rule says why: \(log)")
        XCTAssertFalse(log.contains { $0.contains("starting again") }, "\(log)")
        XCTAssertFalse(log.contains { $0.contains("cuts of the source's") }, "no cut was made before the choice: \(log)")
    }

    func testAnInterlacedFilmFallsBackToLosslessInputsSayingWhy() throws {
        let path = dir.appendingPathComponent("tff.mp4").path
        try Fixtures.interlacedClip(from: try Fixtures.requireFootage("video/bikes.mp4"), codec: .h264, at: path)
        let (frames, log) = try restore(path, name: "tff")
        XCTAssertEqual(frames, 50)
        XCTAssertTrue(log.contains { $0.contains("lossless FFV1") && $0.contains("interlaced") }, "\(log)")
    }

    func testAFilmWithoutTimestampsFallsBackToLosslessInputsSayingWhy() throws {
        let path = dir.appendingPathComponent("asp.avi").path
        try Fixtures.syntheticClip(at: path, seconds: 2, size: "176x144", videoCodec: ["-c:v", "mpeg4", "-bf", "2", "-g", "12"])
        let (frames, log) = try restore(path, name: "asp")
        XCTAssertEqual(frames, 50)
        XCTAssertTrue(log.contains { $0.contains("lossless FFV1") && $0.contains("has no timestamp") }, "\(log)")
    }
}

final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}

struct CapturingLogHandler: LogHandler {
    let captured: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        captured.append("\(level): \(message)")
    }
}
