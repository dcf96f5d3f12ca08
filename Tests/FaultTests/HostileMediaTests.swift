import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// Media crafted to hurt (issue 8): pictures claiming 65535x65535 in three containers, timestamps that run
/// backwards or jump hours. `restore` must stop with one clear sentence, leave nothing at the output path,
/// and not allocate the gigabytes the headers claim.
final class HostileMediaTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("hostile-media") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    private func expectCleanFailure(_ input: URL, file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let output = dir.appendingPathComponent("out/result.mp4")
        try? FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        var caught: Error?
        do {
            try RestorePipeline(settings: RestoreSettings(input: input.path, output: output.path, geometry: .scale(2), processor: "lanczos",
                                                          encoding: VideoEncoding(preset: "ultrafast"), quiet: true), warn: { _ in }).run()
            XCTFail("restore of \(input.lastPathComponent) should fail", file: file, line: line)
        } catch {
            caught = error
            let text = "\(error)"
            XCTAssertFalse(text.isEmpty, file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "one sentence: \(text)", file: file, line: line)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output.deletingLastPathComponent().path), [],
                       "no output and no temporary file left", file: file, line: line)
        return caught
    }

    /// Each test runs in a child process of its own and fails when its work adds 1 GiB to the peak (the headers
    /// claim 65535x65535: 12 GiB as RGB floats).
    private func measured(function: String = #function) throws -> Bool {
        try MeasuredChild.measure(self, module: "FaultTests", function: function, limitKiB: 1 << 20)
    }

    func testY4MClaiming65535x65535() throws {
        if try measured() { return }
        let url = dir.appendingPathComponent("huge.y4m")
        var data = Data("YUV4MPEG2 W65535 H65535 F25:1 Ip A1:1 C420jpeg\nFRAME\n".utf8)
        data.append(Data(count: 4096))
        try data.write(to: url)
        expectCleanFailure(url)
    }

    func testIVFClaiming65535x65535() throws {
        if try measured() { return }
        let small = dir.appendingPathComponent("small.ivf")
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=1",
                                    "-c:v", "libvpx", "-b:v", "200k", small.path])
        var bytes = Array(try Data(contentsOf: small))
        XCTAssertEqual(Array(bytes.prefix(4)), Array("DKIF".utf8))
        bytes[12] = 0xFF; bytes[13] = 0xFF; bytes[14] = 0xFF; bytes[15] = 0xFF // IVF header width, height
        if let start = Self.find([0x9D, 0x01, 0x2A], in: bytes, from: 32) { // the VP8 key frame's own 14-bit size
            for k in 3..<7 { bytes[start + k] = k % 2 == 1 ? 0xFF : 0x3F }
        }
        let url = dir.appendingPathComponent("huge.ivf")
        try Data(bytes).write(to: url)
        expectCleanFailure(url)
    }

    func testMP4SampleEntryAndTrackHeaderClaiming65535x65535() throws {
        let source = try Fixtures.requireFootage("video/pens.mp4") // in the parent: a skip there, not a failed child
        if try measured() { return }
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: source)))
        let avc1 = try XCTUnwrap(Self.find(Array("avc1".utf8), in: bytes, from: 0))
        for k in 0..<4 { bytes[avc1 + 28 + k] = 0xFF } // VisualSampleEntry width, height (16-bit each)
        let tkhd = try XCTUnwrap(Self.find(Array("tkhd".utf8), in: bytes, from: 0))
        let width = tkhd + 8 + (bytes[tkhd + 4] == 0 ? 20 : 32) + 16 + 36 // 16.16 fixed width, then height
        for k in 0..<2 { bytes[width + k] = 0xFF; bytes[width + 4 + k] = 0xFF }
        let url = dir.appendingPathComponent("huge.mp4")
        try Data(bytes).write(to: url)
        // FFmpeg takes the size from the H.264 parameter sets, not from these boxes: the one right outcome is a
        // normal restore at the real size (a refusal would fail this test, as would a crash or an allocation sized
        // by the forged boxes).
        let output = dir.appendingPathComponent("forged-boxes.mp4")
        try RestorePipeline(settings: RestoreSettings(input: url.path, output: output.path, geometry: .scale(2), processor: "lanczos",
                                                      encoding: VideoEncoding(preset: "ultrafast"), quiet: true), warn: { _ in }).run()
        let probe = try Fixtures.probe(output.path, stream: "v:0")
        XCTAssertEqual(probe["width"], "352", "the real picture size, doubled")
    }

    /// Timestamps that stop advancing (here: all 0 after frame 30) are refused instead of dropping the frames.
    func testTimestampsRunningBackwards() throws {
        if try measured() { return }
        let film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let url = dir.appendingPathComponent("backwards.mkv")
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", film, "-t", "4", "-c:v", "copy", "-an",
                                    "-bsf:v", "setts=ts=if(gte(N\\,30)\\,0\\,TS)", url.path])
        expectCleanFailure(url)
    }

    /// A 3-hour jump after frame 30 is refused instead of being filled with 162,000 copies of one frame.
    func testThreeHourTimestampGap() throws {
        if try measured() { return }
        let film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let url = dir.appendingPathComponent("gap.mkv")
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-i", film, "-t", "4", "-c:v", "copy", "-an",
                                    "-bsf:v", "setts=ts=if(gte(N\\,30)\\,TS+10800000\\,TS)", url.path])
        expectCleanFailure(url)
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        return (start...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
