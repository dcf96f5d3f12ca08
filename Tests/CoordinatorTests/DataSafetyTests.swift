import Coordinator
import Foundation
import Media
import Planning
import Shared
import TestSupport
import XCTest

/// Issue 13, "Lumière must never delete a user's file": every case the archivist reproduced, run through the real
/// CLI on throw-away folders inside the test's own temporary directory (nothing outside it is ever at risk).
final class DataSafetyTests: XCTestCase {
    private var dir: URL!
    private var film: URL!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory("data-safety")
        let source = try Fixtures.requireFootage("video/carphone_pristine.mp4")
        film = dir.appendingPathComponent("film.mp4")
        try Fixtures.run("ffmpeg", ["-v", "error", "-i", source, "-t", "0.5", "-c", "copy", film.path])
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func restore(_ args: [String], in folder: URL? = nil) throws -> Fixtures.CommandResult {
        try Fixtures.runProduct("lumiere-coordinator", ["restore"] + args + ["--model", "lanczos", "--preset", "ultrafast", "--quiet"],
                                in: folder ?? dir)
    }

    /// Case 1: `--job-dir .` in the folder that holds the film and the user's files. Before: the whole folder was
    /// deleted after success. Now: refused before any work, every file intact.
    func testJobDirectoryOnTheWorkingFolderIsRefusedAndNothingIsDeleted() throws {
        try Data("my notes".utf8).write(to: dir.appendingPathComponent("precious.txt"))
        let before = Fixtures.tree(dir)
        let result = try restore(["film.mp4", "-o", "film-2x.mp4", "--job-dir", "."])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssert(result.stderr.contains("will not use") && result.stderr.contains("working folder"), result.stderr)
        XCTAssertEqual(Fixtures.tree(dir), before, "nothing created, nothing deleted")
    }

    /// Case 1: a folder of the user's (not holding the film) with files in it, `results/` among them: refused.
    func testNonEmptyFolderThatIsNotAJobIsRefused() throws {
        let mine = dir.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: mine.appendingPathComponent("results"), withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: mine.appendingPathComponent("results/notes.txt"))
        let before = Fixtures.tree(dir)
        let result = try restore(["film.mp4", "-o", "out.mp4", "--job-dir", "mine"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssert(result.stderr.contains("not a Lumière job directory"), result.stderr)
        XCTAssertEqual(Fixtures.tree(dir), before)
    }

    /// Case 1: `--job-dir SOMETHING/..` that resolves to a folder holding the film, and the root and home folders.
    func testJobDirectoryThatResolvesToAProtectedFolderIsRefused() throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let before = Fixtures.tree(dir)
        let result = try restore(["film.mp4", "-o", "out/x.mp4", "--job-dir", "sub/.."])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(Fixtures.tree(dir), before)
        // The root and the home folder: checked without running a job, so nothing there is ever at risk.
        let output = dir.appendingPathComponent("out.mp4")
        for path in ["/", "/tmp/..", NSHomeDirectory(), dir.appendingPathComponent("film.mp4").path + "/.."] {
            XCTAssertThrowsError(try JobLocation.check(URL(fileURLWithPath: path), input: film.path, output: output), path) {
                guard case .unsafeJobDirectory? = $0 as? PlanningError else { return XCTFail("\($0)") }
            }
        }
        XCTAssertNoThrow(try JobLocation.check(dir.appendingPathComponent("job"), input: film.path, output: output))
    }

    /// Case 2: `-o out/film.mp4` where that is a folder: before, the folder and its contents were deleted.
    func testOutputThatIsAFolderIsRefused() throws {
        let folder = dir.appendingPathComponent("out/film.mp4")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: folder.appendingPathComponent("inside.txt"))
        let before = Fixtures.tree(dir)
        for extra in [[], ["--in-process"]] {
            let result = try restore(["film.mp4", "-o", "out/film.mp4"] + extra)
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssert(result.stderr.contains("is a folder"), result.stderr)
            XCTAssertEqual(Fixtures.tree(dir), before)
        }
    }

    /// Case 3: `-o out/x.mp4 --job-dir out/x.mp4`: before, "wrote out/x.mp4" and no file existed.
    func testOutputInsideOrEqualToTheJobDirectoryIsRefused() throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        let before = Fixtures.tree(dir)
        for job in ["out/x.mp4", "out"] {
            let result = try restore(["film.mp4", "-o", "out/x.mp4", "--job-dir", job])
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertEqual(Fixtures.tree(dir), before, job)
        }
    }

    /// An empty folder the user made is used and left in place, empty; a job directory Lumière made is removed
    /// after success, except for files the user put in it, which stay.
    func testCleanUpRemovesOnlyWhatTheJobWrote() throws {
        let empty = dir.appendingPathComponent("empty-job")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        var result = try restore(["film.mp4", "-o", "a.mp4", "--job-dir", "empty-job"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssert(FileManager.default.fileExists(atPath: dir.appendingPathComponent("a.mp4").path))
        XCTAssertEqual(Fixtures.tree(empty), [], "the user's empty folder is left, empty")

        // A kept job, then a user file in it (top level and in results/), then the same command without --keep-job.
        result = try restore(["film.mp4", "-o", "b.mp4", "--keep-job"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let job = dir.appendingPathComponent("b.mp4.lumiere-job")
        XCTAssert(FileManager.default.fileExists(atPath: job.appendingPathComponent(JobManifest.fileName).path))
        try Data("mine".utf8).write(to: job.appendingPathComponent("notes.txt"))
        try Data("mine".utf8).write(to: job.appendingPathComponent("results/my-copy.mkv"))
        // b.mp4 exists from the kept run: the same command is refused (issue 19) and touches nothing ...
        let kept = Fixtures.tree(dir)
        result = try restore(["film.mp4", "-o", "b.mp4"])
        XCTAssertEqual(result.status, 64, result.stderr)
        XCTAssertEqual(Fixtures.tree(dir), kept)
        // ... and with --overwrite it replaces the film and cleans up.
        result = try restore(["film.mp4", "-o", "b.mp4", "--overwrite"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(Fixtures.tree(job), ["notes.txt", "results", "results/my-copy.mkv"])
        XCTAssert(result.stderr.contains("not Lumière's"), result.stderr)
    }

    /// A hand-edited (or hostile) manifest cannot make clean-up delete anything outside the job's own names.
    func testManifestNamingOtherFilesIsIgnored() throws {
        let job = dir.appendingPathComponent("job")
        let outside = dir.appendingPathComponent("outside.txt")
        try Data("keep".utf8).write(to: outside)
        _ = try JobDirectory(url: job)
        var manifest = try JobManifest.decode(Data(contentsOf: job.appendingPathComponent(JobManifest.fileName)))
        manifest.entries += ["../outside.txt", "..", "/", "../film.mp4"]
        manifest.partialOutputs += [outside.path, film.path]
        try manifest.encoded().write(to: job.appendingPathComponent(JobManifest.fileName))
        JobDirectory(url: job, reopen: ()).removeOwnFiles()
        XCTAssert(FileManager.default.fileExists(atPath: outside.path))
        XCTAssert(FileManager.default.fileExists(atPath: film.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: job.path), "the job directory itself was Lumière's and is gone")
    }

    /// A file where the job directory should be, or a damaged marker: refused.
    func testFileOrDamagedMarkerIsRefused() throws {
        let file = dir.appendingPathComponent("job-file")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try JobDirectory(url: file))
        let job = dir.appendingPathComponent("job")
        _ = try JobDirectory(url: job)
        try Data("{".utf8).write(to: job.appendingPathComponent(JobManifest.fileName))
        XCTAssertThrowsError(try JobDirectory(url: job)) { XCTAssert("\($0)".contains("damaged"), "\($0)") }
    }

    /// Case 10: a Foundation error was printed as "errno 642" (Cocoa's read-only-volume code). Now the POSIX meaning,
    /// in words.
    func testFoundationErrorsAreReportedInWords() throws {
        XCTAssertEqual(JobDirectory.posixCode(of: CocoaError(.fileWriteVolumeReadOnly)), EROFS)
        XCTAssertEqual(JobDirectory.posixCode(of: CocoaError(.fileWriteNoPermission)), EACCES)
        XCTAssertEqual(JobDirectory.posixCode(of: CocoaError(.fileWriteOutOfSpace)), ENOSPC)
        XCTAssert(PlanningError.io(path: "/x", operation: "create directory", errno: EROFS).description.contains("Read-only file system"))
        // A real failure: a job directory that cannot be created (inside a file).
        let result = try restore(["film.mp4", "-o", "out.mp4", "--job-dir", "film.mp4/job"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssert(result.stderr.contains("Not a directory") || result.stderr.contains("No such file"), result.stderr)
        XCTAssertFalse(result.stderr.contains("errno 6"), result.stderr)
    }
}

private extension JobDirectory {
    /// Opens an existing job directory for the test (the marker is already there).
    convenience init(url: URL, reopen: Void) { try! self.init(url: url) }
}
