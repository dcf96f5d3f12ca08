import Coordinator
import Foundation
import Media
import Processors
import Shared
import TestSupport
import XCTest

/// Every bad input exits with one clear sentence and leaves nothing at the output path (nor a temporary file).
final class BadRestoreInputTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("bad-input") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Runs restore, expects a failure, checks that the output directory holds only what was there before.
    private func expectFailure(input: String, geometry: OutputGeometry.Request = .scale(2), file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let output = dir.appendingPathComponent("result.mp4").path
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
        var caught: Error?
        do {
            try RestorePipeline(settings: RestoreSettings(input: input, output: output, geometry: geometry, processor: "lanczos",
                                                          encoding: VideoEncoding(preset: "ultrafast"), quiet: true), warn: { _ in }).run()
            XCTFail("restore of \(input) should fail", file: file, line: line)
        } catch {
            caught = error
            let message = "\(error)"
            XCTAssertFalse(message.isEmpty, file: file, line: line)
            XCTAssertFalse(message.contains("\n"), "one sentence: \(message)", file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "no output left behind", file: file, line: line)
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
        XCTAssertEqual(after, before, "no temporary file left behind", file: file, line: line)
        return caught
    }

    func testMissingFile() {
        let error = expectFailure(input: dir.appendingPathComponent("missing.mp4").path)
        guard case .fileNotFound? = error as? MediaError else { return XCTFail("\(String(describing: error))") }
    }

    func testZeroByteFile() {
        let path = dir.appendingPathComponent("zero.mp4").path
        FileManager.default.createFile(atPath: path, contents: Data())
        guard case .emptyFile? = expectFailure(input: path) as? MediaError else { return XCTFail() }
    }

    func testTextFileNamedMP4() throws {
        let path = dir.appendingPathComponent("text.mp4").path
        try String(repeating: "not a film at all\n", count: 200).write(toFile: path, atomically: true, encoding: .utf8)
        guard case .notAMediaFile? = expectFailure(input: path) as? MediaError else { return XCTFail() }
    }

    func testTruncatedMP4() throws {
        for name in ["bikes.mp4", "pens.mp4"] {
            let source = try Fixtures.requireFootage("video/\(name)")
            let data = try Data(contentsOf: URL(fileURLWithPath: source))
            let path = dir.appendingPathComponent("half-\(name)").path
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
            switch expectFailure(input: path) as? MediaError {
            case .truncated?, .notAMediaFile?: break
            case let other: XCTFail("\(name): \(String(describing: other))")
            }
        }
    }

    func testNoVideoStream() throws {
        let path = dir.appendingPathComponent("sound.mka").path
        try Fixtures.run("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "flac", path])
        guard case .noVideoStream? = expectFailure(input: path) as? MediaError else { return XCTFail() }
    }

    func testAbsurdSizeRequested() throws {
        let film = try Fixtures.requireFootage("oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv")
        let error = expectFailure(input: film, geometry: .size(PixelSize(width: 100_000, height: 100_000), pad: true))
        XCTAssertEqual(error as? OutputGeometry.GeometryError, .tooLarge(PixelSize(width: 100_000, height: 100_000)))
    }

    /// The command-line tool itself: non-zero exit and one line on stderr.
    func testCommandLineExitsNonZeroWithOneLine() throws {
        let binary = Fixtures.productsDirectory.appendingPathComponent("lumiere-coordinator").path
        try Fixtures.require(FileManager.default.fileExists(atPath: binary), "binary not built at \(binary)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["restore", dir.appendingPathComponent("missing.mp4").path, "-o", dir.appendingPathComponent("x.mp4").path]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertEqual(text.split(separator: "\n").count, 1, text)
        XCTAssertTrue(text.hasPrefix("error: Input file not found"), text)
    }
}
