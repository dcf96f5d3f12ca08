import Media
import Shared
import TestSupport
import XCTest

final class BadInputTests: XCTestCase {
    func testMissingEmptyAndNonMediaFilesGiveClearErrors() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try MediaInput(path: dir.appendingPathComponent("nope.mp4").path)) {
            XCTAssertEqual($0 as? MediaError, .fileNotFound(path: dir.appendingPathComponent("nope.mp4").path))
        }
        let empty = dir.appendingPathComponent("empty.mp4").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        XCTAssertThrowsError(try MediaInput(path: empty)) { XCTAssertEqual($0 as? MediaError, .emptyFile(path: empty)) }
        let text = dir.appendingPathComponent("notes.mp4").path
        try "These are my notes, not a film.\n".write(toFile: text, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try MediaInput(path: text)) { error in
            guard case .notAMediaFile = error as? MediaError else { return XCTFail("\(error)") }
        }
    }

    func testAudioOnlyFileHasNoVideoStream() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("voice.m4a").path
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", path])
        XCTAssertThrowsError(try ConstantRateReader(path: path)) { XCTAssertEqual($0 as? MediaError, .noVideoStream(path: path)) }
    }

    func testTruncatedMP4IsDetected() throws {
        let pens = try Fixtures.requireFootage("video/bikes.mp4")
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Data(contentsOf: URL(fileURLWithPath: pens))
        let cut = dir.appendingPathComponent("half.mp4").path
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try {
            let reader = try ConstantRateReader(path: cut)
            while try reader.next() != nil {}
        }()) { error in
            switch error as? MediaError {
            case .truncated?, .notAMediaFile?: break
            default: XCTFail("unexpected \(error)")
            }
        }
    }

    /// With the index at the front (faststart), a cut file opens but ends early: the declared count catches it.
    func testTruncatedFaststartMP4IsDetected() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = dir.appendingPathComponent("whole.mp4").path
        try Fixtures.syntheticClip(at: whole, seconds: 4, size: "320x240", extra: ["-movflags", "+faststart"])
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let cut = dir.appendingPathComponent("half.mp4").path
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let reader = try ConstantRateReader(path: cut)
        XCTAssertThrowsError(try { while try reader.next() != nil {} }()) { error in
            guard case .truncated? = error as? MediaError else { return XCTFail("unexpected \(error)") }
        }
    }

    func testAbsurdDimensionsAreRefused() throws {
        XCTAssertThrowsError(try VideoPicture(pixelFormat: "yuv420p", width: 100_000, height: 100_000, color: .defaultFor(height: 1080)))
    }
}
