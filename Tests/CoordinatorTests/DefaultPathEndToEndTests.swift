import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// The README's default path, as a user runs it: `restore FILM -o OUT.mp4` — the default neural model, local worker
/// processes over the farm protocol, a film cut into several overlapping segments, H.264 out, audio carried —
/// against the same command run in one process (issue 14, item 1).
final class DefaultPathEndToEndTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("default-path") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testDefaultRestoreThroughLocalWorkersEqualsOneProcess() throws {
        // pens.mp4: 176x144, 64 frames at 179/6 fps, one shot, AAC audio.
        let film = try Fixtures.requireFootage("video/pens.mp4")
        let farm = dir.appendingPathComponent("farm.mp4").path, single = dir.appendingPathComponent("single.mp4").path
        let job = dir.appendingPathComponent("job")
        // Only the segment length differs from the defaults: 1 s makes four segments of one shot, so three seams.
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

        // Several seams inside the shot, and for a per-frame model both segments' versions of each overlap are the
        // same picture: the seams cost nothing.
        let plan = try JSONSerialization.jsonObject(with: Data(planText.utf8)) as? [String: Any]
        let segments = try XCTUnwrap((plan?["segments"] as? [String: Any])?["segments"] as? [[String: Any]])
        let inputs = segments.compactMap { ($0["input"] as? [Int]).map { $0[0]..<$0[1] } }
        XCTAssertGreaterThanOrEqual(inputs.count, 4)
        var seamFrames: [Int] = []
        for (a, b) in zip(inputs, inputs.dropFirst()) { seamFrames += Array(a.clamped(to: b)) }
        XCTAssertGreaterThanOrEqual(seamFrames.count, 3 * 8, "expected three overlaps of 8 frames")
        try checkOverlapsAgree(job: job, inputs: inputs)

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
        let seamSet = Set(seamFrames)
        let atSeams = psnr.enumerated().filter { seamSet.contains($0.offset) }.map(\.element)
        let elsewhere = psnr.enumerated().filter { !seamSet.contains($0.offset) }.map(\.element)
        print(String(format: "default path: farm vs one process, luma PSNR: worst %.1f dB, seam frames mean %.1f dB, other frames mean %.1f dB",
                     psnr.min() ?? 0, atSeams.reduce(0, +) / Double(atSeams.count), elsewhere.reduce(0, +) / Double(elsewhere.count)))
        for (f, p) in psnr.enumerated() { XCTAssertGreaterThanOrEqual(p, 40, "frame \(f) differs from the one-process film") }
    }

    /// Decodes neighbouring segments' result files (kept with --keep-job) and compares their shared frames.
    private func checkOverlapsAgree(job: URL, inputs: [Range<Int>]) throws {
        let journal = try JSONSerialization.jsonObject(with: Data(contentsOf: job.appendingPathComponent("journal.json"))) as? [String: Any]
        let planKeys = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: job.appendingPathComponent("plan.json"))) as? [String: Any])?["keys"] as? [String])
        let entries = try XCTUnwrap(journal?["entries"] as? [String: Any], "journal.json has no entries: \(String(describing: journal?.keys))")
        // Workers encode each segment's interior; its result's lossless stream holds the frames it shares with its
        // neighbours (the seams), in film order.
        func frames(_ s: Int) throws -> [Int: VideoPicture] {
            let entry = try XCTUnwrap(entries[planKeys[s]] as? [String: Any])
            let file = job.appendingPathComponent("results").appendingPathComponent(try XCTUnwrap(entry["file"] as? String)).path
            let input = try MediaInput(path: file)
            let decoder = try VideoDecoder(input: input, stream: input.info.streams[SegmentResultWriter.losslessStream], threads: 1)
            var result: [VideoPicture] = []
            while let frame = try decoder.next() { result.append(frame.picture) }
            let shared = Set(inputs.indices.filter { abs($0 - s) == 1 }.flatMap { Array(inputs[$0].clamped(to: inputs[s])) }).sorted()
            XCTAssertEqual(result.count, shared.count, "segment \(s)'s seam frames")
            XCTAssertEqual(try EncodedPiece(path: file).frameCount, inputs[s].count - shared.count, "segment \(s)'s encoded interior")
            return Dictionary(uniqueKeysWithValues: zip(shared, result))
        }
        var previous = try frames(0)
        for s in 1..<inputs.count {
            let current = try frames(s)
            for f in inputs[s - 1].clamped(to: inputs[s]) {
                let l = try XCTUnwrap(previous[f]), r = try XCTUnwrap(current[f])
                XCTAssertEqual(l.data, r.data, "frame \(f): segments \(s - 1) and \(s) disagree")
            }
            previous = current
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
