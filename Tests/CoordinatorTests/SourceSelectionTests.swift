import Foundation
import Media
import TestSupport
import XCTest

/// Issue 13, cases 9 and 10: image sequences in (how film scans arrive) and the choice among several video
/// streams. Before: a sequence was refused as "Input file not found", and a second video stream was dropped
/// without a word.
final class SourceSelectionTests: XCTestCase {
    private var dir: URL!
    private var calais: String!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("sources")
        calais = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func restore(_ args: [String]) throws -> Fixtures.CommandResult {
        try Fixtures.runProduct("lumiere-coordinator", ["restore"] + args + ["--model", "lanczos", "--preset", "ultrafast", "--quiet"], in: dir)
    }

    /// 16-bit PNG and DPX scans of the 1906 film, through the farm and in-process: every file is one frame at the
    /// given rate, and the pictures are the scans' (checked against the source film, frame by frame).
    func testImageSequencesRestoreFrameExact() throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("scan"), withIntermediateDirectories: true)
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", calais, "-frames:v", "20", "-pix_fmt", "rgb48be", dir.appendingPathComponent("scan/frame_%06d.png").path])
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", calais, "-frames:v", "20", "-c:v", "dpx", "-pix_fmt", "rgb48le",
                                    "-start_number", "86400", dir.appendingPathComponent("reel_%d.dpx").path])
        for (pattern, extra) in [("scan/frame_%06d.png", []), ("reel_%d.dpx", ["--in-process"])] {
            let output = "out-\(pattern.hasSuffix("png") ? "png" : "dpx").mkv"
            let result = try restore([pattern, "--input-rate", "16", "-o", output, "--scale", "1", "--codec", "ffv1", "--pixel-format", "yuv444p"] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            let probe = try Fixtures.probe(dir.appendingPathComponent(output).path, stream: "v:0")
            XCTAssertEqual(probe["nb_read_frames"] ?? probe["nb_frames"], "20", "\(pattern): \(probe)")
            XCTAssertEqual(probe["r_frame_rate"], "16/1")
            // The restored frames are the film's (lanczos at scale 1, lossless out): PSNR against the source, frame by frame.
            let psnr = try Fixtures.run("ffmpeg", ["-v", "error", "-i", dir.appendingPathComponent(output).path, "-i", calais,
                                                   "-filter_complex", "[0:v]format=yuv444p[a];[1:v]format=yuv444p,trim=end_frame=20,setpts=N/16/TB[b];[a][b]psnr=stats_file=-",
                                                   "-f", "null", "-"])
            let values = psnr.split(separator: "\n").compactMap { line in line.split(separator: " ").first { $0.hasPrefix("psnr_avg:") }.flatMap { Double($0.dropFirst(9)) ?? .infinity } }
            XCTAssertEqual(values.count, 20, psnr)
            XCTAssertGreaterThan(values.min() ?? 0, 38, "\(pattern): every frame is the scan's")
        }
    }

    /// Scans in, scans out: a 16-bit PNG sequence numbered from 86400 restored to a DPX sequence keeps the numbers,
    /// the depth (rgb48le) and, at scale 1, every value; an existing frame is never overwritten.
    func testSequenceOutKeepsNumbersAndDepth() throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("scan"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", calais, "-frames:v", "12", "-pix_fmt", "rgb48be", "-start_number", "86400",
                                    dir.appendingPathComponent("scan/f_%06d.png").path])
        let result = try restore(["scan/f_%06d.png", "--input-rate", "16", "-o", "out/r_%06d.dpx", "--scale", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path).sorted()
        XCTAssertEqual(files.first, "r_086400.dpx")
        XCTAssertEqual(files.last, "r_086411.dpx")
        XCTAssertEqual(files.count, 12, "no hidden partial folder left: \(files)")
        XCTAssertEqual(try Fixtures.probe(dir.appendingPathComponent("out/r_086400.dpx").path, stream: "v:0")["pix_fmt"], "rgb48le")
        func md5s(_ pattern: String) throws -> [String] {
            try Fixtures.run("ffmpeg", ["-v", "error", "-start_number", "86400", "-i", dir.appendingPathComponent(pattern).path,
                                        "-pix_fmt", "rgb48le", "-f", "framemd5", "-"])
                .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.split(separator: ",").last ?? "") }
        }
        XCTAssertEqual(try md5s("out/r_%06d.dpx"), try md5s("scan/f_%06d.png"), "16-bit values kept exactly at scale 1")
        let again = try restore(["scan/f_%06d.png", "--input-rate", "16", "-o", "out/r_%06d.dpx", "--scale", "1"])
        XCTAssertEqual(again.status, 1)
        XCTAssert(again.stderr.contains("never overwrites frames"), again.stderr)
    }

    func testBrokenSequencesSayWhatIsWrong() throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("scan"), withIntermediateDirectories: true)
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", calais, "-frames:v", "6", dir.appendingPathComponent("scan/f_%04d.png").path])
        var result = try restore(["scan/f_%04d.png", "-o", "a.mp4"])
        XCTAssertEqual(result.status, 1)
        XCTAssert(result.stderr.contains("give its frame rate with --input-rate"), result.stderr)
        result = try restore(["scan/g_%04d.png", "--input-rate", "24", "-o", "a.mp4"])
        XCTAssertEqual(result.status, 1)
        XCTAssert(result.stderr.contains("no file in"), result.stderr)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("scan/f_0003.png"))
        result = try restore(["scan/f_%04d.png", "--input-rate", "24", "-o", "a.mp4"])
        XCTAssertEqual(result.status, 1)
        XCTAssert(result.stderr.contains("frame 3 is missing"), result.stderr)
        result = try restore([calais, "--input-rate", "24", "-o", "a.mp4"])
        XCTAssertEqual(result.status, 1)
        XCTAssert(result.stderr.contains("--input-rate is for image sequences"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("a.mp4").path))
    }

    /// Two video streams of different sizes: the default restores FFmpeg's pick and names the other; --video-stream
    /// picks the other; an index that is not a video stream is refused with the list.
    func testSeveralVideoStreams() throws {
        let carphone = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        let two = dir.appendingPathComponent("two.mkv").path
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", carphone, "-i", calais, "-map", "0:v", "-map", "1:v", "-t", "0.5",
                                    "-c:v", "libx264", "-preset", "ultrafast", two])
        var result = try restore([two, "-o", "first.mp4", "--scale", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssert(result.stderr.contains("has 2 video streams; restoring stream 0, leaving out 1"), result.stderr)
        // Restored alone, each stream gives the size its restore through --video-stream gives.
        for (index, name) in [(0, "first.mp4"), (1, "second.mp4")] {
            if index == 1 {
                result = try restore([two, "-o", name, "--scale", "1", "--video-stream", "1"])
                XCTAssertEqual(result.status, 0, result.stderr)
            }
            let alone = dir.appendingPathComponent("alone-\(index).mkv").path
            try Fixtures.run("ffmpeg", ["-v", "error", "-i", two, "-map", "0:\(index)", "-c", "copy", alone])
            XCTAssertEqual(try restore([alone, "-o", "alone-\(index).mp4", "--scale", "1"]).status, 0)
            let got = try Fixtures.probe(dir.appendingPathComponent(name).path, stream: "v:0")
            let want = try Fixtures.probe(dir.appendingPathComponent("alone-\(index).mp4").path, stream: "v:0")
            XCTAssertEqual(got["width"], want["width"], name)
            XCTAssertEqual(got["height"], want["height"], name)
        }
        XCTAssertNotEqual(try Fixtures.probe(dir.appendingPathComponent("first.mp4").path, stream: "v:0")["height"],
                          try Fixtures.probe(dir.appendingPathComponent("second.mp4").path, stream: "v:0")["height"])
        result = try restore([two, "-o", "third.mp4", "--video-stream", "5"])
        XCTAssertEqual(result.status, 1)
        XCTAssert(result.stderr.contains("its video streams: 0 (h264 176x144), 1 (h264"), result.stderr)
    }
}

/// Issue 13, case 10: `--size` names the box the viewer sees. A phone-style clip stored 176x144 and shown turned a
/// quarter: before, `--size 720x1280` gave a stored 720x1280 picture that players showed as 1280x720.
final class RotationTests: XCTestCase {
    func testSizeFitsTheDisplayedPicture() throws {
        let dir = try Fixtures.temporaryDirectory("rotation")
        defer { try? FileManager.default.removeItem(at: dir) }
        let carphone = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        let plain = dir.appendingPathComponent("plain.mp4").path, turned = dir.appendingPathComponent("turned.mp4").path
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", carphone, "-t", "0.4", "-c:v", "libx264", "-preset", "ultrafast", plain])
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", turned])
        for extra in [[], ["--in-process"]] {
            let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", turned, "-o", "out.mp4", "--size", "720x1280", "--model", "lanczos",
                                                                          "--preset", "ultrafast", "--quiet", "--overwrite"] + extra, in: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            let out = try Fixtures.run("ffprobe", ["-v", "error", "-show_entries", "stream=width,height:stream_side_data=rotation", "-of", "compact",
                                                   dir.appendingPathComponent("out.mp4").path])
            XCTAssert(out.contains("width=1280|height=720"), "stored the other way round: \(out)")
            XCTAssert(out.contains("rotation=90") || out.contains("rotation=-90"), "shown turned, as the source: \(out)")
        }
    }
}

/// Issue 13, case 10: start offsets kept exactly. An MPEG-PS whose video starts at 0.54 s (13.5 frames at 25 fps):
/// before, the output's video started at 0.56 s, 20 ms late against its audio.
final class StartOffsetTests: XCTestCase {
    func testVideoStartIsKeptToTheMillisecond() throws {
        let dir = try Fixtures.temporaryDirectory("start-offset")
        defer { try? FileManager.default.removeItem(at: dir) }
        let city = try Fixtures.requireFootage("video/cityCC0.mpg")
        let ps = dir.appendingPathComponent("ps.mpg").path
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", city, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "2",
                                    "-c:v", "mpeg2video", "-c:a", "mp2", "-f", "mpeg", ps])
        func starts(_ path: String) throws -> (video: Double, audio: Double) {
            let v = try Fixtures.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=start_time", "-of", "csv=p=0", path])
            let a = try Fixtures.run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=start_time", "-of", "csv=p=0", path])
            // The first field of the first line (an MPEG stream also prints its side data).
            func first(_ text: String) -> Double { text.split(whereSeparator: { $0 == "\n" || $0 == "," }).first.flatMap { Double($0) } ?? .nan }
            return (first(v), first(a))
        }
        let source = try starts(ps)
        XCTAssertEqual(source.video, 0.54, accuracy: 1e-6, "the test clip starts between two frame slots")
        for extra in [[], ["--in-process"]] {
            let result = try Fixtures.runProduct("lumiere-coordinator", ["restore", ps, "-o", "out.mkv", "--scale", "1", "--model", "lanczos",
                                                                          "--preset", "ultrafast", "--quiet", "--overwrite"] + extra, in: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            let out = try starts(dir.appendingPathComponent("out.mkv").path)
            XCTAssertEqual(out.video, source.video, accuracy: 0.0011, "video start (Matroska keeps milliseconds)")
            XCTAssertEqual(out.video - out.audio, source.video - source.audio, accuracy: 0.0021, "sync between picture and sound")
        }
    }
}
