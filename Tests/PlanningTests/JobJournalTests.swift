import Foundation
import Planning
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class JobJournalTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory("journal") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func makeResult(_ name: String, bytes: Int = 5000, seed: UInt8 = 1) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data((0..<bytes).map { UInt8(truncatingIfNeeded: $0) &+ seed }).write(to: url)
        return url
    }

    /// A run's leftover segment inputs go when the next run starts (each is written again when its segment is released);
    /// a file that is not a segment input stays, and results are not touched.
    func testLeftoverInputsAreRemovedAndOtherFilesStay() throws {
        let job = try JobDirectory(url: dir.appendingPathComponent("job"))
        try job.record(key: "done1", resultFile: try makeResult("r1"), frames: 10)
        for name in ["segment-abc123.mkv", "segment-def456.mkv", "notes.txt"] {
            try Data("x".utf8).write(to: job.inputsURL.appendingPathComponent(name))
        }
        job.removeInputs()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: job.inputsURL.path), ["notes.txt"])
        XCTAssertEqual(try job.verify(), [], "results are kept")
    }

    func testRecordedSegmentsSurviveReopeningAndDamageIsDetected() throws {
        let jobURL = dir.appendingPathComponent("job")
        let job = try JobDirectory(url: jobURL)
        try job.record(key: "a1", resultFile: try makeResult("r1"), frames: 10)
        try job.record(key: "b2", resultFile: try makeResult("r2", seed: 2), frames: 20)
        try job.record(key: "c3", resultFile: try makeResult("r3", seed: 3), frames: 30)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("r1").path), "result was moved into the job")

        let reopened = try JobDirectory(url: jobURL)
        XCTAssertEqual(Set(reopened.entries.keys), ["a1", "b2", "c3"])
        XCTAssertEqual(try reopened.verify(), [])
        // One result deleted, one damaged in place (same size, one byte changed): both are redone.
        try FileManager.default.removeItem(at: reopened.resultURL(reopened.entries["a1"]!))
        let damaged = reopened.resultURL(reopened.entries["b2"]!)
        var bytes = try Data(contentsOf: damaged)
        bytes[100] ^= 0xFF
        try bytes.write(to: damaged)
        XCTAssertEqual(try reopened.verify(), ["a1", "b2"])
        XCTAssertEqual(Set(try JobDirectory(url: jobURL).entries.keys), ["c3"], "the journal on disk was rewritten")
        // Entries for segments the current plan does not have (settings changed) are not kept.
        XCTAssertEqual(try reopened.verify(keeping: ["zz"]), ["c3"])
        XCTAssertTrue(reopened.entries.isEmpty)
    }

    func testFullDiskLeavesTheJournalIntactWithAClearError() throws {
        final class Switch: @unchecked Sendable { var full = false }
        let disk = Switch()
        let jobURL = dir.appendingPathComponent("job")
        let job = try JobDirectory(url: jobURL, writer: { fd, p, n in
            if disk.full { errno = ENOSPC; return -1 }
            return Glibc.write(fd, p, n)
        })
        try job.record(key: "first", resultFile: try makeResult("r1"), frames: 10)
        let before = try Data(contentsOf: job.journalURL)
        disk.full = true
        XCTAssertThrowsError(try job.record(key: "second", resultFile: try makeResult("r2"), frames: 10)) { error in
            guard case .diskFull(let path)? = error as? PlanningError else { return XCTFail("\(error)") }
            XCTAssert(path.hasPrefix(jobURL.path + "/.journal.json.tmp-\(getpid())-"), path)
            XCTAssert("\(error)".contains("no space left"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: job.journalURL), before, "journal changed by a failed write")
        XCTAssertEqual(Set(job.entries.keys), ["first"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: jobURL.path).filter { $0.hasPrefix(".") }, [], "temporary file left behind")
        disk.full = false
        XCTAssertEqual(Set(try JobDirectory(url: jobURL).entries.keys), ["first"])
    }

    /// A write that fails half-way (I/O error, or a crash: the temporary file is all that is touched)
    /// leaves the previous journal byte for byte; a crashed run's leftover temporary file is not read.
    func testInterruptedJournalWriteLeavesTheOldJournal() throws {
        final class Switch: @unchecked Sendable { var failAfterHalf = false }
        let disk = Switch()
        let jobURL = dir.appendingPathComponent("job")
        let job = try JobDirectory(url: jobURL, writer: { fd, p, n in
            guard disk.failAfterHalf else { return Glibc.write(fd, p, n) }
            if n > 64 { return Glibc.write(fd, p, n / 2) } // first half goes out, then the device fails
            errno = EIO
            return -1
        })
        try job.record(key: "first", resultFile: try makeResult("r1"), frames: 10)
        let before = try Data(contentsOf: job.journalURL)
        disk.failAfterHalf = true
        XCTAssertThrowsError(try job.record(key: "second", resultFile: try makeResult("r2"), frames: 10)) { error in
            guard case .io(_, "write", EIO)? = error as? PlanningError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try Data(contentsOf: job.journalURL), before)
        // A crash mid-write leaves only a temporary file beside the journal: reopening ignores it.
        try Data("{\"version\":1,\"entr".utf8).write(to: jobURL.appendingPathComponent(".journal.json.tmp-99999"))
        let reopened = try JobDirectory(url: jobURL)
        XCTAssertEqual(Set(reopened.entries.keys), ["first"])
        XCTAssertEqual(try reopened.verify(), [])
    }

    /// A real ENOSPC from the kernel (/dev/full) becomes `.diskFull`, and the target file keeps its contents.
    func testKernelENOSPCIsReportedAsDiskFull() throws {
        try Fixtures.require(FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full")
        let target = dir.appendingPathComponent("plan.json")
        try AtomicFile.write(Data("old".utf8), to: target)
        XCTAssertThrowsError(try AtomicFile.write(Data(repeating: 7, count: 10_000), to: target, writer: { _, p, n in
            let full = open("/dev/full", O_WRONLY)
            defer { close(full) }
            return Glibc.write(full, p, n)
        })) { error in
            guard case .diskFull? = error as? PlanningError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try Data(contentsOf: target), Data("old".utf8))
    }

    func testDamagedOrHostileJournalIsRefused() throws {
        let jobURL = dir.appendingPathComponent("job")
        _ = try JobDirectory(url: jobURL)
        try Data("{\"version\":1,\"entries\":{\"k\":{\"key\":\"k\",\"file\":\"../../etc/passwd\",\"bytes\":1,\"sha256\":\"x\",\"frames\":1}}}".utf8)
            .write(to: jobURL.appendingPathComponent("journal.json"))
        XCTAssertThrowsError(try JobDirectory(url: jobURL))
        try Data("not json".utf8).write(to: jobURL.appendingPathComponent("journal.json"))
        XCTAssertThrowsError(try JobDirectory(url: jobURL)) { XCTAssert("\($0)".contains("journal.json")) }
    }

    func testKeysChangeWithInputSettingsAndFrames() throws {
        let input = try makeResult("film.bin", bytes: 3 << 20)
        let id = try JobKeys.inputIdentity(path: input.path)
        XCTAssertEqual(try JobKeys.inputIdentity(path: input.path), id)
        let base = JobKeys.segmentKey(input: id, settings: "recipe A", frames: 0..<100)
        XCTAssertEqual(base.count, 32)
        XCTAssertNotEqual(JobKeys.segmentKey(input: id, settings: "recipe B", frames: 0..<100), base)
        XCTAssertNotEqual(JobKeys.segmentKey(input: id, settings: "recipe A", frames: 0..<101), base)
        // Editing the file's last byte changes its identity.
        let handle = try FileHandle(forWritingTo: input)
        try handle.seek(toOffset: UInt64(3 << 20) - 1)
        try handle.write(contentsOf: Data([0x42]))
        try handle.close()
        XCTAssertNotEqual(try JobKeys.inputIdentity(path: input.path), id)
    }
}
