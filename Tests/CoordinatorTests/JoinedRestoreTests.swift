import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// Issue 16, item 3: workers encode the frames no seam touches in the final codec; the head node blends and encodes only
/// the seams and joins the pieces by bitstream. pens.mp4 (64 frames, one shot, with sound) in segments of 1 s with
/// `--overlap 8`: three segments (`ShotSplit`: 0..<25, 17..<46, 38..<64), two seams of 8 frames.
final class JoinedRestoreTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("joined-restore")
        try Fixtures.require(!(Fixtures.useBuiltWorker() == nil), "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func restore(_ input: String, to name: String, geometry: OutputGeometry.Request = .scale(2), encoding: VideoEncoding,
                         workersEncode: Bool = true, workers: Int = 2, check: (RestorePipeline.Summary) -> Void = { _ in }) throws -> String {
        let output = dir.appendingPathComponent(name).path
        let settings = RestoreSettings(input: input, output: output, geometry: geometry, processor: "lanczos", encoding: encoding, quiet: true)
        var options = FarmOptions(localWorkers: workers, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("\(name).job").path)
        options.maxSegmentSeconds = 1
        options.overlapFrames = 8 // seams are what this file tests (a per-frame chain has none by default: SeamlessRestoreTests)
        options.keepJobDirectory = true
        options.workersEncode = workersEncode
        let summary = try FarmRestorePipeline(settings: settings, options: options, warn: { _ in }).run()
        XCTAssertEqual(summary.frames, 64)
        check(summary)
        return output
    }

    private func pictures(_ path: String) throws -> [VideoPicture] {
        let reader = try ConstantRateReader(path: path)
        var result: [VideoPicture] = []
        while let frame = try reader.next() { result.append(frame.picture) }
        return result
    }

    /// An FFV1 film made by joining is, frame for frame and bit for bit, the film the head node used to encode whole —
    /// on a padded canvas, so the workers place the picture exactly as the head node did.
    func testAnFFV1FilmIsBitForBitTheHeadNodesEncode() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let encoding = VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p10le")
        let box = OutputGeometry.Request.size(PixelSize(width: 800, height: 600), pad: true)
        let joined = try restore(pens, to: "joined.mkv", geometry: box, encoding: encoding)
        let whole = try restore(pens, to: "whole.mkv", geometry: box, encoding: encoding, workersEncode: false)
        let a = try pictures(joined), b = try pictures(whole)
        XCTAssertEqual(a.count, 64)
        XCTAssertEqual(b.count, 64)
        for (i, (x, y)) in zip(a, b).enumerated() {
            XCTAssertEqual(x.width * x.height, 800 * 600, "the padded canvas (pens is shown turned, so it is 600x800 stored)")
            XCTAssertTrue(x.data == y.data, "frame \(i) differs between the joined film and the head node's encode")
        }
        // The results hold the encoded interior beside the seam frames: 48 of 64 frames never went back losslessly.
        let results = dir.appendingPathComponent("joined.mkv.job/results")
        var encoded = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: results.path) where name.hasSuffix(".mkv") {
            encoded += try EncodedPiece(path: results.appendingPathComponent(name).path).frameCount
        }
        XCTAssertEqual(encoded, 64 - 2 * 8)
    }

    /// H.264: the workers' packets are in the film unchanged, the film decodes without one error, keeps the sound, and
    /// the same job on another number of workers gives the same bytes.
    func testAnH264FilmIsTheWorkersPacketsAndIsDeterministic() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let encoding = VideoEncoding(codec: .h264, crf: 18, preset: "medium", pixelFormat: "yuv420p")
        let joined = try restore(pens, to: "joined.mp4", encoding: encoding)
        XCTAssertEqual(try Fixtures.run("ffmpeg", ["-v", "error", "-xerror", "-i", joined, "-f", "null", "-"]).trimmingCharacters(in: .whitespacesAndNewlines), "")
        let video = try Fixtures.probe(joined, stream: "v:0")
        XCTAssertEqual(video["nb_read_frames"], "64")
        XCTAssertEqual(video["codec_name"], "h264")
        XCTAssertEqual(try Fixtures.probe(joined, stream: "a:0")["codec_name"], try Fixtures.probe(pens, stream: "a:0")["codec_name"])

        // Every worker's interior packets appear, in order and byte for byte, in the film's video stream.
        func packetDigests(_ path: String, map: String) throws -> [String] {
            try Fixtures.run("ffmpeg", ["-v", "error", "-i", path, "-map", map, "-c", "copy", "-f", "framemd5", "-"])
                .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.split(separator: ",").last!).trimmingCharacters(in: .whitespaces) }
        }
        let film = try packetDigests(joined, map: "0:v:0")
        XCTAssertEqual(film.count, 64)
        let results = dir.appendingPathComponent("joined.mp4.job/results")
        var copied = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: results.path) where name.hasSuffix(".mkv") {
            let piece = try packetDigests(results.appendingPathComponent(name).path, map: "0:1")
            guard !piece.isEmpty else { continue }
            let found = (0...(film.count - piece.count)).contains { Array(film[$0..<($0 + piece.count)]) == piece }
            XCTAssertTrue(found, "\(name)'s \(piece.count) packets are not in the film unchanged")
            copied += piece.count
        }
        XCTAssertEqual(copied, 64 - 2 * 8, "the interiors' frames are copied, only the seams' are encoded by the head node")

        // Close to the frames the head node would have encoded from lossless results (two x264 runs on the same pictures).
        let whole = try restore(pens, to: "whole.mp4", encoding: encoding, workersEncode: false)
        let psnr = try Fixtures.run("ffmpeg", ["-v", "error", "-i", joined, "-i", whole, "-lavfi", "[0:v][1:v]psnr=stats_file=-", "-f", "null", "-"])
        let worst = psnr.split(separator: "\n").compactMap { line in line.split(separator: " ").first { $0.hasPrefix("psnr_avg:") }.flatMap { Double($0.dropFirst(9)) } }.min()
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(worst), 40)

        // Deterministic: one worker instead of two, the same bytes.
        // One worker renders the segments one after another: the film's writer joins each as it comes, so segment 0's
        // interior at least (12 frames) is in the film before the last segment arrives.
        let again = try restore(pens, to: "again.mp4", encoding: encoding, workers: 1) {
            XCTAssertGreaterThanOrEqual($0.framesWrittenDuringFarm, 12, "the film is written while the farm runs")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: again)), try Data(contentsOf: URL(fileURLWithPath: joined)))
    }

    /// A result whose file is intact (its checksum is the journal's) but cannot be joined — here segment 1's file holds
    /// segment 0's frames, as a buggy or foreign worker could send — stops the join with the segment named, and is
    /// dropped from the journal: the same command again redoes exactly that segment and makes the same film.
    func testAResultThatCannotBeJoinedIsRedoneOnTheNextRun() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let encoding = VideoEncoding(codec: .h264, crf: 18, preset: "medium", pixelFormat: "yuv420p")
        let first = try restore(pens, to: "film.mp4", encoding: encoding)
        let want = try Data(contentsOf: URL(fileURLWithPath: first))
        try FileManager.default.removeItem(atPath: first)
        let job = dir.appendingPathComponent("film.mp4.job")
        let plan = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: job.appendingPathComponent("plan.json"))) as? [String: Any])
        let keys = try XCTUnwrap(plan["keys"] as? [String])
        let journalURL = job.appendingPathComponent("journal.json")
        var journal = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: journalURL)) as? [String: Any])
        var entries = try XCTUnwrap(journal["entries"] as? [String: Any])
        var victim = try XCTUnwrap(entries[keys[1]] as? [String: Any])
        let donor = try XCTUnwrap(entries[keys[0]] as? [String: Any])
        let results = job.appendingPathComponent("results")
        let victimFile = results.appendingPathComponent(try XCTUnwrap(victim["file"] as? String))
        let bytes = try Data(contentsOf: results.appendingPathComponent(try XCTUnwrap(donor["file"] as? String)))
        try bytes.write(to: victimFile)
        victim["bytes"] = bytes.count
        victim["sha256"] = donor["sha256"]
        entries[keys[1]] = victim
        journal["entries"] = entries
        try JSONSerialization.data(withJSONObject: journal).write(to: journalURL)

        XCTAssertThrowsError(try restore(pens, to: "film.mp4", encoding: encoding)) { error in
            XCTAssertEqual((error as? AssemblyError)?.segment, 1, "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: first), "no output from a failed join")
        XCTAssertFalse(FileManager.default.fileExists(atPath: victimFile.path), "the unusable result is dropped")
        _ = try restore(pens, to: "film.mp4", encoding: encoding) { XCTAssertEqual($0.segmentsRestored, 1) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first)), want, "the redone segment joins into the same film")
    }

    /// One pipeline (issue 16, item 4): `--in-process` renders the same segments with the workers' own code and joins
    /// them the same way, so it makes the farm's film byte for byte — retimed (`--fps`, which it used to refuse) too.
    /// The farm runs two workers of one engine thread each, in-process one engine of two threads: the engine's results do
    /// not depend on its thread count (`ThreadCountDeterminismTests`; RIFE's did before, through OpenBLAS's threads).
    func testInProcessMakesTheFarmsFilmByteForByte() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        var films: [Data] = []
        for extra in [["--workers", "2", "--worker-threads", "1"], ["--in-process", "--threads", "2"]] {
            let out = dir.appendingPathComponent("film\(films.count).mp4").path
            let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", pens, "-o", out, "--model", "lanczos", "--fps", "50",
                                                                       "--segment-seconds", "1", "--quiet"] + extra, timeout: 240)
            XCTAssertEqual(result.status, 0, result.stderr)
            films.append(try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        XCTAssertEqual(films[0], films[1], "in-process and farm films differ")
        XCTAssertEqual(try Fixtures.probe(dir.appendingPathComponent("film1.mp4").path, stream: "v:0")["nb_read_frames"], "108")
    }
}
