import Coordinator
import XCTest

/// A job's own pace on a shared farm (`serve`): its rate from its own frame counts over the window, its ETA from that,
/// and never the farm's rate (`WebStatus.Job(running:snapshot:)`).
final class JobPaceTests: XCTestCase {
    func testRateAndETAComeFromTheJobsOwnFramesOverTheWindow() {
        var pace = JobPace(window: 30)
        // The first sight of a job: no rate yet.
        XCTAssertNil(pace.observe("1", JobFrames(done: 0, total: 1000), at: 100).fps)
        // Under a second later: still none (a rate over a blink would jump about).
        XCTAssertNil(pace.observe("1", JobFrames(done: 3, total: 1000), at: 100.5).etaSeconds)
        // 10 frames a second for 20 s: 200 done, 800 left, 80 s.
        let steady = pace.observe("1", JobFrames(done: 200, total: 1000), at: 120)
        XCTAssertEqual(steady.fps ?? 0, 10, accuracy: 1e-9)
        XCTAssertEqual(steady.etaSeconds ?? 0, 80, accuracy: 1e-9)
        // Another job interleaved on the same farm at 2 frames a second keeps its own pace.
        _ = pace.observe("2", JobFrames(done: 0, total: 100), at: 100)
        XCTAssertEqual(pace.observe("2", JobFrames(done: 40, total: 100), at: 120).etaSeconds ?? 0, 30, accuracy: 1e-9)
        // The window moves on: after 60 s more at 5 frames a second, only the last 30 s count.
        for t in stride(from: 125.0, through: 180, by: 5) { _ = pace.observe("1", JobFrames(done: 200 + Int64((t - 120) * 5), total: 1000), at: t) }
        let slower = pace.observe("1", JobFrames(done: 500, total: 1000), at: 180)
        XCTAssertEqual(slower.fps ?? 0, 5, accuracy: 1e-9)
        XCTAssertEqual(slower.etaSeconds ?? 0, 100, accuracy: 1e-9)
        // No frame in the window (a job whose segments all wait behind a higher priority): no rate, no ETA, not zero.
        for t in stride(from: 190.0, through: 230, by: 10) { _ = pace.observe("1", JobFrames(done: 500, total: 1000), at: t) }
        XCTAssertNil(pace.observe("1", JobFrames(done: 500, total: 1000), at: 240).fps)
    }

    func testAJobThatLeavesStartsItsPaceAgain() {
        var pace = JobPace(window: 30)
        _ = pace.observe("1", JobFrames(done: 0, total: 100), at: 0)
        XCTAssertNotNil(pace.observe("1", JobFrames(done: 50, total: 100), at: 10).fps)
        pace.keep(only: []) // paused
        XCTAssertNil(pace.observe("1", JobFrames(done: 50, total: 100), at: 500).fps, "resumed: no rate from before the pause")
        // Fewer frames than before (a job restarted from its journal counts again): start over, no negative rate.
        XCTAssertNil(pace.observe("1", JobFrames(done: 10, total: 100), at: 510).fps)
    }

    /// On the web page a shared-farm job shows its own rate and ETA, not the farm's; a `restore` job the farm's.
    func testTheWebPageShowsASharedJobsOwnPace() {
        let snapshot = FarmSnapshot(elapsedSeconds: 60, finished: false, framesTotal: 1200, framesDone: 600, framesInFlight: 0,
                                    outputFPS: 10, averageFPS: 10, etaSeconds: 60, segments: SegmentCounts(), retries: 0,
                                    speculativeCopies: 0, bytesSent: 0, bytesReceived: 0, workers: [])
        var shared = JobInfo(id: "2", film: "b.mkv", output: "b.mp4", model: "lanczos", device: "farm workers", phase: "farm")
        shared.frames = JobFrames(done: 100, total: 400, fps: 2, etaSeconds: 150)
        let job = WebStatus.Job(running: shared, snapshot: snapshot)
        XCTAssertEqual(job.outputFPS, 2)
        XCTAssertEqual(job.etaSeconds, 150)
        XCTAssertEqual(job.percent, 25)
        shared.frames = JobFrames(done: 0, total: 400) // no pace yet: no ETA rather than the farm's
        XCTAssertNil(WebStatus.Job(running: shared, snapshot: snapshot).etaSeconds)
        let alone = WebStatus.Job(running: JobInfo(id: "r", film: "a.mkv", output: "a.mp4", model: "lanczos", device: "cpu", phase: "farm"),
                                  snapshot: snapshot)
        XCTAssertEqual(alone.etaSeconds, 60)
        XCTAssertEqual(alone.outputFPS, 10)
    }
}
