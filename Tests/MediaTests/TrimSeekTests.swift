import Media
import Shared
import TestSupport
import XCTest

/// Issue 19: a trim (`restore --start`, `compare --at`) seeks to the keyframe before its first frame instead of
/// decoding the film up to it — and still presents exactly the frames a decode from the start gives, per-frame hash
/// for hash, on streams whose keyframes show later than they decode (H.264 with B-frames), on a film whose clock
/// does not start at 0, and on open GOPs (MPEG-2: pictures after a keyframe in decode order that show before it).
final class TrimSeekTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("trim-seek") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// 5 s at 25 fps, every frame different (testsrc2 counts), keyframes every 24 frames.
    private func clip(_ name: String, codec: [String], extra: [String] = []) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Fixtures.syntheticClip(at: path, seconds: 5, size: "96x64", videoCodec: codec, extra: extra)
        return path
    }

    private func hashes(_ path: String, trim: MediaSource.Trim? = nil) throws -> (hashes: [FrameHash], decoded: Int, rate: Rational) {
        let reader = try ConstantRateReader(source: MediaSource(path: path, trim: trim), threads: 1)
        var out: [FrameHash] = []
        while let frame = try reader.next() { out.append(try FrameHash(frame.picture)) }
        return (out, reader.framesDecoded, reader.rate)
    }

    func testASeekingTrimGivesTheFramesOfADecodeFromTheStart() throws {
        let bFrames = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-g", "24", "-keyint_min", "24", "-sc_threshold", "0", "-pix_fmt", "yuv420p"]
        let clips = [
            try clip("bframes.mp4", codec: bFrames),
            try clip("offset.mkv", codec: bFrames, extra: ["-output_ts_offset", "3.7"]),
            try clip("opengop.mpg", codec: ["-c:v", "mpeg2video", "-g", "12", "-bf", "2", "-q:v", "4"]),
        ]
        for path in clips {
            let name = URL(fileURLWithPath: path).lastPathComponent
            let whole = try hashes(path)
            XCTAssertEqual(whole.hashes.count, 125, name)
            XCTAssertEqual(Set(whole.hashes).count, 125, "\(name): every frame differs, so a frame off by one shows")
            for first in [1, 11, 12, 13, 24, 25, 47, 60, 99, 121] {
                let trim = MediaSource.Trim(first: Int64(first), count: 4, rate: whole.rate)
                let part = try hashes(path, trim: trim)
                XCTAssertEqual(part.hashes, Array(whole.hashes[first..<min(125, first + 4)]), "\(name) from frame \(first)")
                if first >= 60 {
                    // Decoded from the start it would be first + 4 pictures; from the keyframe before it, at most two GOPs and the film's first.
                    XCTAssertLessThan(part.decoded, first, "\(name) from frame \(first): it seeks rather than decoding the film up to it")
                }
            }
            // To the end, from a frame in the middle: the rest of the film, and its length is checked as before.
            let rest = try hashes(path, trim: MediaSource.Trim(first: 70, count: nil, rate: whole.rate))
            XCTAssertEqual(rest.hashes, Array(whole.hashes[70...]), name)
            // Past the end: a typed error saying where the film ends (a usage error for the command line).
            XCTAssertThrowsError(try hashes(path, trim: MediaSource.Trim(first: 400, count: 2, rate: whole.rate)), name) { error in
                guard case .trimBeyondEnd(let frames, _, let first, _)? = error as? MediaError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(first, 400)
                XCTAssertLessThanOrEqual(frames, 125)
            }
        }
    }
}
