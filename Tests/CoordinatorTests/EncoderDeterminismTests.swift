import Foundation
import TestSupport
import XCTest

/// An H.264 film does not depend on what the worker processes' memory held before (x264's macroblock tree read
/// memory it never wrote; `VideoEncoder` turns it off). glibc's MALLOC_PERTURB_ fills every allocation with a
/// different byte in each run, so two runs with different values differ wherever an encoder reads such memory: with
/// the tree on, pens.mp4 in 3 segments on one worker gave two different films for 17 and 99.
final class EncoderDeterminismTests: XCTestCase {
    func testAnH264FilmIsTheSameWhateverTheHeapHeld() throws {
        let pens = try Fixtures.requireFootage("video/pens.mp4")
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func film(_ name: String, perturb: String) throws -> Data {
            let output = dir.appendingPathComponent(name).path
            let result = try Fixtures.runProduct("lumiere-coordinator", [
                "restore", pens, "-o", output, "--model", "lanczos", "--scale", "2", "--codec", "h264", "--crf", "18",
                "--workers", "1", "--worker-threads", "1", "--segment-seconds", "1", "--quiet",
            ], in: dir, timeout: 300, environment: ["MALLOC_PERTURB_": perturb])
            XCTAssertEqual(result.status, 0, result.stderr)
            return try Data(contentsOf: URL(fileURLWithPath: output))
        }
        let first = try film("a.mp4", perturb: "17")
        let second = try film("b.mp4", perturb: "99")
        XCTAssertFalse(first.isEmpty)
        XCTAssertEqual(first, second, "the same job made different bytes when the workers' heap held other bytes")
    }
}
