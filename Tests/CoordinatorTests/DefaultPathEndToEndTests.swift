import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// The README's default path, as a user runs it: `restore FILM -o OUT.mp4` — the default neural model, local worker
/// processes over the farm protocol, a film cut into several segments (no overlap: the model works frame by frame, so
/// there are no seams), H.264 out, audio carried — against the same command run in one process (issue 14, item 1).
final class DefaultPathEndToEndTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("default-path") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testDefaultRestoreThroughLocalWorkersEqualsOneProcess() throws {
        // pens.mp4: 176x144, 64 frames at 179/6 fps, one shot, AAC audio.
        let film = try Fixtures.requireFootage("video/pens.mp4")
        let farm = dir.appendingPathComponent("farm.mp4").path, single = dir.appendingPathComponent("single.mp4").path
        let job = dir.appendingPathComponent("job")
        // Only the segment length differs from the defaults: 1 s makes three segments of one shot, and no seam.
        let run = try Fixtures.runProduct("lumiere-coordinator", ["restore", film, "-o", farm, "--segment-seconds", "1",
                                                                  "--job-dir", job.path, "--keep-job", "--quiet"],
                                           timeout: 240) // about 50 s on 2 cores: a hung job fails here
        XCTAssertEqual(run.status, 0, run.stderr)
        let one = try Fixtures.runProduct("lumiere-coordinator", ["restore", film, "-o", single, "--in-process", "--quiet"], timeout: 240)
        XCTAssertEqual(one.status, 0, one.stderr)

        // The defaults: the neural model ran (the plan records the recipe), 2x, H.264 yuv420p, every frame.
        let planText = try String(contentsOf: job.appendingPathComponent("plan.json"), encoding: .utf8)
        XCTAssertTrue(planText.contains("realesr-general-wdn"), "the default model is not in the job's recipe")
        let video = try Fixtures.probe(farm, stream: "v:0")
        XCTAssertEqual(video["codec_name"], "h264")
        XCTAssertEqual(video["pix_fmt"], "yuv420p")
        XCTAssertEqual(video["width"], "352")
        XCTAssertEqual(video["height"], "288")
        XCTAssertEqual(video["nb_read_frames"], "64")
        // Audio: the source's packets, unchanged.
        func audioDigest(_ path: String) throws -> String {
            try Fixtures.run("ffmpeg", ["-v", "error", "-i", path, "-map", "0:a", "-c", "copy", "-f", "md5", "-"])
        }
        XCTAssertEqual(try audioDigest(farm), try audioDigest(film))

        // Several segments inside the shot, none sharing a frame: no frame rendered twice, none sent back lossless.
        let plan = try JSONSerialization.jsonObject(with: Data(planText.utf8)) as? [String: Any]
        let segments = try XCTUnwrap((plan?["segments"] as? [String: Any])?["segments"] as? [[String: Any]])
        let inputs = segments.compactMap { ($0["input"] as? [Int]).map { $0[0]..<$0[1] } }
        XCTAssertEqual(inputs.count, 3)
        XCTAssertEqual(inputs.map(\.count).reduce(0, +), 64, "segments share frames: \(inputs)")
        try checkResultsHoldNoSeamFrames(job: job, inputs: inputs)

        // Frame by frame, the farm's film is the one-process film up to H.264's tolerance (both encodes start
        // from the same pictures up to the 16-bit intermediate's rounding; measured: 44.9–46 dB on every frame).
        let a = try ConstantRateReader(path: farm), b = try ConstantRateReader(path: single)
        var psnr: [Double] = []
        while let fa = try a.next() {
            let fb = try XCTUnwrap(try b.next(), "the one-process film ended at frame \(psnr.count)")
            psnr.append(Self.psnr(fa.picture.plane(0), fb.picture.plane(0)))
        }
        XCTAssertNil(try b.next(), "the one-process film has more frames")
        XCTAssertEqual(psnr.count, 64)
        // At the segments' edges (first and last frame of each) and elsewhere: a segment boundary leaves no trace.
        let edges = Set(inputs.flatMap { [$0.lowerBound, $0.upperBound - 1] })
        let atEdges = psnr.enumerated().filter { edges.contains($0.offset) }.map(\.element)
        let elsewhere = psnr.enumerated().filter { !edges.contains($0.offset) }.map(\.element)
        print(String(format: "default path: farm vs one process, luma PSNR: worst %.1f dB, segment-edge frames mean %.1f dB, other frames mean %.1f dB",
                     psnr.min() ?? 0, atEdges.reduce(0, +) / Double(atEdges.count), elsewhere.reduce(0, +) / Double(elsewhere.count)))
        for (f, p) in psnr.enumerated() { XCTAssertGreaterThanOrEqual(p, 40, "frame \(f) differs from the one-process film") }
    }

    /// Each result file (kept with --keep-job) holds its segment's frames encoded by the worker and no lossless frame.
    private func checkResultsHoldNoSeamFrames(job: URL, inputs: [Range<Int>]) throws {
        let journal = try JSONSerialization.jsonObject(with: Data(contentsOf: job.appendingPathComponent("journal.json"))) as? [String: Any]
        let planKeys = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: job.appendingPathComponent("plan.json"))) as? [String: Any])?["keys"] as? [String])
        let entries = try XCTUnwrap(journal?["entries"] as? [String: Any], "journal.json has no entries: \(String(describing: journal?.keys))")
        for (s, input) in inputs.enumerated() {
            let entry = try XCTUnwrap(entries[planKeys[s]] as? [String: Any])
            let file = job.appendingPathComponent("results").appendingPathComponent(try XCTUnwrap(entry["file"] as? String)).path
            let media = try MediaInput(path: file)
            let decoder = try VideoDecoder(input: media, stream: media.info.streams[SegmentResultWriter.losslessStream], threads: 1)
            var lossless = 0
            while try decoder.next() != nil { lossless += 1 }
            XCTAssertEqual(lossless, 0, "segment \(s)'s lossless frames")
            XCTAssertEqual(try EncodedPiece(path: file).frameCount, input.count, "segment \(s)'s encoded frames")
        }
    }

    /// PSNR of two 8-bit planes (peak 255); 99 when equal.
    static func psnr(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Double {
        var sum = 0.0, n = 0
        for (x, y) in zip(a, b) { let d = Double(x) - Double(y); sum += d * d; n += 1 }
        guard n > 0 else { return 0 }
        let mse = sum / Double(n)
        return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
    }
}
