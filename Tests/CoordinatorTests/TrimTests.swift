import Foundation
import TestSupport
import XCTest

/// Issue 19, item 1: `restore --start/--duration/--frames` through the real executable — the trimmed film's frames
/// are exactly the same frames of the untrimmed restore (Lanczos at ×1 into lossless FFV1, so any frame off by one
/// shows), through the farm and in-process, retimed too, and its audio lasts as long as its picture.
final class TrimTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("trim")
        // 4 s at 25 fps, every frame different (testsrc2 moves and counts), with a 440 Hz tone in AAC.
        try Fixtures.syntheticClip(at: dir.appendingPathComponent("film.mp4").path, seconds: 4, size: "96x64",
                                   videoCodec: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "12"],
                                   audioCodec: ["-c:a", "aac", "-b:a", "64k"])
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Through the farm with two local workers and short segments (several segments, so seams too), unless `farm` is false.
    private func restore(_ args: [String], farm: Bool = true, input: String = "film.mp4") throws -> Fixtures.CommandResult {
        try Fixtures.runProduct("lumiere-coordinator", ["restore", input, "--model", "lanczos", "--scale", "1", "--codec", "ffv1", "--quiet",
                                                        "--segment-seconds", "0.5"] + (farm ? ["--workers", "2"] : []) + args, in: dir, timeout: 300)
    }

    /// Every frame of a film as RGB24, one Data each.
    private func frames(_ name: String) throws -> [Data] {
        let path = dir.appendingPathComponent(name).path
        let info = try Fixtures.probe(path, stream: "v:0")
        let size = try XCTUnwrap(Int(info["width"] ?? "")) * XCTUnwrap(Int(info["height"] ?? "")) * 3
        // -vsync 0: the frames as they are (the CLI's default would repeat the first to fill the sound's head start).
        let raw = try Fixtures.runData("ffmpeg", ["-v", "error", "-i", path, "-map", "0:v:0", "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        XCTAssertEqual(raw.count % size, 0)
        return stride(from: 0, to: raw.count, by: size).map { raw.subdata(in: $0..<($0 + size)) }
    }

    /// Seconds of sound in the first audio stream: its decoded samples over its sample rate.
    private func audioSeconds(_ name: String) throws -> Double {
        let path = dir.appendingPathComponent(name).path
        let samples = try Fixtures.run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "frame=nb_samples", "-of", "csv=p=0", path])
            .split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.reduce(0, +)
        let rate = try Fixtures.run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate", "-of", "csv=p=0", path])
        return Double(samples) / (Double(rate.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan)
    }

    func testTrimmedFramesAreTheSameFramesOfTheWholeRestore() throws {
        let whole = try restore(["-o", "whole.mkv"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let all = try frames("whole.mkv")
        XCTAssertEqual(all.count, 100)
        XCTAssertEqual(Set(all).count, 100, "every frame differs, so an off-by-one shows")

        // 1.2 s at 25 fps is frame 30; 1 s is 25 frames. Through the farm (local workers).
        let farm = try restore(["-o", "farm.mkv", "--start", "1.2", "--duration", "1"])
        XCTAssertEqual(farm.status, 0, farm.stderr)
        XCTAssertEqual(try frames("farm.mkv"), Array(all[30..<55]), "frames 30..<55")
        XCTAssertEqual(try audioSeconds("farm.mkv"), 1.0, accuracy: 0.05, "the sound lasts as long as the picture (whole AAC packets: 21 ms)")
        XCTAssertEqual(try audioSeconds("whole.mkv"), 4.0, accuracy: 0.05)

        // --frames, in-process, from a M:SS time; and an MP4, whose timestamps start at 0 like an untrimmed film's.
        let frames10 = try restore(["-o", "ten.mkv", "--start", "0:02.04", "--frames", "10", "--in-process"], farm: false)
        XCTAssertEqual(frames10.status, 0, frames10.stderr)
        XCTAssertEqual(try frames("ten.mkv"), Array(all[51..<61]), "frames 51..<61")
        let mp4 = try restore(["-o", "part.mp4", "--start", "3", "--codec", "h264", "--crf", "0", "--preset", "ultrafast"])
        XCTAssertEqual(mp4.status, 0, mp4.stderr)
        let probe = try Fixtures.probe(dir.appendingPathComponent("part.mp4").path, stream: "v:0")
        XCTAssertEqual(probe["nb_read_frames"], "25", "to the end: frames 75..<100")
        XCTAssertEqual(Double(probe["start_time"] ?? "") ?? -1, 0, accuracy: 0.05, "the trimmed film starts at 0")
        XCTAssertEqual(try audioSeconds("part.mp4"), 1.0, accuracy: 0.06)
    }

    /// Retimed to 50 fps, the trimmed film has twice the frames, and they are the untrimmed retimed film's frames at
    /// the same times — all but the last, which has no next source frame in the trim to interpolate towards.
    func testTrimWithFrameRateConversion() throws {
        let whole = try restore(["-o", "whole50.mkv", "--fps", "50", "--interp", "blend"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let all = try frames("whole50.mkv")
        XCTAssertEqual(all.count, 200)
        let trimmed = try restore(["-o", "trim50.mkv", "--fps", "50", "--interp", "blend", "--start", "1", "--frames", "20"])
        XCTAssertEqual(trimmed.status, 0, trimmed.stderr)
        let part = try frames("trim50.mkv")
        XCTAssertEqual(part.count, 40)
        XCTAssertEqual(Array(part.prefix(39)), Array(all[50..<89]))
    }

    /// The trimmed film's sound is the source's sound at the same moment: with white noise (no period to slip by), the
    /// trimmed sound's samples match the source's where the picture's start puts them, within a millisecond — on a
    /// B-frame H.264 clip, whose picture is read by jumping to the keyframe before the start.
    func testTrimmedSoundLinesUpWithItsPicture() throws {
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25:duration=4",
                                    "-f", "lavfi", "-i", "anoisesrc=d=4:c=white:r=48000:a=0.3:seed=7", "-c:v", "libx264", "-preset", "veryfast",
                                    "-bf", "3", "-g", "12", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", dir.appendingPathComponent("noise.mp4").path])
        func samples(_ name: String) throws -> [Float] {
            let data = try Fixtures.runData("ffmpeg", ["-v", "error", "-i", dir.appendingPathComponent(name).path, "-map", "0:a", "-f", "f32le", "-ac", "1", "-ar", "48000", "-"])
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        let source = try samples("noise.mp4")
        for start in [2.2, 1.04] {
            let result = try restore(["-o", "noise.mkv", "--start", "\(start)", "--duration", "1", "--in-process", "--overwrite"], farm: false, input: "noise.mp4")
            XCTAssertEqual(result.status, 0, result.stderr)
            let part = try samples("noise.mkv")
            let audioStart = try XCTUnwrap(Double(try Fixtures.run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=start_time",
                                                                               "-of", "csv=p=0", dir.appendingPathComponent("noise.mkv").path])
                .trimmingCharacters(in: .whitespacesAndNewlines)))
            // 0.2 s of the trimmed sound, 0.1 s in; where the picture's start puts it in the source, and where it is.
            let window = Array(part[4800..<14400])
            let expected = Int(((start + audioStart) * 48000).rounded()) + 4800
            var best = (offset: 0, score: -Float.infinity)
            for offset in (expected - 4800)...(expected + 4800) {
                var score: Float = 0
                for i in window.indices { score += window[i] * source[offset + i] }
                if score > best.score { best = (offset, score) }
            }
            XCTAssertLessThanOrEqual(abs(best.offset - expected), 48, "start \(start): the sound is \(Double(best.offset - expected) / 48) ms off its picture")
        }
    }

    /// A trim that cannot be cut is a usage error: exit 64 (EX_USAGE) with a line that says what to give, nothing
    /// written — found from the header, or while decoding when the header does not give the film's length.
    func testBadTrimsAreRefused() throws {
        for (args, message) in [(["--start", "9"], "--start 9.000 s is at or beyond the film's end (it lasts about 4.000 s); choose an earlier time"),
                                (["--start", "1", "--duration", "1", "--frames", "3"], "--duration and --frames both say how much to restore; give one of them"),
                                (["--duration", "soon"], "--duration must be a time such as 12.5, 1:02.5 or 0:01:02.5, got soon"),
                                (["--start", "1:75"], "--start must be a time such as 12.5"),
                                (["--duration", "0"], "--duration must be longer than 0"),
                                (["--frames", "0"], "--frames must be 1 or more")] {
            for farm in [true, false] {
                let result = try restore(["-o", "bad.mkv"] + args + (farm ? [] : ["--in-process"]), farm: farm)
                XCTAssertEqual(result.status, 64, "\(args): \(result.stderr)")
                XCTAssertTrue(result.stderr.contains("error: " + message), "\(args): \(result.stderr)")
                XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.mkv").path))
            }
        }
        // A raw H.264 stream says nothing of its length: --start past its end is found while decoding, and is the same
        // usage error.
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", dir.appendingPathComponent("film.mp4").path, "-map", "0:v", "-c", "copy", "-f", "h264",
                                    dir.appendingPathComponent("raw.h264").path])
        let raw = try Fixtures.runProduct("lumiere-coordinator", ["restore", "raw.h264", "-o", "bad.mkv", "--model", "lanczos", "--scale", "1", "--codec", "ffv1",
                                                                  "--quiet", "--in-process", "--start", "9"], in: dir, timeout: 120)
        XCTAssertEqual(raw.status, 64, raw.stderr)
        XCTAssertTrue(raw.stderr.contains("before the trim's start at frame 225 (9.000 s); choose an earlier --start"), raw.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.mkv").path))
    }
}
