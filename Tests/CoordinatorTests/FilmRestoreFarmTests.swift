import Coordinator
import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// Film restoration on the farm (issue 20, "Done when"): the stages run on the workers, before the filter, and a segment
/// boundary leaves no trace because each segment's input carries the chain's radius of context frames inside its shot.
final class FilmRestoreFarmTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("film-farm")
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func restore(_ name: String, film: RenderRecipe.FilmRestoration?, segmentSeconds: Double, workers: Int,
                         retime: RetimeSettings? = nil, frames: Int64 = 45) throws -> (path: String, results: Int) {
        let source = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let output = dir.appendingPathComponent("\(name).mkv").path
        var settings = RestoreSettings(input: source, output: output, geometry: .scale(1), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), quiet: true)
        // 45 frames at 15 fps: the cut at 39 makes a 39-frame shot and a 6-frame one.
        settings.trim = MediaSource.Trim(first: 0, count: frames, rate: Rational(15))
        settings.film = film
        settings.retime = retime
        var options = FarmOptions(localWorkers: workers, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("\(name).job").path)
        options.maxSegmentSeconds = segmentSeconds
        options.keepJobDirectory = true
        let summary = try FarmRestorePipeline(settings: settings, options: options, warn: { _ in }).run()
        if retime == nil { XCTAssertEqual(summary.frames, frames) }
        let results = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("\(name).job/results").path)
        return (output, results.filter { $0.hasSuffix(".mkv") }.count)
    }

    /// Per frame: the largest sample difference and the mean absolute difference (8-bit levels).
    private func differences(_ a: String, _ b: String) throws -> [(worst: Int, mean: Double)] {
        let ra = try ConstantRateReader(path: a), rb = try ConstantRateReader(path: b)
        var out: [(Int, Double)] = []
        while let fa = try ra.next() {
            let fb = try XCTUnwrap(try rb.next(), "\(b) ended at \(out.count)")
            var worst = 0, sum = 0
            for (x, y) in zip(fa.picture.data, fb.picture.data) { let d = abs(Int(x) - Int(y)); worst = max(worst, d); sum += d }
            out.append((worst, Double(sum) / Double(fa.picture.data.count)))
        }
        XCTAssertNil(try rb.next(), "\(b) is longer than \(a)")
        return out
    }

    func testShortSegmentsGiveTheFramesOfOneSegment() throws {
        let stages = RenderRecipe.FilmRestoration(deflicker: 1, dust: 1, stabilise: 1)
        // 1.3 s segments (19 frames, no overlap: the chain is exact in any segment): the 39-frame shot in 3 pieces
        // (0, 19, 29), each decoding its shot's frames up to 39 either side.
        let short = try restore("short", film: stages, segmentSeconds: 1.3, workers: 2)
        XCTAssertGreaterThanOrEqual(short.results, 4, "the film was cut into short segments")
        // One segment per shot, but for the film's first second (the ramp at its start, `ShotSplit`: a boundary at 15,
        // inside a piece of the short segments, as theirs are inside these).
        let whole = try restore("whole", film: stages, segmentSeconds: 10, workers: 1)
        XCTAssertEqual(whole.results, 3, "one segment per shot and the ramp's")
        let same = try differences(short.path, whole.path)
        XCTAssertEqual(same.count, 45)
        for (index, d) in same.enumerated() { XCTAssertEqual(d.worst, 0, "frame \(index): a segment boundary left a trace (mean \(d.mean))") }

        // The stages did run on the workers: the same film without them differs (stabilising moves every frame a little).
        let plain = try restore("plain", film: nil, segmentSeconds: 10, workers: 1)
        let changed = try differences(whole.path, plain.path)
        let mean = changed.map(\.mean).reduce(0, +) / Double(changed.count)
        XCTAssertGreaterThan(mean, 0.5, "restored and plain frames differ by \(mean) levels on average")
        print("film farm: \(short.results) short segments = \(whole.results) whole-shot segments on all 45 frames; restored vs plain: mean \(mean) levels")
    }

    /// With `--fps`: the worker retimes the restored frames (context dropped first, the timing counting its own frames
    /// only), and short segments still give the frames of one segment per shot.
    func testRetimedShortSegmentsGiveTheFramesOfOneSegment() throws {
        let stages = RenderRecipe.FilmRestoration(deflicker: 1, stabilise: 1)
        let retime = RetimeSettings(outputRate: Rational(24), interpolator: "blend")
        let short = try restore("short24", film: stages, segmentSeconds: 1, workers: 2, retime: retime, frames: 39)
        XCTAssertGreaterThanOrEqual(short.results, 4, "the shot was cut into short segments")
        let whole = try restore("whole24", film: stages, segmentSeconds: 10, workers: 1, retime: retime, frames: 39)
        let same = try differences(short.path, whole.path)
        XCTAssertEqual(same.count, 63, "39 frames at 15 fps: the output frames k with k · 15/24 before the film's end")
        for (index, d) in same.enumerated() { XCTAssertEqual(d.worst, 0, "frame \(index): a segment boundary left a trace (mean \(d.mean))") }

        // Without duplicate detection the default overlap is 1 frame (`RenderRecipe.defaultOverlapFrames`): each segment
        // reads the frame after its own for its last interpolations and makes only its own outputs, no seam. The film's
        // grain scores far above the detection threshold (docs/interpolation.md), so the film is the same.
        var keep = retime
        keep.duplicateThreshold = nil
        let seamless = try restore("seamless24", film: stages, segmentSeconds: 1, workers: 2, retime: keep, frames: 39)
        XCTAssertGreaterThanOrEqual(seamless.results, 3, "the shot was cut into short segments")
        let exact = try differences(seamless.path, whole.path)
        XCTAssertEqual(exact.count, 63)
        for (index, d) in exact.enumerated() { XCTAssertEqual(d.worst, 0, "frame \(index): overlap 1 left a trace (mean \(d.mean))") }
    }

    /// `--deflicker` alone takes strength 1; `--deflicker=S` takes S; after `--` nothing is rewritten.
    func testBareStageOptionsTakeTheDefaultStrength() {
        XCTAssertEqual(CoordinatorCommand.arguments(["restore", "a.mp4", "--deflicker", "--dust=2", "-o", "b.mp4", "--stabilise", "--", "--dust"]),
                       ["restore", "a.mp4", "--deflicker=1.0", "--dust=2", "-o", "b.mp4", "--stabilise=1.0", "--", "--dust"])
    }
}
