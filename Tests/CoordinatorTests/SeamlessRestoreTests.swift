import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// Issue 16 items 7 and 8: chains that are exact in any segment (here Lanczos, per frame) get no overlap by default, so
/// no seams: no frame rendered twice, none sent back lossless, nothing blended or encoded by the head node. And a short
/// clip is cut so that every local worker has a segment. pens.mp4: 64 frames at 179/6 fps, one shot, with sound.
final class SeamlessRestoreTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("seamless-restore")
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func restore(_ input: String, to name: String, encoding: VideoEncoding, overlap: Int? = nil, workers: Int = 2,
                         segmentSeconds: Double = 1, job: String? = nil) throws -> (path: String, summary: RestorePipeline.Summary) {
        let output = dir.appendingPathComponent(name).path
        let settings = RestoreSettings(input: input, output: output, geometry: .scale(2), processor: "lanczos", encoding: encoding, quiet: true)
        var options = FarmOptions(localWorkers: workers, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent(job ?? "\(name).job").path)
        options.maxSegmentSeconds = segmentSeconds
        options.overlapFrames = overlap
        options.keepJobDirectory = true
        let summary = try FarmRestorePipeline(settings: settings, options: options, warn: { _ in }).run()
        XCTAssertEqual(summary.frames, 64)
        return (output, summary)
    }

    private func pictures(_ path: String) throws -> [VideoPicture] {
        let reader = try ConstantRateReader(path: path)
        var result: [VideoPicture] = []
        while let frame = try reader.next() { result.append(frame.picture) }
        return result
    }

    /// The job's plan: each segment's input frames.
    private func inputs(job: String) throws -> [Range<Int>] {
        let plan = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(job).appendingPathComponent("plan.json"))) as? [String: Any]
        let segments = try XCTUnwrap((plan?["segments"] as? [String: Any])?["segments"] as? [[String: Any]])
        return segments.compactMap { ($0["input"] as? [Int]).map { $0[0]..<$0[1] } }
    }

    /// Frames in the result files' lossless (seam) streams and encoded interiors.
    private func resultFrames(job: String) throws -> (lossless: Int, encoded: Int) {
        let results = dir.appendingPathComponent(job).appendingPathComponent("results")
        var lossless = 0, encoded = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: results.path) where name.hasSuffix(".mkv") {
            let file = results.appendingPathComponent(name).path
            let input = try MediaInput(path: file)
            let decoder = try VideoDecoder(input: input, stream: input.info.streams[SegmentResultWriter.losslessStream], threads: 1)
            while try decoder.next() != nil { lossless += 1 }
            encoded += try EncodedPiece(path: file).frameCount
        }
        return (lossless, encoded)
    }

    /// FFV1: the film with the default (no overlap) is, frame for frame and bit for bit, the film with `--overlap 8` (whose
    /// seams blend two identical versions: `Crossfade.blend` of equal frames is within float rounding of the frame, which
    /// the result's integer samples round away). Its results hold no lossless frame. And the job directory of the
    /// overlap-8 run, resumed with the default, makes the same film: the overlap changes every split segment's input
    /// frames, so its key; no old result is joined into the new plan, they are pruned.
    func testTheSeamlessFilmIsBitForBitTheBlendedOneAndItsResultsHoldNoLosslessFrame() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let encoding = VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p10le")
        let blended = try restore(pens, to: "blended.mkv", encoding: encoding, overlap: 8)
        let seamless = try restore(pens, to: "seamless.mkv", encoding: encoding)

        let overlapped = try inputs(job: "blended.mkv.job"), tiled = try inputs(job: "seamless.mkv.job")
        // `ShotSplit`: pieces of 21 frames (inputs of 29) while 21 + 11 remain, then the 22 left: 3 segments, 2 seams.
        XCTAssertEqual(overlapped, [0..<25, 17..<46, 38..<64], "1 s segments with overlap 8: 3 segments, 2 seams")
        XCTAssertEqual(tiled.count, 3, "1 s segments (29 frames), no overlap: 3 segments")
        XCTAssertEqual(tiled.map(\.count).reduce(0, +), 64, "no frame rendered twice: \(tiled)")
        let withSeams = try resultFrames(job: "blended.mkv.job"), without = try resultFrames(job: "seamless.mkv.job")
        XCTAssertEqual(withSeams.lossless, 2 * 2 * 8, "each seam's 8 frames come back lossless from both neighbours")
        XCTAssertEqual(without.lossless, 0, "no seam, no lossless frame")
        XCTAssertEqual(without.encoded, 64, "every frame comes back encoded by a worker")

        let a = try pictures(seamless.path), b = try pictures(blended.path)
        XCTAssertEqual(a.count, 64)
        XCTAssertEqual(b.count, 64)
        for (i, (x, y)) in zip(a, b).enumerated() { XCTAssertTrue(x.data == y.data, "frame \(i) differs between no overlap and overlap 8") }

        let resumed = try restore(pens, to: "resumed.mkv", encoding: encoding, job: "blended.mkv.job")
        XCTAssertEqual(resumed.summary.segmentsReused, 0, "no result of the overlap-8 plan has a segment of the new plan")
        XCTAssertEqual(resumed.summary.segmentsRestored, 3)
        XCTAssertEqual(try inputs(job: "blended.mkv.job"), tiled)
        let journal = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("blended.mkv.job/journal.json"))) as? [String: Any]
        XCTAssertEqual((journal?["entries"] as? [String: Any])?.count, 3, "the overlap-8 results are pruned")
        for (i, (x, y)) in zip(try pictures(resumed.path), a).enumerated() { XCTAssertTrue(x.data == y.data, "frame \(i) of the resumed film differs") }
    }

    /// H.264 without seams: the film is only the workers' pieces joined, decodes without an error, keeps the sound, and
    /// one worker or two make the same bytes.
    func testAnH264FilmWithoutSeamsIsDeterministic() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let encoding = VideoEncoding(codec: .h264, crf: 18, preset: "medium", pixelFormat: "yuv420p")
        let two = try restore(pens, to: "two.mp4", encoding: encoding)
        let one = try restore(pens, to: "one.mp4", encoding: encoding, workers: 1)
        XCTAssertEqual(try Fixtures.run("ffmpeg", ["-v", "error", "-xerror", "-i", two.path, "-f", "null", "-"]).trimmingCharacters(in: .whitespacesAndNewlines), "")
        XCTAssertEqual(try Fixtures.probe(two.path, stream: "v:0")["nb_read_frames"], "64")
        XCTAssertEqual(try Fixtures.probe(two.path, stream: "a:0")["codec_name"], try Fixtures.probe(pens, stream: "a:0")["codec_name"])
        XCTAssertEqual(try resultFrames(job: "two.mp4.job").lossless, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: one.path)), try Data(contentsOf: URL(fileURLWithPath: two.path)),
                       "one worker and two made different films")
    }

    /// A clip shorter than one segment (2.1 s against the default 10 s) with two local workers: cut in two, one segment
    /// each, so both cores work (it used to be one segment, one worker idle). With one worker it is not shared out: one
    /// segment but for the ramp's first second (`ShotSplit`).
    func testEveryLocalWorkerGetsASegmentOfAShortClip() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let encoding = VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p10le")
        let two = try restore(pens, to: "two.mkv", encoding: encoding, segmentSeconds: 10)
        XCTAssertEqual(try inputs(job: "two.mkv.job"), [0..<32, 32..<64])
        XCTAssertEqual(two.summary.segmentsByWorker.count, 2, "each worker delivered a segment: \(two.summary.segmentsByWorker)")
        XCTAssertEqual(two.summary.segmentsByWorker.values.reduce(0, +), 2)
        let one = try restore(pens, to: "one.mkv", encoding: encoding, workers: 1, segmentSeconds: 10)
        XCTAssertEqual(try inputs(job: "one.mkv.job"), [0..<29, 29..<64])
        XCTAssertEqual(one.summary.segmentsByWorker.values.reduce(0, +), 2)
        for (i, (x, y)) in zip(try pictures(two.path), try pictures(one.path)).enumerated() { XCTAssertTrue(x.data == y.data, "frame \(i) differs") }
    }
}
