import Coordinator
import Foundation
import Media
import Shared
import TestSupport
import XCTest

/// Issue 18 item 3: `/metrics` for the whole life of a job — its phase, what it restores, the queue, the job
/// directory's disk — not only during the farm phase.
final class JobMetricsTests: XCTestCase {
    private typealias M = MetricsAndPlotTests

    func testJobSeriesPhaseQueueAndDisk() throws {
        let dir = try Fixtures.temporaryDirectory("job-metrics")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(count: 3 << 20).write(to: dir.appendingPathComponent("segment-1.mkv"))
        let list = LockedList(JobList(running: [JobInfo(id: "a", film: "/films/calais.ogv", output: "/out/calais.mp4", model: "realesr-general-wdn",
                                                       device: "cpu", phase: "analysis", directory: dir.path)],
                                      queued: [JobInfo(id: "b", film: "b.mkv", output: "b.mp4", model: "lanczos", device: "auto", directory: "/nonexistent/b"),
                                               JobInfo(id: "c", film: "c.mkv", output: "c.mp4", model: "lanczos", device: "auto")]))
        let metrics = FarmMetrics(jobs: { list.value })
        var m = M.parsePrometheus(metrics.render(.idle))
        XCTAssertEqual(M.value(m, "lumiere_jobs", ["state": "running"]), 1)
        XCTAssertEqual(M.value(m, "lumiere_jobs", ["state": "queued"]), 2)
        XCTAssertEqual(M.value(m, "lumiere_job_info", ["job_id": "a", "film": "/films/calais.ogv", "output": "/out/calais.mp4",
                                                       "model": "realesr-general-wdn", "device": "cpu"]), 1)
        for phase in JobInfo.phases {
            XCTAssertEqual(M.value(m, "lumiere_phase", ["job_id": "a", "phase": phase]), phase == "analysis" ? 1 : 0, phase)
        }
        XCTAssertEqual(M.value(m, "lumiere_phase", ["job_id": "c", "phase": "starting"]), 1)
        // The directory's allocated size (at least the 3 MiB file) and its filesystem's free space, as statvfs says.
        let size = try XCTUnwrap(M.value(m, "lumiere_job_dir_bytes", ["job_id": "a"]))
        XCTAssertGreaterThanOrEqual(size, Double(3 << 20))
        XCTAssertLessThan(size, Double(4 << 20))
        var fs = statvfs()
        XCTAssertEqual(statvfs(dir.path, &fs), 0)
        let free = try XCTUnwrap(M.value(m, "lumiere_job_dir_free_bytes", ["job_id": "a"]))
        XCTAssertEqual(free, Double(UInt64(fs.f_bavail) * UInt64(fs.f_frsize)), accuracy: 256e6, "free space moves a little under other builds")
        XCTAssertNil(M.value(m, "lumiere_job_dir_bytes", ["job_id": "b"]), "no series for a directory that does not exist")

        // The phase moves on: exactly one phase is 1.
        list.value.running[0].phase = "farm"
        m = M.parsePrometheus(metrics.render(.idle))
        XCTAssertEqual(M.value(m, "lumiere_phase", ["job_id": "a", "phase": "farm"]), 1)
        XCTAssertEqual(M.value(m, "lumiere_phase", ["job_id": "a", "phase": "analysis"]), 0)
        XCTAssertEqual(JobInfo.phases.compactMap { M.value(m, "lumiere_phase", ["job_id": "a", "phase": $0]) }.reduce(0, +), 1)

        // A job that leaves the list (a service's job done or cancelled) leaves no series; the others stay.
        list.value.queued.removeFirst()
        let text = metrics.render(.idle)
        m = M.parsePrometheus(text)
        XCTAssertEqual(M.value(m, "lumiere_jobs", ["state": "queued"]), 1)
        XCTAssertFalse(text.contains("job_id=\"b\""), text)
        XCTAssertEqual(M.value(m, "lumiere_phase", ["job_id": "c", "phase": "starting"]), 1)
        XCTAssertEqual(M.value(m, "lumiere_phase", ["job_id": "a", "phase": "farm"]), 1)
        list.value = JobList()
        m = M.parsePrometheus(metrics.render(.idle))
        XCTAssertNil(M.value(m, "lumiere_job_info"))
        XCTAssertEqual(M.value(m, "lumiere_jobs", ["state": "running"]), 0)
    }

    /// Each worker's state as one series per state (1 for the current), labelled with its device: the dashboard's
    /// "workers by device" and the worker-lost alert read it.
    func testWorkerStateSeriesCarryTheDevice() {
        let text = FarmMetrics().render(LiveViewTests.sampleSnapshot())
        let m = M.parsePrometheus(text)
        let snapshot = LiveViewTests.sampleSnapshot()
        XCTAssertFalse(snapshot.workers.isEmpty)
        for w in snapshot.workers {
            for state in WorkerSnapshot.State.allCases {
                XCTAssertEqual(M.value(m, "lumiere_worker_state", ["worker": w.name, "device": w.device ?? "", "state": state.rawValue]),
                               w.state == state ? 1 : 0, "\(w.name) \(state): \(text)")
            }
        }
    }

    /// A real restore with a metrics port: `/metrics` answers from the first phase to the last, and says which phase
    /// the job is in — scraped at the start of each phase, on the job's own thread, so the phase is known exactly.
    func testRestoreServesMetricsInEveryPhase() throws {
        try Fixtures.require(Fixtures.useBuiltWorker() != nil, "lumiere-worker not built in \(Fixtures.productsDirectory.path)")
        let dir = try Fixtures.temporaryDirectory("job-metrics-restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("clip.mp4").path
        try Fixtures.syntheticClip(at: clip, seconds: 2, size: "160x120", rate: "25",
                                   videoCodec: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        let output = dir.appendingPathComponent("out.mkv").path
        let settings = RestoreSettings(input: clip, output: output, geometry: .scale(1), processor: "lanczos",
                                       encoding: VideoEncoding(codec: .ffv1, pixelFormat: "yuv444p"), quiet: true)
        var options = FarmOptions(localWorkers: 1, threadsPerWorker: 1, jobDirectory: dir.appendingPathComponent("job").path)
        options.maxSegmentSeconds = 0.5
        options.monitoring.liveView = .off
        options.monitoring.report = false
        options.monitoring.metricsPort = 0
        let pipeline = FarmRestorePipeline(settings: settings, options: options, warn: { _ in })
        let scrapes = LockedScrapes()
        let stop = StopSignal()
        stop.onPhase = { [weak pipeline] phase in
            guard let port = pipeline?.metricsPort else { return scrapes.fail("\(phase): no metrics port while the job runs") }
            do {
                let body = try StatusClient.get(StatusClient.Endpoint(parsing: "127.0.0.1:\(port)"), path: "/metrics")
                scrapes.add(phase, String(decoding: body, as: UTF8.self))
            } catch { scrapes.fail("\(phase): \(error)") }
        }
        pipeline.stop = stop
        let summary = try pipeline.run()
        XCTAssertEqual(summary.frames, 50)
        XCTAssertNil(pipeline.metricsPort, "the server stops with the job")
        XCTAssertEqual(scrapes.failures, [])
        let seen = scrapes.all
        XCTAssert(seen.map(\.phase).contains("analysis"), "\(seen.map(\.phase))")
        XCTAssert(seen.map(\.phase).contains("farm"), "\(seen.map(\.phase))")
        XCTAssertEqual(seen.last?.phase, "encode", "\(seen.map(\.phase))")
        for (phase, text) in seen {
            let m = M.parsePrometheus(text)
            for p in JobInfo.phases {
                XCTAssertEqual(M.value(m, "lumiere_phase", ["job_id": "job", "phase": p]), p == phase ? 1 : 0, "scraped in \(phase): \(p)\n\(text)")
            }
            XCTAssertEqual(M.value(m, "lumiere_jobs", ["state": "running"]), 1, phase)
            XCTAssertEqual(M.value(m, "lumiere_jobs", ["state": "queued"]), 0, phase)
            XCTAssertEqual(M.value(m, "lumiere_job_info", ["job_id": "job", "film": clip, "output": output, "model": "lanczos", "device": "auto"]), 1, text)
            XCTAssertGreaterThan(M.value(m, "lumiere_job_dir_free_bytes", ["job_id": "job"]) ?? 0, 0, phase)
        }
        // By the encode the farm's series show the finished farm, and the job directory holds its results.
        let last = M.parsePrometheus(seen.last!.text)
        // Every segment's output frames, overlaps included (so more than the film's 50).
        let total = try XCTUnwrap(M.value(last, "lumiere_job_frames"), seen.last!.text)
        XCTAssertGreaterThanOrEqual(total, 50)
        XCTAssertEqual(M.value(last, "lumiere_frames_processed_total"), total, seen.last!.text)
        XCTAssertGreaterThan(M.value(last, "lumiere_job_dir_bytes", ["job_id": "job"]) ?? 0, 0)
        XCTAssertNotNil(M.value(last, "lumiere_worker_state", ["state": "idle"]), "the local worker, by state: \(seen.last!.text)")
    }
}

private final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: JobList
    init(_ list: JobList) { self.list = list }
    var value: JobList {
        get { lock.lock(); defer { lock.unlock() }; return list }
        set { lock.lock(); list = newValue; lock.unlock() }
    }
}

private final class LockedScrapes: @unchecked Sendable {
    private let lock = NSLock()
    private var scrapes: [(phase: String, text: String)] = []
    private var errors: [String] = []
    func add(_ phase: String, _ text: String) { lock.lock(); scrapes.append((phase, text)); lock.unlock() }
    func fail(_ why: String) { lock.lock(); errors.append(why); lock.unlock() }
    var all: [(phase: String, text: String)] { lock.lock(); defer { lock.unlock() }; return scrapes }
    var failures: [String] { lock.lock(); defer { lock.unlock() }; return errors }
}
