import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// End-to-end `restore` on real footage: sizes, frame counts, audio.
final class RestoreTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("restore") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func restore(_ input: String, _ name: String, _ geometry: OutputGeometry.Request) throws -> String {
        let output = dir.appendingPathComponent(name).path
        let settings = RestoreSettings(input: input, output: output, geometry: geometry, processor: "lanczos",
                                       encoding: VideoEncoding(codec: .h264, crf: 18, preset: "ultrafast"), quiet: true)
        try RestorePipeline(settings: settings, warn: { _ in }).run()
        return output
    }

    func testPensAtScale2KeepsEveryFrameAndTheAudio() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let out = try restore(pens, "pens-x2.mp4", .scale(2))
        let video = try Fixtures.probe(out, stream: "v:0")
        XCTAssertEqual(video["width"], "352")
        XCTAssertEqual(video["height"], "288")
        XCTAssertEqual(video["nb_read_frames"], "64")
        let rotation = try Fixtures.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream_side_data=rotation", "-of", "csv=p=0", out])
        XCTAssertEqual(rotation.trimmingCharacters(in: .whitespacesAndNewlines), "-90", "the phone's portrait rotation is kept")
        let audio = try Fixtures.probe(out, stream: "a:0")
        XCTAssertEqual(audio["codec_name"], "aac", "audio copied unchanged")
        let sourceAudio = try Fixtures.probe(pens, stream: "a:0")
        let sourceVideo = try Fixtures.probe(pens, stream: "v:0")
        let outAudioDuration = try XCTUnwrap(Double(audio["duration"] ?? ""))
        let outVideoDuration = try XCTUnwrap(Double(video["duration"] ?? ""))
        let frame = 6.0 / 179.0
        // Copied audio is exactly as long as the source's, starts at the same time as before.
        XCTAssertEqual(outAudioDuration, Double(sourceAudio["duration"]!)!, accuracy: 1024.0 / 48000.0)
        XCTAssertEqual(Double(audio["start_time"]!)!, Double(sourceAudio["start_time"]!)!, accuracy: 0.001)
        // The source itself ends its audio 54 ms (1.6 frames) before its video; the output keeps that gap and adds
        // no more than one frame to it.
        let sourceGap = abs(Double(sourceVideo["duration"]!)! - Double(sourceAudio["duration"]!)!)
        XCTAssertLessThanOrEqual(abs(outVideoDuration - outAudioDuration), sourceGap + frame)
    }

    func testBikesAtScale2() throws {
        let bikes = try Fixtures.requireFootage("video/bikes.mp4")
        let out = try restore(bikes, "bikes-x2.mkv", .scale(2))
        let video = try Fixtures.probe(out, stream: "v:0")
        XCTAssertEqual(video["width"], "1280")
        XCTAssertEqual(video["height"], "544")
        XCTAssertEqual(video["nb_read_frames"], "250")
        XCTAssertEqual(video["r_frame_rate"], "25/1")
    }

    func testThe1906FilmAtScale4AndAtExactUHD() throws {
        let film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let x4 = try Fixtures.probe(try restore(film, "calais-x4.mp4", .scale(4)), stream: "v:0")
        XCTAssertEqual(x4["width"], "856")
        XCTAssertEqual(x4["height"], "640")
        XCTAssertEqual(x4["nb_read_frames"], "288")
        XCTAssertEqual(x4["r_frame_rate"], "15/1")

        let uhdPath = try restore(film, "calais-uhd.mp4", .size(PixelSize(width: 3840, height: 2160), pad: true))
        let uhd = try Fixtures.probe(uhdPath, stream: "v:0")
        XCTAssertEqual(uhd["width"], "3840")
        XCTAssertEqual(uhd["height"], "2160")
        XCTAssertEqual(uhd["nb_read_frames"], "288")
        // Aspect kept: 214:160 → a 2890x2160 picture (2889 rounded to even) centred with black bars (pillarbox).
        let geometry = try OutputGeometry(source: PixelSize(width: 214, height: 160), request: .size(PixelSize(width: 3840, height: 2160), pad: true))
        XCTAssertEqual(geometry.content, PixelSize(width: 2890, height: 2160))
        XCTAssertEqual(Double(geometry.content.width) / Double(geometry.content.height), 214.0 / 160.0, accuracy: 0.001)
        // Check the bars in the real output: left edge black, centre not.
        let reader = try ConstantRateReader(path: uhdPath)
        for _ in 0..<100 { _ = try reader.next() }
        let rgb = try PixelConverter().rgbImage(from: try XCTUnwrap(try reader.next()).picture)
        XCTAssertLessThan(rgb[0, 1080, 100], 0.03)
        XCTAssertLessThan(rgb[0, 1080, 3740], 0.03)
        var centre: Float = 0
        for x in 1800..<2040 { centre += rgb[0, 1080, x] }
        XCTAssertGreaterThan(centre / 240, 0.05)
    }

    func testGeometryRules() throws {
        XCTAssertEqual(try OutputGeometry(source: PixelSize(width: 176, height: 144), request: .scale(2)).canvas, PixelSize(width: 352, height: 288))
        let fitted = try OutputGeometry(source: PixelSize(width: 214, height: 160), request: .size(PixelSize(width: 3840, height: 2160), pad: false))
        XCTAssertEqual(fitted.canvas, fitted.content)
        XCTAssertThrowsError(try OutputGeometry(source: PixelSize(width: 214, height: 160), request: .size(PixelSize(width: 100_000, height: 100_000), pad: true)))
        XCTAssertThrowsError(try OutputGeometry(source: PixelSize(width: 214, height: 160), request: .scale(0)))
        // Anamorphic source (pixel aspect 4:3) is widened to square pixels.
        XCTAssertEqual(try OutputGeometry(source: PixelSize(width: 720, height: 576), sampleAspect: Rational(16, 15), request: .scale(1)).content,
                       PixelSize(width: 768, height: 576))
    }

    /// A source whose audio the output container cannot hold (Vorbis into MP4) is re-encoded to AAC, with a warning;
    /// MKV keeps it unchanged, together with subtitles.
    func testAudioIsReencodedOnlyWhenTheContainerNeedsIt() throws {
        let source = dir.appendingPathComponent("vorbis.mkv").path
        let srt = dir.appendingPathComponent("subs.srt").path
        try "1\n00:00:00,000 --> 00:00:01,000\nArrival of a train\n".write(toFile: srt, atomically: true, encoding: .utf8)
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=24:duration=2",
                                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2", "-i", srt,
                                    "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                                    "-c:a", "libvorbis", "-c:s", "srt", source])
        var warnings: [String] = []
        let mp4 = dir.appendingPathComponent("out.mp4").path
        try RestorePipeline(settings: RestoreSettings(input: source, output: mp4, geometry: .scale(1), processor: "lanczos",
                                                      encoding: VideoEncoding(preset: "ultrafast"), quiet: true),
                            warn: { warnings.append($0) }).run()
        XCTAssertEqual(try Fixtures.probe(mp4, stream: "a:0")["codec_name"], "aac")
        XCTAssertTrue(warnings.contains { $0.contains("AAC") }, "\(warnings)")
        let audioSeconds = try XCTUnwrap(Double(try Fixtures.probe(mp4, stream: "a:0")["duration"] ?? ""))
        XCTAssertEqual(audioSeconds, 2.0, accuracy: 0.05)

        let mkv = dir.appendingPathComponent("out.mkv").path
        try RestorePipeline(settings: RestoreSettings(input: source, output: mkv, geometry: .scale(1), processor: "lanczos",
                                                      encoding: VideoEncoding(preset: "ultrafast"), quiet: true), warn: { _ in }).run()
        XCTAssertEqual(try Fixtures.probe(mkv, stream: "a:0")["codec_name"], "vorbis")
        XCTAssertEqual(try Fixtures.probe(mkv, stream: "s:0")["codec_name"], "subrip")
        XCTAssertEqual(try Fixtures.probe(mkv, stream: "v:0")["nb_read_frames"], "48")
    }
}
