import Foundation
import Logging
import Processors
import Transport

/// How `serve` runs.
public struct ServiceOptions: Sendable {
    public var stateDirectory: String
    /// Where workers connect (`tcp://*:5555` with CURVE keys, `tcp://127.0.0.1:5555`, `ipc:///path`).
    public var bind: String
    public var curve: (keys: CurveKeyPair, allowedWorkerKeys: [String])?
    /// A second control endpoint for other machines (CURVE, listed client keys only); nil: the Unix socket alone.
    public var remoteControl: RemoteControlOptions?
    public var insecure = false
    /// The web page, `/metrics`, `/farm.json` and `/status.json` for the life of the service: the queue, the running
    /// job's phase and the farm (one endpoint, open between jobs too, so an alert sees jobs queued with the farm idle).
    public var metricsPort: UInt16?
    public var metricsHost = "127.0.0.1"
    public var heartbeatInterval = 1.0
    /// Finished jobs kept in `jobs` (the oldest are forgotten beyond this).
    public var keepFinishedJobs = 200
    /// Jobs on the farm at once (`--running-jobs`): their segments are interleaved, strictly higher priority first and
    /// equal priorities sharing the workers. Each running job also analyses, cuts and encodes its film on this machine.
    public var runningJobs = 2

    public init(stateDirectory: String, bind: String) {
        self.stateDirectory = stateDirectory
        self.bind = bind
    }
}

/// `lumiere-coordinator serve`: a long-lived head-node coordinator with a persistent job queue (issue 18 item 1).
///
/// The shell around `JobQueue`: one `FarmCoordinator` bound for the life of the service and serving on this thread
/// (workers connect once and stay, heartbeated between jobs), the queue persisted in the state directory after every
/// change, requests answered on the control socket's own thread, and each running job on its own thread, run by the
/// same `FarmRestorePipeline` as `restore` (its job directory, journal, film writer and resume are `restore`'s) with
/// its segments put on the one farm, which interleaves them with the other running jobs' (`FarmScheduler`). A job
/// stopped by pause, a higher priority, SIGTERM or kill -9 continues from its journal without redoing a finished segment.
public final class FarmService: @unchecked Sendable {
    public let options: ServiceOptions
    public let state: StateDirectory
    let logger: Logger
    private let store: JobQueueStore
    private let lock = NSLock()
    private var queue = JobQueue()
    /// The jobs running (each on its own thread): their stop signal, and whether a stop was asked already (a second
    /// request of a `StopSignal` ends the process, so it is asked at most once).
    private var running: [Int: (stop: StopSignal, stopAsked: Bool)] = [:]
    /// `RestoreCommand.prepared` sets the process-wide models directory of `--models-dir`: one job prepares at a time.
    private static let preparing = NSLock()
    private var shuttingDown = false
    private var farm: FarmCoordinator?
    private var signals: [DispatchSourceSignal] = []
    private var signalCount = 0
    /// What each job's command line names for monitoring (model, job directory), parsed once per job.
    private var described: [Int: (model: String, directory: String)] = [:]
    /// Each running job's own pace, for its rate and ETA on the web page (the farm's rate is every job's).
    private var pace = JobPace()
    /// The port the service's endpoint listens on (nil without `metricsPort`), once `run` has started it.
    public private(set) var metricsPortServed: UInt16?

    public init(options: ServiceOptions, logger: Logger) {
        self.options = options
        self.state = StateDirectory(path: options.stateDirectory)
        self.logger = logger
        self.store = JobQueueStore(url: state.queueURL)
    }

    /// Runs until SIGINT/SIGTERM (the running job is stopped resumably first) or `shutdown()`.
    public func run() throws {
        try state.prepare()
        let lockDescriptor = try state.lock()
        defer { close(lockDescriptor) }
        var loaded = try store.load()
        loaded.slots = max(1, options.runningJobs)
        let recovered = loaded.recover()
        try store.save(loaded)
        lock.withLock { queue = loaded; apply(recovered) }

        try EndpointPolicy.validateBind(options.bind, keysConfigured: options.curve != nil, insecure: options.insecure)
        var configuration = FarmCoordinatorConfiguration(bindEndpoint: options.bind, workDirectory: state.incomingURL, curve: options.curve)
        configuration.insecure = options.insecure
        configuration.heartbeatInterval = options.heartbeatInterval
        let farm = FarmCoordinator(configuration: configuration, logger: logger)
        let bound = try farm.bind()
        defer { farm.close() }
        lock.withLock {
            self.farm = farm
            for (id, job) in running { start(id, stop: job.stop, on: farm) } // recovered jobs resume at once
        }
        // One endpoint for the life of the service (issue 18 items 2, 3): jobs run with no endpoint of their own.
        var endpoint: JobEndpoint?
        if let port = options.metricsPort {
            var monitoring = MonitoringOptions()
            monitoring.metricsHost = options.metricsHost
            endpoint = try JobEndpoint(options: monitoring, port: port, jobs: { [weak self] in self?.jobList() ?? JobList() })
            endpoint?.attach(farm.monitor)
            metricsPortServed = endpoint?.port
        }
        defer { endpoint?.stop() }

        let control = ControlServer(state: state) { [self] request, _ in answer(request) }
        try control.start()
        defer { control.stop() }
        let remoteControl = try options.remoteControl.map { try startRemoteControl($0) }
        defer { remoteControl?.stop() }
        installSignalHandlers()
        defer { for source in signals { source.cancel() } }
        FileHandle.standardError.write(Data("""
            serving jobs from \(state.url.path) (submit with: lumiere-coordinator submit FILM -o OUT --state-dir \(state.url.path)); \
            workers connect with: lumiere-worker --connect \(FarmRestorePipeline.reachable(bound))\n
            """.utf8))

        // Jobs start on their own threads (`apply`); this thread serves the farm until the service stops and every
        // job thread has ended (each needs the farm to drain its segments in flight).
        try farm.serve { lock.withLock { !(shuttingDown && running.isEmpty) } }
        logger.notice("service stopped; queued jobs continue when it starts again")
    }

    /// Stops the service as SIGTERM does: the running jobs stop at the end of the segments in hand (resumable).
    public func shutdown() {
        lock.withLock {
            shuttingDown = true
            for id in running.keys { askToStop(id) }
        }
    }

    // MARK: Jobs

    /// One run of a job, on its own thread.
    private func run(job id: Int, stop: StopSignal, on farm: FarmCoordinator) {
        guard let job = lock.withLock({ () -> JobQueue.Job? in
            queue.started(id, now: FarmService.now)
            persist()
            return queue.job(id)
        }) else { lock.withLock { running[id] = nil }; return }
        var jobLogger = logger
        jobLogger[metadataKey: "job"] = "\(id)"
        jobLogger.notice("job \(id) starting (run \(job.runs)): \(job.film) → \(job.output)")
        let outcome: JobQueue.Outcome
        do {
            let (settings, options) = try FarmService.preparing.withLock { try prepare(job, farm: farm) }
            let pipeline = FarmRestorePipeline(settings: settings, options: options, logger: jobLogger,
                                               warn: { jobLogger.warning("\($0)") })
            pipeline.stop = stop
            let summary = try pipeline.run()
            outcome = .completed("wrote \(summary.frames) frames, \(summary.size) at \(summary.rate) fps in \(String(format: "%.1f", summary.seconds)) s")
        } catch let error where StopSignal.isStop(error) {
            outcome = .stopped
        } catch {
            outcome = .failed("\(error)")
        }
        jobLogger.notice("job \(id) ended: \(outcome)")
        lock.withLock {
            running[id] = nil
            apply(queue.ended(id, outcome, now: FarmService.now))
            queue.prune(keepFinished: self.options.keepFinishedJobs)
            persist()
        }
    }

    /// The job's `restore` command line, as `restore` would run it, on this service's farm.
    private func prepare(_ job: JobQueue.Job, farm: FarmCoordinator) throws -> (RestoreSettings, FarmOptions) {
        ModelLocator.commandLineDirectory = nil // one job's --models-dir is not the next one's
        var command = try RestoreCommand.parse(job.arguments)
        command.resolvePaths(against: job.directory)
        var (settings, options) = try command.prepared()
        settings.quiet = true // progress lines of every job would bury the service's log; `jobs` shows progress
        options.sharedFarm = farm
        options.farmJob = FarmJobPlacement(id: job.id, priority: job.priority)
        options.localWorkers = 0
        var monitoring = MonitoringOptions()
        monitoring.liveView = .off
        monitoring.report = false
        monitoring.metricsPort = nil // the service's own endpoint serves every job (`run`)
        options.monitoring = monitoring
        return (settings, options)
    }

    // MARK: Requests (control thread)

    func answer(_ request: ControlRequest) -> ControlReply {
        lock.withLock { () -> ControlReply in
            do {
                switch request.command {
                case .jobs:
                    return ControlReply(jobs: views())
                case .submit:
                    guard let arguments = request.arguments, let directory = request.directory else {
                        return ControlReply(error: "submit needs the restore arguments and a directory", status: 64)
                    }
                    var command = try RestoreCommand.parse(arguments)
                    command.resolvePaths(against: directory)
                    if let other = queue.jobs.first(where: { !$0.state.isFinal && $0.output == command.output }) {
                        return ControlReply(error: "job \(other.id) (\(other.state.rawValue)) writes \(command.output) already; cancel it first or choose another -o", status: 64)
                    }
                    let (id, directives) = queue.submit(film: command.input, output: command.output, arguments: arguments, directory: directory,
                                                        priority: request.priority ?? 0, now: FarmService.now)
                    try persistOrThrow()
                    apply(directives)
                    logger.notice("job \(id) submitted: \(command.input) → \(command.output), priority \(request.priority ?? 0)")
                    return ControlReply(job: id)
                case .cancel, .pause, .resume, .priority:
                    guard let id = request.job else { return ControlReply(error: "\(request.command.rawValue) needs a job id", status: 64) }
                    let directives: [JobQueue.Directive]
                    switch request.command {
                    case .cancel: directives = try queue.cancel(id, now: FarmService.now)
                    case .pause: directives = try queue.pause(id)
                    case .resume: directives = try queue.resume(id)
                    default:
                        guard let priority = request.priority else { return ControlReply(error: "priority needs a value", status: 64) }
                        directives = try queue.setPriority(id, priority)
                    }
                    try persistOrThrow()
                    apply(directives)
                    if request.command == .priority, running[id] != nil, let priority = request.priority {
                        farm?.setPriority(job: id, priority) // its segments on the farm from the next free worker on
                    }
                    logger.notice("job \(id): \(request.command.rawValue)\(request.priority.map { " \($0)" } ?? "")")
                    return ControlReply(job: id)
                }
            } catch let error as JobQueueError {
                return ControlReply(error: error.description, status: 64)
            } catch {
                // A command line the service cannot parse (the client checked it: versions differ?) or a queue it cannot save.
                return ControlReply(error: "\(error)", status: 1)
            }
        }
    }

    /// Rows for `jobs`, each running job with its progress on the farm.
    private func views() -> [JobView] {
        queue.jobs.map { job in
            let live = running[job.id] != nil ? farm?.progress(of: job.id) : nil
            return JobView(id: job.id, state: job.state.rawValue, priority: job.priority, framesDone: live?.done, framesTotal: live?.total,
                           runs: job.runs, film: job.film, output: job.output, message: job.message)
        }
    }

    /// The queue as `/metrics` and the web page show it: the running jobs in the phase their stop signal last saw, and
    /// the jobs waiting for the farm (paused ones are not waiting: a farm idle beside them is no alert).
    func jobList() -> JobList {
        lock.withLock {
            var list = JobList()
            for job in queue.jobs {
                switch job.state {
                case .running, .pausing, .cancelling:
                    var info = describe(job)
                    if let current = running[job.id] { info.phase = current.stop.phase ?? "starting" }
                    if let frames = farm?.progress(of: job.id) {
                        info.frames = pace.observe(info.id, JobFrames(done: frames.done, total: frames.total),
                                                   at: ProcessInfo.processInfo.systemUptime)
                    }
                    list.running.append(info)
                case .queued:
                    list.queued.append(describe(job))
                default:
                    break
                }
            }
            pace.keep(only: Set(list.running.map(\.id)))
            return list
        }
    }

    /// Under the lock.
    private func describe(_ job: JobQueue.Job) -> JobInfo {
        if described[job.id] == nil {
            var model = RestoreSettings.defaultProcessor
            var directory = OutputTarget(job.output, overwrite: true).defaultJobDirectory.path
            if var command = try? RestoreCommand.parse(job.arguments) {
                command.resolvePaths(against: job.directory)
                model = command.processor
                if let jobDir = command.jobDir { directory = jobDir }
            }
            described[job.id] = (model, directory)
        }
        let (model, directory) = described[job.id]!
        return JobInfo(id: "\(job.id)", film: job.film, output: job.output, model: model, device: "farm workers", directory: directory)
    }

    // MARK: Directives (under the lock)

    private func apply(_ directives: [JobQueue.Directive]) {
        for directive in directives {
            switch directive {
            case .start(let id):
                let stop = StopSignal()
                stop.firstStopMessage = "job \(id): stopping at the end of the segments in hand (it resumes from its journal)\n"
                running[id] = (stop, false)
                guard let farm else { continue } // recovering before the farm is bound: `run` starts them
                start(id, stop: stop, on: farm)
            case .stop(let id):
                askToStop(id)
            }
        }
    }

    /// Under the lock.
    private func start(_ id: Int, stop: StopSignal, on farm: FarmCoordinator) {
        let thread = Thread { [self] in run(job: id, stop: stop, on: farm) }
        thread.name = "job \(id)"
        thread.stackSize = 16 << 20 // the pipeline's analysis and encoders run here, as on the main thread of `restore`
        thread.start()
    }

    /// Under the lock.
    private func askToStop(_ id: Int) {
        guard let current = running[id], !current.stopAsked else { return }
        running[id]!.stopAsked = true
        current.stop.request()
    }

    private func persist() {
        do { try persistOrThrow() } catch { logger.error("\(error)") }
    }

    private func persistOrThrow() throws { try store.save(queue) }

    /// Wall-clock seconds: submission and finish times survive a restart.
    static var now: Double { Date().timeIntervalSince1970 }

    private func installSignalHandlers() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let count = self.lock.withLock { self.signalCount += 1; return self.signalCount }
                if count > 1 {
                    FileHandle.standardError.write(Data("stopped at once; the queue and every job's journal are kept\n".utf8))
                    exit(StopSignal.exitCode)
                }
                FileHandle.standardError.write(Data("stopping the service: the running job finishes the segments in hand (again to stop at once)\n".utf8))
                self.shutdown()
            }
            source.resume()
            signals.append(source)
        }
    }
}
