import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// `restore --fps` through the farm (issue 6): exact frame counts, clean cuts, audio kept, duplicates retimed.
final class RetimeRestoreTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("retime-restore")
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func frames(_ path: String) throws -> [RGBImage] {
        let reader = try ConstantRateReader(path: path)
        let converter = PixelConverter()
        var images: [RGBImage] = []
        while let frame = try reader.next() { images.append(try converter.rgbImage(from: frame.picture)) }
        return images
    }

    private func meanDifference(_ a: RGBImage, _ b: RGBImage) -> Double {
        var sum: Double = 0
        for (x, y) in zip(a.pixels, b.pixels) { sum += Double(abs(x - y)) }
        return sum / Double(a.pixels.count)
    }

    private func shotStarts(job: URL) throws -> [Int] {
        let data = try Data(contentsOf: job.appendingPathComponent("shots.json"))
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(list["boundaries"] as? [[String: Any]]).compactMap { $0["frame"] as? Int }
    }

    private func restore(_ input: String, _ output: String, fps: Rational, interpolator: String, geometry: OutputGeometry.Request,
                         duplicates: Double? = DuplicateDetector.defaultThreshold, order: RetimeSettings.OrderChoice = .auto,
                         encoding: VideoEncoding, job: URL, segmentSeconds: Double = 10) throws -> RestorePipeline.Summary {
        var settings = RestoreSettings(input: input, output: output, geometry: geometry, processor: "lanczos", encoding: encoding, quiet: true)
        settings.retime = RetimeSettings(outputRate: fps, interpolator: interpolator, order: order, duplicateThreshold: duplicates)
        var options = FarmOptions(localWorkers: 2, threadsPerWorker: 1, jobDirectory: job.path)
        options.keepJobDirectory = true
        options.maxSegmentSeconds = segmentSeconds
        options.monitoring.liveView = .off
        options.monitoring.report = false
        return try FarmRestorePipeline(settings: settings, options: options, warn: { _ in }).run()
    }

    /// trailer_bbb: 24 fps, 1323 frames, cuts, AAC audio → 60 fps.
    func testTrailerTo60fpsExactCountCleanCutsAudioKept() throws {
        let trailer = try Fixtures.requireFootage("video/trailer_bbb.mp4")
        let output = dir.appendingPathComponent("trailer60.mp4").path, job = dir.appendingPathComponent("job")
        let summary = try restore(trailer, output, fps: Rational(60), interpolator: "blend", geometry: .size(PixelSize(width: 320, height: 180), pad: true),
                                  encoding: VideoEncoding(codec: .h264, crf: 12, preset: "ultrafast"), job: job)
        // 1323 frames at 24 fps last 55.125 s; at 60 fps that is 3307.5 frames: every output frame starting before the end, ceil → 3308.
        XCTAssertEqual(summary.frames, 3308)
        let video = try Fixtures.probe(output, stream: "v:0"), audio = try Fixtures.probe(output, stream: "a:0")
        let sourceAudio = try Fixtures.probe(trailer, stream: "a:0")
        XCTAssertEqual(video["nb_read_frames"], "3308")
        XCTAssertEqual(video["r_frame_rate"], "60/1")
        XCTAssertEqual(Double(video["start_time"] ?? "") ?? -1, 0, accuracy: 1e-3)
        XCTAssertEqual(Double(audio["start_time"] ?? "") ?? -1, Double(sourceAudio["start_time"] ?? "") ?? -2, accuracy: 1e-3)
        XCTAssertEqual(Double(audio["duration"] ?? "") ?? 0, Double(sourceAudio["duration"] ?? "") ?? -1, accuracy: 0.03)
        XCTAssertEqual(Double(video["duration"] ?? "") ?? 0, 55.125, accuracy: 1.0 / 60)

        // At every detected cut the two output frames either side each match their own side, not a mix: a crossfaded
        // frame would sit about as far from its neighbour on one side as on the other.
        let cuts = try shotStarts(job: job)
        XCTAssertGreaterThanOrEqual(cuts.count, 5, "trailer_bbb has at least five hard cuts")
        let images = try frames(output)
        XCTAssertEqual(images.count, 3308)
        for cut in cuts {
            // The nearer-side rule: outputs with p < cut − ½ show the shot before.
            let first = Int(Retiming.ceil((Rational(Int64(cut)) - Rational(1, 2)) * Rational(60) / Rational(24)))
            let last = first - 1
            let before = meanDifference(images[last], images[last - 1]), acrossFromBefore = meanDifference(images[last], images[first])
            let after = meanDifference(images[first], images[first + 1])
            XCTAssertLessThan(before, 0.5 * acrossFromBefore, "output \(last), last of the shot before the cut at input \(cut), looks blended")
            XCTAssertLessThan(after, 0.5 * acrossFromBefore, "output \(first), first after the cut at input \(cut), looks blended")
        }
    }

    /// The 1906 film (15 fps) → 24 fps, upscaled 4×, RIFE v4.0, through local workers.
    func testCalaisTo24fpsAt4xWithRIFE() throws {
        let film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let output = dir.appendingPathComponent("calais24.mkv").path
        let summary = try restore(film, output, fps: Rational(24), interpolator: "rife-v4.0", geometry: .scale(4),
                                  encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), job: dir.appendingPathComponent("job"))
        XCTAssertEqual(summary.frames, 461) // 288 frames at 15 fps = 19.2 s; 460.8 → 461 at 24 fps
        XCTAssertEqual(summary.size, PixelSize(width: 856, height: 640))
        XCTAssertEqual(summary.rate, Rational(24))
        let video = try Fixtures.probe(output, stream: "v:0")
        XCTAssertEqual(video["nb_read_frames"], "461")
        XCTAssertEqual(video["r_frame_rate"], "24/1")

        // Output 1 sits at p = 0.625, between source frames 0 and 1: nearer to each than they are to each other.
        let images = try frames(output)
        let converter = PixelConverter()
        let reader = try ConstantRateReader(path: film)
        let source0 = try converter.resize(try converter.rgbImage(from: try XCTUnwrap(try reader.next()).picture), to: summary.size)
        let source1 = try converter.resize(try converter.rgbImage(from: try XCTUnwrap(try reader.next()).picture), to: summary.size)
        let apart = meanDifference(source0, source1)
        XCTAssertLessThan(meanDifference(images[1], source0), apart)
        XCTAssertLessThan(meanDifference(images[1], source1), apart)
        XCTAssertLessThan(meanDifference(images[0], source0), 0.02, "output 0 is source frame 0")
    }

    /// Every frame printed twice: with duplicate-aware retiming no output repeats its predecessor; kept, half do.
    func testDoubledFramesAreRetimedNotStuttered() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let doubled = dir.appendingPathComponent("doubled.mkv").path
        // pens is 179/6 fps; at twice the rate every picture appears twice (lossless, so the repeats are exact).
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", pens, "-vf", "fps=179/3", "-frames:v", "60", "-an", "-c:v", "ffv1", doubled])
        func repeats(duplicates: Double?, name: String) throws -> Int {
            let output = dir.appendingPathComponent(name).path
            let summary = try restore(doubled, output, fps: Rational(179, 3), interpolator: "blend", geometry: .scale(1), duplicates: duplicates,
                                      encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), job: dir.appendingPathComponent("job-" + name))
            XCTAssertEqual(summary.frames, 60)
            let thumbnails = try frames(output).map(DuplicateDetector.thumbnail)
            return zip(thumbnails, thumbnails.dropFirst()).filter { DuplicateDetector.score($0, $1) < DuplicateDetector.defaultThreshold }.count
        }
        let kept = try repeats(duplicates: nil, name: "kept.mkv")
        XCTAssertGreaterThanOrEqual(kept, 25, "the doubled clip should repeat about every other frame")
        XCTAssertLessThanOrEqual(try repeats(duplicates: DuplicateDetector.defaultThreshold, name: "retimed.mkv"), 2)
    }

    /// Blend and Lanczos are both linear, so both orders must give the same frames (up to clamping and 10-bit rounding):
    /// this checks the sr-first path frame by frame against interp-first.
    func testBothOrdersGiveTheSameFramesForLinearProcessors() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        var outputs: [[RGBImage]] = []
        for order in [RetimeSettings.OrderChoice.interpolateFirst, .superResolutionFirst] {
            let output = dir.appendingPathComponent("pens-\(order.rawValue).mkv").path
            let summary = try restore(pens, output, fps: Rational(60), interpolator: "blend", geometry: .scale(2), duplicates: nil, order: order,
                                      encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), job: dir.appendingPathComponent("job-\(order.rawValue)"))
            // 64 frames at 179/6 fps → ceil(64 · 60 · 6 / 179) = 129 frames at 60.
            XCTAssertEqual(summary.frames, 129)
            outputs.append(try frames(output))
        }
        XCTAssertEqual(outputs[0].count, 129)
        XCTAssertEqual(outputs[1].count, 129)
        for k in 0..<129 { XCTAssertLessThan(meanDifference(outputs[0][k], outputs[1][k]), 0.004, "frame \(k)") }
        // Not a film of copies: most outputs differ from the one before.
        let changes = (1..<129).filter { meanDifference(outputs[1][$0], outputs[1][$0 - 1]) > 0.0005 }.count
        XCTAssertGreaterThan(changes, 100)
    }

    /// A retimed job resumes like any other: the same command reuses every segment and writes the same bytes;
    /// another interpolator reuses nothing.
    func testRetimedJobResumesAndOtherSettingsRedo() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let job = dir.appendingPathComponent("job")
        func run(_ name: String, _ interpolator: String) throws -> (RestorePipeline.Summary, Data) {
            let output = dir.appendingPathComponent(name).path
            let summary = try restore(pens, output, fps: Rational(24), interpolator: interpolator, geometry: .scale(1),
                                      encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), job: job, segmentSeconds: 0.6)
            return (summary, try Data(contentsOf: URL(fileURLWithPath: output)))
        }
        let (first, firstBytes) = try run("first.mkv", "blend")
        XCTAssertGreaterThanOrEqual(first.segmentsRestored, 3)
        XCTAssertEqual(first.frames, 52) // 64 frames at 179/6 fps → ceil(64 · 24 · 6 / 179) = 52 at 24
        let (again, againBytes) = try run("again.mkv", "blend")
        XCTAssertEqual(again.segmentsRestored, 0)
        XCTAssertEqual(again.segmentsReused, first.segmentsRestored)
        XCTAssertEqual(againBytes, firstBytes)
        let (other, _) = try run("other.mkv", "rife-v4.0")
        XCTAssertEqual(other.segmentsReused, 0)
        XCTAssertEqual(other.frames, 52)
    }

    /// A down-conversion to a rate so low that bikes' last shot (8 frames) gets no output frame: it is skipped, not an error.
    func testVeryLowRateSkipsShotsShorterThanAFrame() throws {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        let output = dir.appendingPathComponent("bikes1.mkv").path
        let summary = try restore(bikes, output, fps: Rational(1), interpolator: "blend", geometry: .scale(1), duplicates: nil,
                                  encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), job: dir.appendingPathComponent("job"))
        XCTAssertEqual(summary.frames, 10) // 250 frames at 25 fps = 10 s
        XCTAssertEqual(try Fixtures.probe(output, stream: "v:0")["nb_read_frames"], "10")
    }
}
