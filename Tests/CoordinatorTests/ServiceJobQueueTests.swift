import Coordinator
import Foundation
import TestSupport
import XCTest

/// The service's job queue (issue 18 item 1) as a pure state machine, with a manual clock: priorities, order among
/// equal priorities, pause/resume/cancel of queued and running jobs, preemption, recovery after a kill, and the
/// queue file's round trip and damage.
final class ServiceJobQueueTests: XCTestCase {
    private func submit(_ queue: inout JobQueue, _ name: String, priority: Int = 0, at now: Double) -> (Int, [JobQueue.Directive]) {
        let (id, directives) = queue.submit(film: "/films/\(name).mkv", output: "/out/\(name).mp4", arguments: ["/films/\(name).mkv", "-o", "/out/\(name).mp4"],
                                            directory: "/", priority: priority, now: now)
        return (id, directives)
    }

    func testFirstJobStartsAtOnceTheNextWaitsForTheFarm() {
        var queue = JobQueue()
        let (a, first) = submit(&queue, "a", at: 10)
        XCTAssertEqual(first, [.start(a)])
        let (b, second) = submit(&queue, "b", at: 11)
        XCTAssertEqual(second, [], "one job on the farm at a time")
        XCTAssertEqual(queue.job(b)?.state, .queued)
        queue.started(a, now: 12)
        XCTAssertEqual(queue.job(a)?.startedAt, 12)
        XCTAssertEqual(queue.job(a)?.runs, 1)
        XCTAssertEqual(queue.ended(a, .completed("wrote it"), now: 20), [.start(b)])
        XCTAssertEqual(queue.job(a)?.state, .done)
        XCTAssertEqual(queue.job(a)?.finishedAt, 20)
        XCTAssertEqual(queue.job(a)?.message, "wrote it")
        XCTAssertEqual(queue.job(b)?.state, .running)
    }

    func testHigherPriorityFirstThenSubmissionOrder() {
        var queue = JobQueue()
        let (busy, _) = submit(&queue, "busy", at: 0)
        let (low, _) = submit(&queue, "low", priority: -1, at: 1)
        let (first, _) = submit(&queue, "first", priority: 0, at: 2)
        let (second, _) = submit(&queue, "second", priority: 0, at: 3)
        let (urgent, directives) = submit(&queue, "urgent", priority: 5, at: 4)
        XCTAssertEqual(directives, [.stop(busy)], "a higher priority asks the running job to make way")
        var order: [Int] = []
        var next = queue.ended(busy, .stopped, now: 5)
        XCTAssertEqual(queue.job(busy)?.state, .queued, "the preempted job is queued again (it resumes from its journal)")
        XCTAssertEqual(next, [.start(urgent)])
        while case .start(let id)? = next.first {
            order.append(id)
            next = queue.ended(id, .completed("ok"), now: 6)
        }
        XCTAssertEqual(order, [urgent, busy, first, second, low], "priority, then submission order (the preempted job keeps its place)")
        XCTAssertTrue(queue.jobs.allSatisfy { $0.state == .done })
    }

    func testEqualPrioritiesAreServedFirstComeFirstServedWhateverTheirNames() {
        var queue = JobQueue()
        var ids: [Int] = []
        for (index, name) in ["z", "m", "a", "q"].enumerated() { ids.append(submit(&queue, name, at: Double(index)).0) }
        var order = [ids[0]]
        var next = queue.ended(ids[0], .completed("ok"), now: 10)
        while case .start(let id)? = next.first {
            order.append(id)
            next = queue.ended(id, .completed("ok"), now: 10)
        }
        XCTAssertEqual(order, ids)
    }

    func testPauseAndResumeOfTheRunningJob() throws {
        var queue = JobQueue()
        let (a, _) = submit(&queue, "a", at: 0)
        let (b, _) = submit(&queue, "b", at: 1)
        XCTAssertEqual(try queue.pause(a), [.stop(a)])
        XCTAssertEqual(queue.job(a)?.state, .pausing)
        XCTAssertEqual(try queue.pause(a), [], "asking twice asks once")
        XCTAssertEqual(queue.ended(a, .stopped, now: 2), [.start(b)], "the farm goes to the next job")
        XCTAssertEqual(queue.job(a)?.state, .paused)
        XCTAssertEqual(try queue.resume(a), [], "queued again; b keeps the farm")
        XCTAssertEqual(queue.job(a)?.state, .queued)
        XCTAssertEqual(queue.ended(b, .completed("ok"), now: 3), [.start(a)])
        queue.started(a, now: 4)
        XCTAssertEqual(queue.job(a)?.runs, 1, "started() counts the farm's runs (the first was never confirmed here)")
    }

    func testPauseQueuedJobIsSkippedUntilResumed() throws {
        var queue = JobQueue()
        let (a, _) = submit(&queue, "a", at: 0)
        let (b, _) = submit(&queue, "b", at: 1)
        let (c, _) = submit(&queue, "c", at: 2)
        XCTAssertEqual(try queue.pause(b), [])
        XCTAssertEqual(queue.ended(a, .completed("ok"), now: 3), [.start(c)], "the paused job is passed over")
        XCTAssertEqual(try queue.resume(b), [])
        XCTAssertEqual(queue.ended(c, .completed("ok"), now: 4), [.start(b)])
    }

    func testResumeWhilePausingKeepsItRunning() throws {
        var queue = JobQueue()
        let (a, _) = submit(&queue, "a", at: 0)
        _ = try queue.pause(a)
        XCTAssertEqual(try queue.resume(a), [])
        XCTAssertEqual(queue.job(a)?.state, .running)
        // The stop asked for before still ends this run; the job is queued again and restarts at once.
        XCTAssertEqual(queue.ended(a, .stopped, now: 1), [.start(a)])
    }

    func testCancelQueuedRunningAndFinished() throws {
        var queue = JobQueue()
        let (a, _) = submit(&queue, "a", at: 0)
        let (b, _) = submit(&queue, "b", at: 1)
        XCTAssertEqual(try queue.cancel(b, now: 2), [])
        XCTAssertEqual(queue.job(b)?.state, .cancelled)
        XCTAssertEqual(queue.job(b)?.finishedAt, 2)
        XCTAssertEqual(try queue.cancel(a, now: 3), [.stop(a)])
        XCTAssertEqual(queue.job(a)?.state, .cancelling)
        XCTAssertEqual(queue.ended(a, .stopped, now: 4), [])
        XCTAssertEqual(queue.job(a)?.state, .cancelled)
        XCTAssertThrowsError(try queue.cancel(a, now: 5)) { XCTAssertEqual($0 as? JobQueueError, .finished(id: a, state: .cancelled)) }
        XCTAssertThrowsError(try queue.resume(b)) { XCTAssertEqual($0 as? JobQueueError, .finished(id: b, state: .cancelled)) }
        XCTAssertThrowsError(try queue.pause(99)) { XCTAssertEqual($0 as? JobQueueError, .unknownJob(99)) }
        XCTAssertTrue("\(JobQueueError.unknownJob(99))".contains("lumiere-coordinator jobs"), "the error says what to do")
    }

    func testFailureIsRecordedAndTheNextJobStarts() {
        var queue = JobQueue()
        let (a, _) = submit(&queue, "a", at: 0)
        let (b, _) = submit(&queue, "b", at: 1)
        XCTAssertEqual(queue.ended(a, .failed("no such file"), now: 2), [.start(b)])
        XCTAssertEqual(queue.job(a)?.state, .failed)
        XCTAssertEqual(queue.job(a)?.message, "no such file")
    }

    func testPriorityChangeReordersAndPreempts() throws {
        var queue = JobQueue()
        let (a, _) = submit(&queue, "a", at: 0)
        let (b, _) = submit(&queue, "b", at: 1)
        let (c, _) = submit(&queue, "c", at: 2)
        XCTAssertEqual(try queue.setPriority(c, 1), [.stop(a)], "c now outranks the running job")
        XCTAssertEqual(queue.ended(a, .stopped, now: 3), [.start(c)])
        XCTAssertEqual(queue.job(a)?.state, .queued)
        XCTAssertEqual(try queue.setPriority(b, 2), [.stop(c)])
        XCTAssertThrowsError(try queue.setPriority(99, 1))
    }

    // MARK: Several jobs on the farm (their segments interleaved by the farm's scheduler)

    func testTwoSlotsRunTwoJobsAtOnceAndTheThirdWaits() {
        var queue = JobQueue(slots: 2)
        let (a, first) = submit(&queue, "a", at: 0)
        let (b, second) = submit(&queue, "b", at: 1)
        let (c, third) = submit(&queue, "c", at: 2)
        XCTAssertEqual(first, [.start(a)])
        XCTAssertEqual(second, [.start(b)], "a second slot is free")
        XCTAssertEqual(third, [], "both slots taken")
        XCTAssertEqual(queue.onFarm.map(\.id), [a, b])
        XCTAssertEqual(queue.ended(b, .completed("ok"), now: 3), [.start(c)])
        XCTAssertEqual(try queue.pause(a), [.stop(a)])
        XCTAssertEqual(queue.onFarm.map(\.id), [a, c], "a pausing job keeps its slot until it has stopped")
        let (d, fourth) = submit(&queue, "d", at: 4)
        XCTAssertEqual(fourth, [])
        XCTAssertEqual(queue.ended(a, .stopped, now: 5), [.start(d)])
        XCTAssertEqual(queue.job(a)?.state, .paused)
    }

    func testWithEverySlotTakenAHigherPriorityStopsTheLowestRunning() throws {
        var queue = JobQueue(slots: 2)
        let (low, _) = submit(&queue, "low", priority: 1, at: 0)
        let (lower, _) = submit(&queue, "lower", priority: 0, at: 1)
        let (urgent, directives) = submit(&queue, "urgent", priority: 5, at: 2)
        XCTAssertEqual(directives, [.stop(lower)], "the lowest priority makes way")
        XCTAssertEqual(queue.ended(lower, .stopped, now: 3), [.start(urgent)])
        XCTAssertEqual(queue.job(lower)?.state, .queued, "it resumes from its journal later")
        // Among equal lowest priorities, the later submitted makes way.
        var equal = JobQueue(slots: 2)
        _ = submit(&equal, "first", at: 0)
        let (second, _) = submit(&equal, "second", at: 1)
        XCTAssertEqual(submit(&equal, "urgent", priority: 1, at: 2).1, [.stop(second)])
        // An equal priority waits for a free slot: the farm shares workers only among the jobs on it.
        var same = JobQueue(slots: 2)
        _ = submit(&same, "x", at: 0)
        _ = submit(&same, "y", at: 1)
        XCTAssertEqual(submit(&same, "z", at: 2).1, [])
    }

    func testRecoveryStartsEveryJobThatWasRunningUpToTheSlots() throws {
        var queue = JobQueue(slots: 2)
        let (a, _) = submit(&queue, "a", at: 0)
        let (b, _) = submit(&queue, "b", at: 1)
        _ = submit(&queue, "c", at: 2)
        let saved = try JSONDecoder().decode(JobQueue.self, from: JSONEncoder().encode(queue))
        XCTAssertEqual(saved.slots, 1, "the slots are the service's option, not the file's")
        var reloaded = saved
        reloaded.slots = 2
        XCTAssertEqual(reloaded.recover(), [.start(a), .start(b)])
    }

    func testRecoveryAfterAKillResumesTheRunningJobFirst() throws {
        var queue = JobQueue()
        let (a, _) = submit(&queue, "a", at: 0)
        let (b, _) = submit(&queue, "b", at: 1)
        queue.started(a, now: 1)
        // Saved while a ran; the process is killed; a new one loads the file and recovers.
        var reloaded = try roundTrip(queue)
        XCTAssertEqual(reloaded.recover(), [.start(a)], "the job that was running goes first: it resumes from its journal")
        XCTAssertEqual(reloaded.job(b)?.state, .queued)

        _ = try queue.pause(a) // pausing when killed: paused after the restart, b runs
        var pausedOnKill = try roundTrip(queue)
        XCTAssertEqual(pausedOnKill.recover(), [.start(b)])
        XCTAssertEqual(pausedOnKill.job(a)?.state, .paused)
    }

    func testNewIdsAfterARestartDoNotReuseOldOnes() throws {
        var queue = JobQueue()
        let (a, _) = submit(&queue, "a", at: 0)
        var reloaded = try roundTrip(queue)
        let (b, _) = submit(&reloaded, "b", at: 1)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(reloaded.jobs.map(\.id), [a, b])
    }

    func testPruneKeepsTheNewestFinishedAndEveryOpenJob() {
        var queue = JobQueue()
        var ids: [Int] = []
        for index in 0..<5 { ids.append(submit(&queue, "j\(index)", at: Double(index)).0) }
        _ = queue.ended(ids[0], .completed("ok"), now: 10)
        _ = queue.ended(ids[1], .completed("ok"), now: 11)
        _ = queue.ended(ids[2], .failed("x"), now: 12)
        queue.prune(keepFinished: 1)
        XCTAssertEqual(queue.jobs.map(\.id), [ids[2], ids[3], ids[4]])
    }

    // MARK: The queue file

    func testStoreRoundTripAndMissingFile() throws {
        let dir = try Fixtures.temporaryDirectory("service-queue")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = JobQueueStore(url: dir.appendingPathComponent("queue.json"))
        XCTAssertEqual(try store.load(), JobQueue(), "no file yet: an empty queue")
        var queue = JobQueue()
        let (a, _) = submit(&queue, "a", priority: 3, at: 100)
        _ = submit(&queue, "b", at: 101)
        _ = try queue.pause(a)
        try store.save(queue)
        XCTAssertEqual(try store.load(), queue)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "queue.json" }
        XCTAssertEqual(leftovers, [], "the atomic write leaves no temporary file")
    }

    func testDamagedQueueFileIsATypedErrorThatSaysWhatToDo() throws {
        let dir = try Fixtures.temporaryDirectory("service-queue-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("queue.json")
        let store = JobQueueStore(url: url)
        var queue = JobQueue()
        _ = submit(&queue, "a", at: 0)
        try store.save(queue)
        let good = try Data(contentsOf: url)

        try good.prefix(good.count / 2).write(to: url) // cut short, as a torn copy would be
        XCTAssertThrowsError(try store.load()) { error in
            guard case JobQueueError.corrupt(let path, _)? = error as? JobQueueError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
            XCTAssertTrue("\(error)".contains("Move it aside"), "\(error)")
        }

        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: good) as? [String: Any])
        object["formatVersion"] = 99
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        XCTAssertThrowsError(try store.load()) { XCTAssertEqual($0 as? JobQueueError, .unsupportedVersion(path: url.path, version: 99)) }

        // A job numbered at or past the next id cannot happen; a file that says so was edited or damaged.
        var jobs = try XCTUnwrap(JSONSerialization.jsonObject(with: good) as? [String: Any])
        var list = try XCTUnwrap(jobs["jobs"] as? [[String: Any]])
        list.append(list[0].merging(["id": 2, "state": "running"]) { $1 })
        jobs["jobs"] = list
        try JSONSerialization.data(withJSONObject: jobs).write(to: url)
        XCTAssertThrowsError(try store.load()) { error in
            guard case JobQueueError.corrupt(_, let reason)? = error as? JobQueueError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("not below the next id"), reason)
        }

        try Data(repeating: 0x20, count: JobQueueStore.maxBytes + 1).write(to: url)
        XCTAssertThrowsError(try store.load()) { XCTAssertTrue("\($0)".contains("more than"), "\($0)") }
    }

    // MARK: The state directory

    func testStateDirectoryIsCreatedPrivateAndALooseOneIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory("service-state")
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = StateDirectory(path: dir.appendingPathComponent("state").path)
        try state.prepare()
        var info = stat()
        XCTAssertEqual(lstat(state.url.path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        XCTAssertTrue(state.controlEndpoint.hasPrefix("ipc:///"), "control is a Unix socket, never TCP")

        XCTAssertEqual(chmod(state.url.path, 0o777), 0)
        XCTAssertThrowsError(try state.prepare()) { error in
            XCTAssertTrue("\(error)".contains("chmod 700"), "\(error)")
        }
        XCTAssertThrowsError(try state.checkForClient())
        XCTAssertEqual(chmod(state.url.path, 0o700), 0)

        let fd = try state.lock()
        defer { close(fd) }
        XCTAssertThrowsError(try state.lock()) { XCTAssertEqual($0 as? ServiceError, .alreadyServing(stateDirectory: state.url.path)) }
    }

    private func roundTrip(_ queue: JobQueue) throws -> JobQueue {
        try JSONDecoder().decode(JobQueue.self, from: try JSONEncoder().encode(queue))
    }
}
