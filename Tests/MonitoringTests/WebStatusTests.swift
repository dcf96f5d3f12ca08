import Coordinator
import Foundation
import XCTest

/// `/farm.json`, the web page's model: its shape (what the page's script reads) and the chart's rate series.
final class WebStatusTests: XCTestCase {
    private func snapshot(elapsed: Double, framesDone: Int64, finished: Bool = false) -> FarmSnapshot {
        FarmSnapshot(elapsedSeconds: elapsed, finished: finished, framesTotal: 400, framesDone: framesDone, framesInFlight: 3,
                     outputFPS: 10, averageFPS: 9, etaSeconds: finished ? 0 : 20, segments: SegmentCounts(total: 8, pending: 3, running: 2, done: 3),
                     retries: 0, speculativeCopies: 0, bytesSent: 1, bytesReceived: 2,
                     workers: [WorkerSnapshot(name: "w<1>", host: "render-01", threads: 2, device: "gpu:0 Test GPU (discrete)", state: .processing,
                                              segment: 4, segmentFramesDone: 3, segmentFramesTotal: 50, framesProcessed: 150,
                                              segmentsCompleted: 3, fpsLastMinute: 5.5),
                               WorkerSnapshot(name: "w2", host: "render-02", threads: 2, device: "cpu", state: .idle)])
    }

    /// Ten frames a second, sampled every quarter second for `seconds`.
    private func steadyHistory(seconds: Double) -> ThroughputHistory {
        var history = ThroughputHistory()
        var t = 0.0
        while t <= seconds + 1e-9 { history.record(time: t, frames: Int64((t * 10).rounded())); t += 0.25 }
        return history
    }

    func testFarmJSONHasTheJobsWorkersAndChartThePageReads() throws {
        let job = JobInfo(id: "reel-1.lumiere-job", film: "/films/reel 1.mkv", output: "/out/reel 1.mp4", model: "realesr-general-wdn",
                          device: "cpu", phase: "farm")
        let status = WebStatus(snapshot: snapshot(elapsed: 30, framesDone: 300), history: steadyHistory(seconds: 30), jobs: JobList(running: [job]))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: status.jsonData()) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["formatVersion", "elapsedSeconds", "outputFPS", "jobs", "workers", "throughput"])
        XCTAssertEqual(object["formatVersion"] as? Int, 1)

        let jobs = try XCTUnwrap(object["jobs"] as? [[String: Any]])
        XCTAssertEqual(jobs.count, 1)
        let row = jobs[0]
        XCTAssertEqual(row["id"] as? String, "reel-1.lumiere-job")
        XCTAssertEqual(row["film"] as? String, "/films/reel 1.mkv")
        XCTAssertEqual(row["output"] as? String, "/out/reel 1.mp4")
        XCTAssertEqual(row["model"] as? String, "realesr-general-wdn")
        XCTAssertEqual(row["phase"] as? String, "farm")
        XCTAssertEqual(row["framesDone"] as? Int, 300)
        XCTAssertEqual(row["framesTotal"] as? Int, 400)
        XCTAssertEqual(try XCTUnwrap(row["percent"] as? Double), 75, accuracy: 1e-9)
        XCTAssertEqual(row["etaSeconds"] as? Double, 20)
        XCTAssertEqual(row["finished"] as? Bool, false)
        XCTAssertEqual((row["segments"] as? [String: Any])?["done"] as? Int, 3)

        let workers = try XCTUnwrap(object["workers"] as? [[String: Any]])
        XCTAssertEqual(workers.map { $0["name"] as? String }, ["w<1>", "w2"], "names as given: the page escapes them")
        XCTAssertEqual(workers[0]["host"] as? String, "render-01")
        XCTAssertEqual(workers[0]["device"] as? String, "gpu:0 Test GPU (discrete)")
        XCTAssertEqual(workers[0]["state"] as? String, "processing")
        XCTAssertEqual(workers[0]["segment"] as? Int, 4)
        XCTAssertEqual(workers[0]["fpsLastMinute"] as? Double, 5.5)
        XCTAssertNil(workers[1]["segment"], "an idle worker has no segment")

        // The chart: a steady 10 fps reads 10 fps once a whole window has passed, and ends at the snapshot's time.
        let points = try XCTUnwrap(object["throughput"] as? [[String: Double]])
        XCTAssertEqual(Set(points[0].keys), ["t", "fps"])
        XCTAssertEqual(points.last?["t"], 30)
        XCTAssertEqual(points.map { $0["t"]! }, points.map { $0["t"]! }.sorted(), "in time order")
        for point in points where point["t"]! >= WebStatus.rateWindow {
            XCTAssertEqual(point["fps"]!, 10, accuracy: 0.3, "\(point)")
        }
        XCTAssertEqual(try JSONDecoder().decode(WebStatus.self, from: status.jsonData()), status, "round trip")
    }

    func testChartFollowsTheRateAndStaysBoundedOnLongJobs() {
        // Ten frames a second for 20 s, then nothing: the last point reads 0 once the window has passed.
        var history = steadyHistory(seconds: 20)
        var t = 20.25
        while t <= 40 { history.record(time: t, frames: 200); t += 0.25 }
        let status = WebStatus(snapshot: snapshot(elapsed: 40, framesDone: 200), history: history, jobs: JobList())
        XCTAssertEqual(status.jobs, [])
        XCTAssertEqual(status.throughput.first { abs($0.t - 15) < 0.5 }?.fps ?? -1, 10, accuracy: 0.3)
        XCTAssertEqual(status.throughput.last?.fps, 0)

        // Six hours: no more than `maxPoints`, spread over the whole job.
        let long = WebStatus(snapshot: snapshot(elapsed: 6 * 3600, framesDone: 216_000), history: steadyHistory(seconds: 6 * 3600), jobs: JobList())
        XCTAssertLessThanOrEqual(long.throughput.count, WebStatus.maxPoints)
        XCTAssertGreaterThan(long.throughput.count, WebStatus.maxPoints / 2)
        XCTAssertEqual(long.throughput.last?.t, 6 * 3600)
        XCTAssertEqual(long.throughput[long.throughput.count / 2].fps, 10, accuracy: 0.5)

        // Before the job started: no points, nothing to divide by.
        XCTAssertEqual(WebStatus(jobs: JobList()).throughput, [])
    }

    /// Running jobs first with the farm's progress, then the queue (a service's); before the farm, the job and nothing else.
    func testQueuedJobsFollowTheRunningOneAndAJobBeforeItsFarmHasNoProgress() {
        let running = JobInfo(id: "a", film: "a.mp4", output: "a-out.mp4", model: "lanczos", device: "cpu", phase: "encode")
        let waiting = JobInfo(id: "b", film: "b.mp4", output: "b-out.mp4", model: "lanczos", device: "cpu", phase: "starting")
        let status = WebStatus(snapshot: snapshot(elapsed: 40, framesDone: 400, finished: true), history: steadyHistory(seconds: 40),
                               jobs: JobList(running: [running], queued: [waiting]))
        XCTAssertEqual(status.jobs.map(\.id), ["a", "b"])
        XCTAssertEqual(status.jobs[0].phase, "encode", "the farm finished; the job goes on")
        XCTAssertTrue(status.jobs[0].finished)
        XCTAssertEqual(status.jobs[0].percent, 100)
        XCTAssertEqual(status.jobs[1].phase, "queued")
        XCTAssertEqual(status.jobs[1].framesDone, 0)
        XCTAssertNil(status.jobs[1].etaSeconds)

        let analysing = WebStatus(jobs: JobList(running: [JobInfo(id: "a", film: "a.mp4", output: "o.mp4", model: "m", device: "cpu", phase: "analysis")]))
        XCTAssertEqual(analysing.jobs.map(\.phase), ["analysis"])
        XCTAssertEqual(analysing.workers, [])
        XCTAssertEqual(analysing.jobs[0].framesTotal, 0)
    }

    /// The server's routes: `/farm.json` (no cache), `/web.js`, and `/` still plain text for `curl` (no `Accept: text/html`).
    func testServerServesTheModelTheScriptAndPlainTextForCurl() throws {
        let job = JobInfo(id: "j", film: "film.mkv", output: "out.mp4", model: "lanczos", device: "cpu", phase: "farm")
        let fixed = WebStatus(snapshot: snapshot(elapsed: 30, framesDone: 300), history: steadyHistory(seconds: 30), jobs: JobList(running: [job]))
        let server = try StatusServer(port: 0, snapshot: { self.snapshot(elapsed: 30, framesDone: 300) }, web: { fixed })
        let port = try server.start()
        defer { server.stop() }
        let endpoint = try StatusClient.Endpoint(parsing: "127.0.0.1:\(port)")
        XCTAssertEqual(try JSONDecoder().decode(WebStatus.self, from: StatusClient.get(endpoint, path: "/farm.json")), fixed)
        let script = String(decoding: try StatusClient.get(endpoint, path: "/web.js"), as: UTF8.self)
        XCTAssertTrue(script.contains("/farm.json"), "the script polls the model")
        XCTAssertFalse(script.contains("innerHTML"), "strings reach the page as text only")
        let text = String(decoding: try StatusClient.get(endpoint, path: "/"), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("farm: 300/400 frames"), text)
        // Without a job description the page still lists the workers.
        let plain = try StatusServer(port: 0, snapshot: { self.snapshot(elapsed: 30, framesDone: 300) })
        let plainPort = try plain.start()
        defer { plain.stop() }
        let model = try JSONDecoder().decode(WebStatus.self, from: StatusClient.get(StatusClient.Endpoint(parsing: "127.0.0.1:\(plainPort)"), path: "/farm.json"))
        XCTAssertEqual(model.jobs, [])
        XCTAssertEqual(model.workers.map(\.name), ["w<1>", "w2"])
    }
}
