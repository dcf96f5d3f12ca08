import Foundation
import Metrics
import Prometheus

/// The farm's Prometheus metrics: snapshots go in through the swift-metrics API (counters, gauges) backed by a
/// swift-prometheus registry of our own (not the process-global `MetricsSystem`, so several coordinators or
/// tests in one process never share series); `render` gives the text exposition format.
///
/// Counters only ever grow: each update adds the difference to the previous snapshot (a value that went
/// down, e.g. a new job, adds nothing).
///
/// With `jobs`, also the jobs' series (phase, identity, queue, job directory's disk), read at each scrape: served for
/// a job's whole life, not only its farm phase. cluster/monitoring/ holds the dashboard and alert rules built on
/// these names (`MonitoringConfigTests` checks that every name they use is one this file exports).
public final class FarmMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let jobs: (@Sendable () -> JobList)?
    private let lock = NSLock()
    private var exported: [String: Double] = [:]
    /// The per-job series of the last rendering, by key: those of a job no longer listed are removed.
    private var jobSeries: [String: (name: String, dimensions: [(String, String)])] = [:]

    public init(jobs: (@Sendable () -> JobList)? = nil) {
        factory = PrometheusMetricsFactory(registry: registry)
        self.jobs = jobs
    }

    /// Brings every series up to date with `snapshot` (and the jobs) and returns the Prometheus text exposition.
    public func render(_ snapshot: FarmSnapshot) -> String {
        let list = jobs?() // outside the lock: it may walk a job directory
        let disks = list.map { ($0.running + $0.queued).map { job in job.directory.flatMap(DiskUsage.measure) } }
        return lock.withLock {
            update(snapshot)
            if let list, let disks { update(list, disks: disks) }
            return registry.emitToString()
        }
    }

    private func update(_ list: JobList, disks: [DiskUsage?]) {
        gauge("lumiere_jobs", Double(list.running.count), [("state", "running")])
        gauge("lumiere_jobs", Double(list.queued.count), [("state", "queued")])
        var current: [String: (name: String, dimensions: [(String, String)])] = [:]
        func jobGauge(_ name: String, _ value: Double, _ dimensions: [(String, String)]) {
            gauge(name, value, dimensions)
            current[name + dimensions.map { "|\($0.0)=\($0.1)" }.joined()] = (name, dimensions)
        }
        for (job, disk) in zip(list.running + list.queued, disks) {
            let id = ("job_id", job.id)
            jobGauge("lumiere_job_info", 1, [id, ("film", job.film), ("output", job.output), ("model", job.model), ("device", job.device)])
            for phase in JobInfo.phases { jobGauge("lumiere_phase", job.phase == phase ? 1 : 0, [id, ("phase", phase)]) }
            if let disk {
                jobGauge("lumiere_job_dir_bytes", Double(disk.bytes), [id])
                jobGauge("lumiere_job_dir_free_bytes", Double(disk.freeBytes), [id])
            }
        }
        // A job that left the list (finished, cancelled, or its directory gone) leaves no series behind.
        for (key, series) in jobSeries where current[key] == nil {
            Gauge(label: series.name, dimensions: series.dimensions, factory: factory).destroy()
        }
        jobSeries = current
    }

    private func update(_ s: FarmSnapshot) {
        gauge("lumiere_job_frames", Double(s.framesTotal))
        count("lumiere_frames_processed_total", Double(s.framesDone))
        gauge("lumiere_frames_in_flight", Double(s.framesInFlight))
        gauge("lumiere_output_fps", s.outputFPS)
        gauge("lumiere_job_elapsed_seconds", s.elapsedSeconds)
        gauge("lumiere_eta_seconds", s.etaSeconds ?? -1)
        gauge("lumiere_job_finished", s.finished ? 1 : 0)
        for (state, value) in [("pending", s.segments.pending), ("running", s.segments.running),
                               ("ahead", s.segments.ahead),
                               ("done", s.segments.done), ("failed", s.segments.failed)] {
            gauge("lumiere_segments", Double(value), [("state", state)])
        }
        gauge("lumiere_queue_depth", Double(s.segments.pending))
        count("lumiere_retries_total", Double(s.retries))
        count("lumiere_speculative_copies_total", Double(s.speculativeCopies))
        count("lumiere_bytes_transferred_total", Double(s.bytesSent), [("direction", "to_workers")])
        count("lumiere_bytes_transferred_total", Double(s.bytesReceived), [("direction", "from_workers")])
        for state in WorkerSnapshot.State.allCases {
            gauge("lumiere_workers", Double(s.workers.filter { $0.state == state }.count), [("state", state.rawValue)])
        }
        for w in s.workers {
            let worker = [("worker", w.name), ("host", w.host), ("device", w.device ?? "")]
            // One series per state, 1 for the current one: workers by state and device, and which worker was lost.
            for state in WorkerSnapshot.State.allCases {
                gauge("lumiere_worker_state", w.state == state ? 1 : 0, worker + [("state", state.rawValue)])
            }
            gauge("lumiere_worker_fps", w.fpsLastMinute, worker)
            gauge("lumiere_worker_busy", w.segment == nil ? 0 : 1, worker)
            count("lumiere_worker_frames_processed_total", Double(w.framesProcessed), worker)
            count("lumiere_worker_segments_completed_total", Double(w.segmentsCompleted), worker)
            count("lumiere_worker_failures_total", Double(w.failures), worker)
            count("lumiere_worker_bytes_transferred_total", Double(w.bytesSent), worker + [("direction", "to_worker")])
            count("lumiere_worker_bytes_transferred_total", Double(w.bytesReceived), worker + [("direction", "from_worker")])
            count("lumiere_worker_busy_seconds_total", w.processingSeconds, worker + [("activity", "processing")])
            count("lumiere_worker_busy_seconds_total", w.transferSeconds, worker + [("activity", "transfer")])
        }
    }

    private func gauge(_ name: String, _ value: Double, _ dimensions: [(String, String)] = []) {
        Gauge(label: name, dimensions: dimensions, factory: factory).record(value)
    }

    private func count(_ name: String, _ total: Double, _ dimensions: [(String, String)] = []) {
        let key = name + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = max(0, total - (exported[key] ?? 0))
        exported[key] = max(total, exported[key] ?? 0)
        FloatingPointCounter(label: name, dimensions: dimensions, factory: factory).increment(by: delta)
    }
}
