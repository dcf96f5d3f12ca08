import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// Packet cuts are frame-exact: every frame a `SegmentInputReader` gives from a cut hashes the same as that frame of
/// a whole-file `ConstantRateReader` decode, for every codec in the footage and synthetic clips of the rest, at cuts
/// that start on a keyframe, right after one, just before one, mid-GOP, and that end on the film's last frame.
final class SegmentInputCutTests: XCTestCase {
    struct Film {
        var hashes: [FrameHash]
        var rate: Rational
        var start: Rational
        /// `SegmentInputCut.hazard` after the decode: why the coordinator would not cut this source.
        var hazard: String?
    }

    private func wholeDecode(_ path: String) throws -> Film {
        let reader = try ConstantRateReader(path: path)
        var hashes: [FrameHash] = []
        while let frame = try reader.next() { hashes.append(try FrameHash(frame.picture)) }
        return Film(hashes: hashes, rate: reader.rate, start: reader.startTime, hazard: SegmentInputCut.hazard(after: reader))
    }

    /// The cuts every clip is tried at, from its keyframes' slots.
    private func cutPoints(frames n: Int, keyframes: [Int]) -> [Range<Int>] {
        var ranges: [Range<Int>] = [0..<min(n, 7), (n - 1)..<n, max(0, n - 12)..<n, (n / 2)..<(n / 2 + 1)]
        for k in keyframes.filter({ $0 > 0 && $0 < n }).prefix(3) {
            let next = keyframes.first { $0 > k } ?? n
            ranges += [k..<k + 5, (k + 1)..<(k + 9), (k - 1)..<(k + 3), ((k + next) / 2)..<((k + next) / 2 + 10), (k - 3)..<next]
        }
        return Array(Set(ranges.map { max(0, $0.lowerBound)..<min(n, $0.upperBound) }.filter { !$0.isEmpty }))
            .sorted { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) }
    }

    /// Cuts `path` at every cut point in one pass and compares each cut's frames with the whole decode.
    @discardableResult
    private func checkCuts(_ path: String, expectKeyframes: Int = 2, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let film = try wholeDecode(path)
        let source = MediaSource(path: path)
        let index = try PacketIndex.scan(source: source)
        XCTAssertNil(index.refusal, path, file: file, line: line)
        XCTAssertNil(film.hazard, path, file: file, line: line)
        let keyframes = index.keyframeSlots(rate: film.rate, start: film.start)
        XCTAssertGreaterThanOrEqual(keyframes.count, expectKeyframes, "\(path): too few keyframes to cut mid-film", file: file, line: line)
        let directory = try Fixtures.temporaryDirectory("cuts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ranges = cutPoints(frames: film.hashes.count, keyframes: keyframes)
        let targets = ranges.enumerated().map { i, frames in
            SegmentInputCut.Target(file: directory.appendingPathComponent("cut-\(i).nut"), index: index,
                                   packets: index.packets(for: frames, rate: film.rate, start: film.start),
                                   header: .init(rate: film.rate, start: film.start, frames: frames,
                                                 fingerprint: FrameHash.combined(film.hashes[frames])))
        }
        try SegmentInputCut.write(source: source, index: index, targets: targets)
        var shorter = 0
        for target in targets {
            let reader = try SegmentInputReader(path: target.file.path)
            XCTAssertEqual(reader.cut, target.header, file: file, line: line)
            XCTAssertEqual(reader.cut?.keyframeTime != nil, target.packets.lowerBound > 0, file: file, line: line)
            XCTAssertEqual(reader.rate, film.rate, file: file, line: line)
            var got: [FrameHash] = []
            do {
                while let frame = try reader.next() { got.append(try FrameHash(frame.picture)) }
            } catch {
                XCTFail("\(path) frames \(target.header.frames) (packets \(target.packets)): \(error)", file: file, line: line)
                continue
            }
            let want = Array(film.hashes[target.header.frames])
            let wrong = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            XCTAssertTrue(got == want, "\(path) frames \(target.header.frames) (packets \(target.packets)): \(got.count) frames, first differing at \(wrong.map(String.init) ?? "-")",
                          file: file, line: line)
            if target.packets.lowerBound > 0 { shorter += 1 }
        }
        // The cuts really start mid-film (otherwise this would only test whole decodes); a one-GOP clip tests the ends.
        XCTAssertGreaterThan(shorter, keyframes.count > 1 ? 2 : -1, "\(path): no cut started after the first packet", file: file, line: line)
        return ranges.count
    }

    // MARK: real footage, one test per file so a failure names its codec

    func testH264WithBFramesBikes() throws { try checkCuts(try Fixtures.requireFootage("video/bikes.mp4")) }
    func testH264Trailer() throws { try checkCuts(try Fixtures.requireFootage("video/trailer_bbb.mp4")) }
    func testH264CarphonePristine() throws { try checkCuts(try Fixtures.requireFootage("video/carphone_pristine.mp4"), expectKeyframes: 1) }
    func testH264CarphoneDistorted() throws { try checkCuts(try Fixtures.requireFootage("video/carphone_distorted.mp4"), expectKeyframes: 1) }
    /// box.mp4 is not cut: its B-frames carry pts = dts (FFmpeg times them by decode timestamps, which NUT does not
    /// keep: a cut decoded to other times, so other frames were kept) and its second packet is damaged.
    func testH264BoxWithBrokenTimestampsFallsBack() throws {
        let film = try wholeDecode(try Fixtures.requireFootage("video/box.mp4"))
        let hazard = try XCTUnwrap(film.hazard)
        XCTAssertTrue(hazard.contains("damaged") || hazard.contains("decode timestamps"), hazard)
    }
    /// pens.mp4: a phone's variable-rate clip (irregular timestamps normalised to 179/6 fps).
    func testH264PensVariableRate() throws { try checkCuts(try Fixtures.requireFootage("video/pens.mp4"), expectKeyframes: 1) }
    func testMPEG2City() throws { try checkCuts(try Fixtures.requireFootage("video/cityCC0.mpg")) }
    /// VP9 in AVI with hidden alt-ref frames (superframes) and dropped-frame chunks (300 slots from 295 frames).
    func testVP9Balle() throws { try checkCuts(try Fixtures.requireFootage("video/balle1-vp9.avi")) }
    func testTheoraOldFilm() throws { try checkCuts(try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")) }

    // MARK: synthetic clips for the codecs the footage lacks, and harder timing

    private func synthetic(_ name: String, _ codec: [String], seconds: Double = 3, extra: [String] = []) throws -> String {
        let directory = try Fixtures.temporaryDirectory("cut-src")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(name).path
        try Fixtures.syntheticClip(at: path, seconds: seconds, size: "176x144", videoCodec: codec, extra: extra)
        return path
    }

    func testMPEG4PartTwoWithBFrames() throws {
        try checkCuts(try synthetic("asp.mp4", ["-c:v", "mpeg4", "-bf", "2", "-g", "12", "-q:v", "4"]))
    }

    /// MPEG-4 ASP with B-frames in AVI (DivX/Xvid files): AVI has no presentation timestamps, so it is not cut.
    func testMPEG4InAVIHasNoTimestampsAndIsNotCut() throws {
        let path = try synthetic("asp.avi", ["-c:v", "mpeg4", "-bf", "2", "-g", "12", "-q:v", "4"])
        XCTAssertEqual(try PacketIndex.scan(source: MediaSource(path: path)).refusal, "video packet 0 has no timestamp")
    }

    /// Cuts or lossless inputs: the bytes decide, with a cap on the packets decoded per frame. The head-node benchmark's
    /// case (x264's keyframe every 250 frames, 2-second segments, 1080p: 993 packets, about 17 MB, for 289 frames) used
    /// to go lossless by the old "3 packets per frame" rule, writing 122 MB of FFV1; it is cut now.
    func testCutsGoLosslessOnlyWhenTheyCostMore() {
        let hd = 1920 * 1080
        XCTAssertNil(SegmentInputCut.lossless(packets: 993, bytes: 17_000_000, frames: 289, pixelsPerFrame: hd))
        XCTAssertNil(SegmentInputCut.lossless(packets: 289, bytes: 5_000_000, frames: 289, pixelsPerFrame: hd))
        // More bytes than lossless inputs would take (0.2 bytes per pixel: 120 MB here).
        let heavy = SegmentInputCut.lossless(packets: 900, bytes: 130_000_000, frames: 289, pixelsPerFrame: hd)
        XCTAssertTrue(heavy?.contains("more than lossless inputs") == true, "\(String(describing: heavy))")
        // One keyframe for the whole film: the cuts grow with it, and the decoding alone rules them out.
        let far = SegmentInputCut.lossless(packets: 17 * 289, bytes: 1_000_000, frames: 289, pixelsPerFrame: hd)
        XCTAssertTrue(far?.contains("keyframes are too far apart") == true, "\(String(describing: far))")
        // A stream that does not say its size is not cut on a guess.
        XCTAssertNotNil(SegmentInputCut.lossless(packets: 289, bytes: 1, frames: 289, pixelsPerFrame: 0))
    }

    func testPacketSizesAddUpToTheStream() throws {
        let path = try synthetic("sizes.mp4", ["-c:v", "mpeg4", "-bf", "2", "-g", "12", "-q:v", "4"])
        let index = try PacketIndex.scan(source: MediaSource(path: path))
        let probed = try Fixtures.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size", "-of", "csv=p=0", path])
        let total = probed.split(separator: "\n").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }.reduce(0, +)
        XCTAssertGreaterThan(total, 0)
        XCTAssertEqual(index.bytes(0..<index.count), total)
    }

    func testMJPEGEveryFrameAKeyframe() throws {
        try checkCuts(try synthetic("mjpeg.avi", ["-c:v", "mjpeg", "-q:v", "5"]), expectKeyframes: 50)
    }

    /// H.264 open GOPs: cut at x264's open-GOP I-frames, FFmpeg's decoder gave other pictures for the frames after
    /// them (5 of 5 frames differed at each of 3 cuts, with the leading B-frames dropped), so H.264 cuts start only at
    /// IDR frames: here the first packet, and the cuts are exact whole decodes up to their end (the coordinator then
    /// finds them too long and writes lossless inputs).
    func testH264OpenGOP() throws {
        let path = try synthetic("open.mkv", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "3",
                                              "-x264-params", "keyint=15:min-keyint=15:open-gop=1:scenecut=0"])
        let film = try wholeDecode(path)
        XCTAssertEqual(try PacketIndex.scan(source: MediaSource(path: path)).keyframeSlots(rate: film.rate, start: film.start), [0])
        try checkCuts(path, expectKeyframes: 1)
    }

    /// Open GOPs in MPEG-4 ASP and MPEG-2 are cut at their I-frames (the leading B-frames are dropped).
    func testOpenGOPKeyframesAreUsedForMPEG2AndMPEG4() throws {
        for (name, codec) in [("open.ts", "mpeg2video"), ("asp.mp4", "mpeg4")] {
            let path = try synthetic(name, ["-c:v", codec, "-bf", "2", "-g", "12", "-q:v", "4"])
            let film = try wholeDecode(path)
            XCTAssertEqual(try PacketIndex.scan(source: MediaSource(path: path)).keyframeSlots(rate: film.rate, start: film.start).count, 7, name)
        }
    }

    func testMPEG2OpenGOPInTransportStream() throws {
        try checkCuts(try synthetic("open.ts", ["-c:v", "mpeg2video", "-bf", "2", "-g", "12", "-q:v", "4"]))
    }

    /// Variable rate with gaps (repeated frames) and bursts (frames sharing a slot: all but the last dropped), in MP4.
    /// (With B-frames, x264 + MP4 gave 5 frames timed by decode timestamps: not cut, see `SegmentInputCut.hazard`.)
    func testVariableRateGapsAndBursts() throws {
        let path = try synthetic("vfr.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "0", "-g", "20"], seconds: 4,
                                 extra: ["-vf", "setpts='(N+floor(N/9)*1.6-if(eq(mod(N,13),7),0.7,0))/(25*TB)'", "-vsync", "passthrough",
                                         "-video_track_timescale", "90000"])
        let film = try wholeDecode(path)
        let decoded = try Fixtures.probe(path, stream: "v:0")["nb_read_frames"].flatMap(Int.init) ?? 0
        XCTAssertNotEqual(film.hashes.count, decoded, "the clip is meant to be variable-rate (repeats and drops)")
        try checkCuts(path)
    }

    // MARK: the header and the reader's checks

    /// A lossless (FFV1) input is read as before: every frame, its own rate.
    func testLosslessInputIsReadWhole() throws {
        let path = try synthetic("lossless.mkv", ["-c:v", "ffv1"], seconds: 1)
        let reader = try SegmentInputReader(path: path)
        XCTAssertNil(reader.cut)
        var frames = 0
        while try reader.next() != nil { frames += 1 }
        XCTAssertEqual(frames, 25)
        XCTAssertEqual(reader.rate, Rational(25))
    }

    /// A cut whose fingerprint is not its frames' fails, naming the segment input: never other frames in silence.
    func testWrongFingerprintIsRefused() throws {
        let path = try Fixtures.requireFootage("video/bikes.mp4")
        let film = try wholeDecode(path)
        let index = try PacketIndex.scan(source: MediaSource(path: path))
        let directory = try Fixtures.temporaryDirectory("cuts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let frames = 40..<50
        let file = directory.appendingPathComponent("wrong.nut")
        try SegmentInputCut.write(source: MediaSource(path: path), index: index, targets: [.init(
            file: file, index: index, packets: index.packets(for: frames, rate: film.rate, start: film.start),
            header: .init(rate: film.rate, start: film.start, frames: frames, fingerprint: FrameHash.combined(film.hashes[41..<51])))])
        let reader = try SegmentInputReader(path: file.path)
        XCTAssertThrowsError(try { while try reader.next() != nil {} }()) { error in
            guard case SegmentCutError.framesDiffer = error else { return XCTFail("\(error)") }
        }
    }

    /// The cut is the source's packets: a segment of a few frames is a small share of the file, not a decode.
    func testCutIsSmallAndStartsAtAKeyframe() throws {
        let path = try Fixtures.requireFootage("video/trailer_bbb.mp4")
        let film = try wholeDecode(path)
        let index = try PacketIndex.scan(source: MediaSource(path: path))
        let keyframes = index.keyframeSlots(rate: film.rate, start: film.start)
        let k = try XCTUnwrap(keyframes.first { $0 > 600 })
        let packets = index.packets(for: k..<(k + 24), rate: film.rate, start: film.start)
        XCTAssertLessThan(packets.count, 24 + 40, "from its keyframe through one more GOP at most")
        let before = index.packets(for: (k - 1)..<(k + 24), rate: film.rate, start: film.start)
        XCTAssertLessThan(before.lowerBound, packets.lowerBound, "one frame earlier needs the previous keyframe")
    }

    func testCodecsNotProvenAreRefused() throws {
        let path = try synthetic("mpeg1.mpg", ["-c:v", "mpeg1video"], seconds: 1)
        let refusal = try PacketIndex.scan(source: MediaSource(path: path)).refusal
        XCTAssertEqual(refusal, "mpeg1video is not among the codecs proven to decode cuts exactly")
    }
}
