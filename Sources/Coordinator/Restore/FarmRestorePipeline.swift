import CommandLineSupport
import Foundation
import Inference
import Logging
import Media
import Planning
import Processors
import Shared
import Transport

/// How `restore` uses the farm.
public struct FarmOptions: Sendable {
    /// Endpoint to bind for remote workers (`tcp://*:5555`); nil = start local workers over ipc.
    public var bind: String?
    /// Local worker processes to start (nil: enough to use the machine's cores). 0 with `--bind`: remote only.
    public var localWorkers: Int?
    /// Threads per local worker (nil: cores / workers).
    public var threadsPerWorker: Int?
    /// Job directory (plan, segment files, journal); nil: `OUTPUT.lumiere-job` beside the output.
    public var jobDirectory: String?
    /// Keep the job directory after success (it is always kept after a failure, for resuming).
    public var keepJobDirectory = false
    /// Longest segment, in seconds of film.
    public var maxSegmentSeconds: Double = 10
    /// Frames two neighbouring segments of one shot share (context for temporal processing, room for the seam blend).
    /// nil: the recipe's (`RenderRecipe.defaultOverlapFrames`: none for chains that are exact in any segment).
    /// Shrunk to a third of the segment length when segments are very short.
    public var overlapFrames: Int?
    /// Segment inputs written ahead of the farm at most while the film streams (backpressure, `InputBacklog`); nil:
    /// 2 × workers + 2, following the workers registered. `Int.max`: unbounded (as before; tests compare the two).
    public var inputsAhead: Int?
    /// Sources whose inputs must be lossless (image sequences, interlaced video, codecs not proven to cut) stream too:
    /// each segment's lossless input is written as its shot closes. Off: the classic passes (the whole film analysed,
    /// then split, before the first segment is handed out), kept for comparisons.
    public var streamLosslessInputs = true
    /// Shot detection (segments never cross a shot boundary).
    public var shotDetection = ShotDetectorSettings()
    /// A shot list from `lumiere-coordinator shots --json`, used when it matches the input and settings.
    public var shotsFile: String?
    public var curve: (keys: CurveKeyPair, allowedWorkerKeys: [String])?
    public var insecure = false
    public var heartbeatInterval = 1.0
    /// Live view, metrics/status HTTP endpoint and end-of-job throughput report (docs/monitoring.md).
    public var monitoring = MonitoringOptions()
    /// Workers encode the frames no seam touches in the final codec and the head node joins the pieces, encoding only
    /// the seams (issue 16). Off, or for outputs that cannot be joined (image sequences), every result comes back
    /// lossless and the head node encodes the whole film, as before.
    public var workersEncode = true
    /// Render the segments in this process, one after another with every thread, instead of on workers over the farm
    /// protocol: the same plan, journal, resume and assembly, no sockets (`restore --in-process`).
    public var inProcess = false
    /// Where the local workers, or this process with `inProcess`, run the models (`--device`). Not part of the recipe:
    /// the results are the same up to float rounding, and a resumed job may use another device.
    public var device = DeviceRequest.auto
    /// How a GPU of the local workers (or this process) stores the blobs (`--precision`). Not part of the recipe, like
    /// `device`: it is a property of the worker's hardware (fp16 pays only where the device's fp16 path is fast), and
    /// its frames are at least 45 dB from fp32's (70–77 dB on real frames in GPUPrecisionTests, 55.6 dB on
    /// DeviceChoiceTests' synthetic frame; invisible), so a farm of fp16, fp32 and CPU workers makes one film and a
    /// resumed job keeps its finished segments. Remote workers choose their own.
    public var precision = GPUPrecision.fp32
    /// A coordinator already bound, with its own workers (`serve`): the job runs on it, starts no local workers and
    /// leaves it open for the next job.
    public var sharedFarm: FarmCoordinator?
    /// The job's place on `sharedFarm` while it serves (`FarmCoordinator.serve`): its segments are interleaved with
    /// the other jobs' there, and a stop drains only this job.
    public var farmJob: FarmJobPlacement?

    public init(bind: String? = nil, localWorkers: Int? = nil, threadsPerWorker: Int? = nil, jobDirectory: String? = nil) {
        self.bind = bind
        self.localWorkers = localWorkers
        self.threadsPerWorker = threadsPerWorker
        self.jobDirectory = jobDirectory
    }
}

/// `restore` on the farm: analyse → plan segments → write segment inputs → workers restore them → stitch
/// the results in order → encode once with the source's audio. The output appears only when complete.
public final class FarmRestorePipeline {
    public let settings: RestoreSettings
    public let options: FarmOptions
    private let logger: Logger
    private let warn: (String) -> Void
    /// Ctrl-C/SIGTERM in every phase (the CLI installs it; tests call `request()`).
    public var stop = StopSignal()
    /// The whole job's ETA, on every phase's progress line (set once the job's cost is known).
    private var eta: JobETA?
    /// The container's frame count in output frames (nil: unknown), the farm phase's progress total.
    private var estimatedOutputFrames: Int64?
    /// The farm's last run: segments each worker delivered.
    private var segmentsByWorker: [String: Int] = [:]
    /// The job's HTTP endpoint while `run` runs (`--metrics-port`); the farm phase attaches its monitor to it.
    private var endpoint: JobEndpoint?
    /// The port `/metrics` is served on while `run` runs (nil: no `--metrics-port`, or not running).
    public var metricsPort: UInt16? { endpoint?.port }
    /// Called once, when the first segment is handed to a worker (or rendered in-process), on the executor's thread.
    public var onFirstAssignment: (@Sendable (RestorePipeline.Summary.FirstAssignment) -> Void)?
    /// Called with each segment's index after it is rendered in-process (`--in-process`), before it is recorded, on the
    /// executor's thread (tests: a slow executor, and what the job directory holds while a segment is in hand).
    public var onSegmentRendered: (@Sendable (SegmentIndex) -> Void)?

    public init(settings: RestoreSettings, options: FarmOptions, logger: Logger = Logger(label: "lumiere-coordinator"),
                warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }) {
        self.settings = settings
        self.options = options
        self.logger = logger
        self.warn = warn
    }

    @discardableResult
    public func run() throws -> RestorePipeline.Summary {
        let started = Date()
        let target = OutputTarget(settings.output, overwrite: settings.overwrite)
        let outputURL = target.url
        try target.validate(input: settings.input)
        if let bind = options.bind { try EndpointPolicy.validateBind(bind, keysConfigured: options.curve != nil, insecure: options.insecure) }
        let jobDirectory = (options.jobDirectory.map { URL(fileURLWithPath: $0) } ?? target.defaultJobDirectory).standardizedFileURL
        // /metrics for the whole job (issue 18 item 3): from here to the end, whatever the phase.
        let served = try startEndpoint(jobDirectory: jobDirectory)
        defer { served?.stop(); endpoint = nil }
        // A GPU asked for by name must exist here (the local workers run here): said now, not by each worker at its start.
        if options.device != .auto, options.device != .cpu, options.inProcess || options.localWorkers != 0 { _ = try options.device.resolve() }

        // 1. What the source is; everything checked before any heavy work.
        let probe = try ConstantRateReader(source: settings.source, threads: settings.threads)
        let stream = probe.stream
        RestorePipeline.noteOtherVideoStreams(probe.input, warn: warn)
        let rate = probe.rate
        let fields = try probe.fieldPlan()
        settings.noteFields(fields)
        let geometry = try OutputGeometry(source: stream.size!, sampleAspect: stream.sampleAspectRatio ?? .one, request: settings.geometry.stored(rotation: stream.rotation))
        let encoding = settings.outputEncoding(sourcePixelFormat: stream.pixelFormat)
        var recipe = try settings.recipe(source: stream.size!, geometry: geometry, inputRate: rate, fields: fields,
                                         outputPixelFormat: encoding.pixelFormat)
        if options.workersEncode { recipe.delivery = FarmRestorePipeline.delivery(encoding: encoding, geometry: geometry, output: outputURL) }
        _ = try FilterFactory.make(recipe, threads: 1) // a bad processor name or missing model fails now, not on every worker
        _ = try RenderRecipe(json: recipe.json()) // what every worker will decode: refused here, not on each of them
        // What this will cost, before any work: a model running above the asked scale, and the whole job's time.
        let cost = JobCost(processor: recipe.processor, modelScale: recipe.modelScale, source: stream.size!, content: geometry.content,
                           inputFrames: probe.estimatedFrameCount, retime: recipe.retime)
        let overlap = options.overlapFrames ?? recipe.defaultOverlapFrames
        let maxSegmentFrames = FarmRestorePipeline.maxSegmentFrames(options: options, rate: rate, estimatedFrames: probe.estimatedFrameCount)
        let farm = FarmRestorePipeline.costFarm(options: options, threads: settings.threads, maxSegmentFrames: maxSegmentFrames, overlapFrames: overlap)
        // Timed on a frame of the film (a few seconds at most); skipped when nothing would show it. A failure here (a GPU
        // fault, say) costs the estimate, not the job: the workers have their own retries and fallbacks.
        // Not under the GPU fault hook (LUMIERE_GPU_FAULT, tests): it counts the process's device calls, and the timing's
        // own would move the planned fault off the render it is meant for.
        var measurement: JobCost.Measurement?
        if !settings.quiet || LogFormat.current == .json, ProcessInfo.processInfo.environment["LUMIERE_GPU_FAULT"] == nil {
            do {
                measurement = try JobCost.measure(recipe: recipe, source: settings.source, rate: rate, threads: farm.threads,
                                                  device: options.device == .cpu ? .cpu : (try? options.device.resolve().device) ?? .cpu)
            } catch where !StopSignal.isStop(error) {
                warn("no time estimate before starting: timing a frame of the film failed (\(error))")
            }
        }
        cost.report(measurement: measurement, farm: farm, quiet: settings.quiet)
        eta = JobETA(frames: probe.estimatedFrameCount, farmSeconds: measurement.flatMap { cost.seconds($0, farm: farm) })
        if let retime = recipe.retime {
            _ = try InterpolatorFactory.make(retime.interpolator, threads: 1)
            logger.info("retiming \(rate) → \(retime.outputRate) fps with \(retime.interpolator), \(retime.order.rawValue)")
        }
        let outputRate = recipe.retime?.outputRate ?? rate
        // While shots stream in, the farm's total is only known at the end: its progress counts toward this estimate.
        estimatedOutputFrames = probe.estimatedFrameCount.map { (Rational($0) * outputRate / rate).rounded }
        let identity = try settings.source.identity()
        // A --shots file that is broken or absurd is a mistake to report now, not a reason to guess.
        let givenShots = try options.shotsFile.map { try ShotAnalysis.load(file: URL(fileURLWithPath: $0), estimatedFrames: probe.estimatedFrameCount) }

        // The job directory: never one whose clean-up could touch the user's files (docs/reliability.md).
        try JobLocation.check(jobDirectory, input: settings.input, output: outputURL)
        let job = try JobDirectory(url: jobDirectory)
        try job.removeStalePartialOutputs()
        // A job that fails before any segment is finished leaves nothing worth resuming: its files go. A job stopped
        // on request is kept whatever it holds (its analysis spares the next run a pass over the film).
        // So does one whose film cannot be read as it is (broken timestamps): the remux its error asks for is another
        // file, another identity, so none of this one's finished segments would be reused. (Since the ramp at the film's
        // start a segment can be finished before the analysis reaches the damage: HostileMediaTests.)
        var succeeded = false, stopped = false, inputUnusable = false
        defer { if !succeeded && !stopped && (job.entries.isEmpty || inputUnusable) { job.removeOwnFiles() } }

        // The plan's settings: with the ramp at the film's start where an open shot's parts go out (`ShotSplit`).
        let planned = ShotPlanner.settings(maxSegmentFrames: maxSegmentFrames, overlapFrames: min(overlap, maxSegmentFrames / 3), rate: rate,
                                           retiming: try recipe.retime.map { try Retiming(inputRate: $0.inputRate, outputRate: $0.outputRate) })
        var summary: RestorePipeline.Summary?
        var shots = givenShots, streaming = true, packets = true, reanalysed = false
        while summary == nil {
            do {
                summary = try restore(job: job, identity: identity, givenShots: shots, probe: probe, recipe: recipe, encoding: encoding,
                                      geometry: geometry, outputRate: outputRate, outputURL: outputURL, streaming: streaming, packets: packets,
                                      segments: planned)
            } catch let error where StopSignal.isStop(error) {
                stopped = true
                throw error
            } catch let error as MediaError {
                if case .brokenTimestamps = error { inputUnusable = true }
                throw error
            } catch let stale as StaleAnalysis where !reanalysed {
                // The input changed in a way its identity does not show (same size and ends): its cuts may have moved
                // too, so it is analysed again; segments whose frames are unchanged are still reused.
                warn("\(stale); analysing it again")
                unlink(job.url.appendingPathComponent("shots.json").path)
                shots = nil
                reanalysed = true
            } catch let unavailable as StreamingAnalysis.Unavailable where streaming && packets {
                // Found while decoding (damage, broken timestamps, keyframes far apart): lossless inputs, streaming still
                // (or the classic passes); every segment finished meanwhile is reused. Segments released as packet cuts
                // and not finished are released again with lossless inputs: the job restarts from the film's start.
                logger.notice("\(unavailable)")
                packets = false
                streaming = options.streamLosslessInputs
            }
        }
        guard var summary else { throw RestoreError.frameCountMismatch(expected: -1, written: -1) }
        succeeded = true
        if !options.keepJobDirectory {
            let left = job.removeOwnFiles()
            if !left.isEmpty { warn("left \(jobDirectory.path) in place: it holds files that are not Lumière's (\(left.prefix(3).joined(separator: ", ")))") }
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Starts the job's HTTP endpoint when `--metrics-port` asks for one: this job, running, in the phase `stop` last began.
    private func startEndpoint(jobDirectory: URL) throws -> JobEndpoint? {
        guard let port = options.monitoring.metricsPort else { return nil }
        let job = JobInfo(id: jobDirectory.lastPathComponent, film: settings.input, output: settings.output, model: settings.processor,
                          device: options.inProcess || options.localWorkers != 0 ? options.device.description : "remote workers",
                          directory: jobDirectory.path)
        let stop = self.stop
        endpoint = try JobEndpoint(options: options.monitoring, port: port, jobs: {
            var running = job
            running.phase = stop.phase ?? "starting"
            return JobList(running: [running])
        })
        return endpoint
    }

    /// The input changed since its shot list was made (found while decoding it again).
    enum StaleAnalysis: Error, CustomStringConvertible {
        case frameCount(listed: Int, decoded: Int)
        case framesChanged(segments: Int)
        var description: String {
            switch self {
            case .frameCount(let listed, let decoded): return "the input has \(decoded) frames, not the \(listed) its shot list says: it changed since the analysis"
            case .framesChanged(let n): return "\(n) finished segment(s) no longer match the input's frames: the file changed since the analysis"
            }
        }
    }

    private func restore(job: JobDirectory, identity: String, givenShots: ShotList?, probe: ConstantRateReader, recipe: RenderRecipe, encoding: VideoEncoding,
                         geometry: OutputGeometry, outputRate: Rational, outputURL: URL, streaming: Bool, packets: Bool,
                         segments plannerSettings: SegmentPlannerSettings) throws -> RestorePipeline.Summary {
        let started = Date()
        let rate = probe.rate
        // Plan: segments inside shots, long shots split (with the overlap, if any), planned shot by shot (`ShotPlanner`:
        // exactly the whole-film plan); retimed, the same segments in output frames (what each worker makes, what the
        // stitcher blends).
        let retiming = try recipe.retime.map { try Retiming(inputRate: $0.inputRate, outputRate: $0.outputRate) }
        let planner = try ShotPlanner(settings: plannerSettings, retiming: retiming)

        // Resume: results the journal lists and the disk confirms are candidates; each is reused only if its frames are
        // the ones it was made from (checked as its shot is planned), the rest are (re)done.
        let dropped = try job.verify()
        if !dropped.isEmpty { logger.info("journal: \(dropped.count) damaged results will be redone") }
        job.removeUnlistedResults()
        job.removeInputs()

        let board = ResultBoard(), feed = SegmentFeed(), film = GrowingPlan()
        // Streaming (issue 16 item 1): one decode pass finds the shots and hands each shot's segments out as it closes,
        // their inputs cut from the source's packets, or written losslessly by a trailing decode where they cannot be.
        let known = try matchingShotList(identity: identity, given: givenShots, rate: rate, job: job, estimated: probe.estimatedFrameCount)
        var inputs: StreamingAnalysis.Inputs?
        if streaming {
            var decided: Result<PacketIndex, SegmentInputWriter.Refusal> = packets
                ? try SegmentInputWriter.cutIndex(source: settings.source, reader: probe) : .failure(.init(reason: "found while decoding"))
            if case .success(let index) = decided {
                // The cost rule, once for the whole film before anything goes out (`PacketIndex.estimatedCuts`).
                let estimate = index.estimatedCuts(frames: probe.estimatedFrameCount.map { Int($0) } ?? index.count, segmentFrames: plannerSettings.maxSegmentFrames,
                                                   rate: rate, start: probe.startTime)
                if let why = SegmentInputCut.lossless(packets: estimate.packets, bytes: estimate.bytes, frames: estimate.frames,
                                                      pixelsPerFrame: probe.stream.pixelCount) {
                    decided = .failure(.init(reason: why))
                }
            }
            switch decided {
            case .success(let index): inputs = .packets(try SegmentInputCutWriter(source: settings.source, index: index))
            case .failure(let why):
                if packets { logger.notice("segment inputs are lossless FFV1 files, not the source's packets: \(why.reason)") }
                if options.streamLosslessInputs {
                    // Two inputs of one shot share the overlap and both sides' restoration context: kept, not decoded again.
                    let radius = try recipe.film.map { try TemporalChain(film: $0).radius } ?? 0
                    inputs = .lossless(LosslessInputCutter(source: settings.source, rate: rate, keep: plannerSettings.overlapFrames + 2 * radius))
                }
            }
        }
        let release: SegmentRelease
        var analysis: StreamingAnalysis?
        var classicShots: ShotList?
        let gate = InputGate(fixed: options.inputsAhead)
        if let inputs {
            release = try SegmentRelease(job: job, identity: identity, recipe: recipe, rate: rate, board: board, feed: feed, film: film,
                                         analysed: known == nil, gate: gate, warn: warn)
            analysis = StreamingAnalysis(source: settings.source, rate: rate, threads: settings.threads, known: known, detection: options.shotDetection,
                                         planner: planner, release: release, inputs: inputs, identity: identity, stop: stop,
                                         estimatedFrames: probe.estimatedFrameCount, quiet: settings.quiet, logger: logger,
                                         executorPhase: options.inProcess ? "restore" : "farm")
        } else {
            let (shots, analysed) = try shotList(known: known, identity: identity, rate: rate, job: job, estimated: probe.estimatedFrameCount)
            release = try SegmentRelease(job: job, identity: identity, recipe: recipe, rate: rate, board: board, feed: feed, film: film,
                                         analysed: analysed, warn: warn)
            try classic(shots: shots, planner: planner, release: release, job: job, rate: rate)
            try writePlan(job: job, identity: identity, recipe: recipe, rate: rate, shots: shots, film: film, settings: plannerSettings)
            classicShots = shots
        }
        defer { analysis?.cancel(); _ = analysis?.join() }
        if release.contextRadius > 0 {
            logger.info("film restoration: up to \(release.contextRadius) context frames either side of each segment, inside its shot")
        }

        // The film is written from now on, in film order, as segments arrive (stitched, blending overlaps where the
        // versions agree; joined from the workers' pieces, or encoded here); after the farm only its tail is left.
        let video = MediaWriter.VideoSettings(size: geometry.canvas, rate: outputRate, startTime: probe.startTime, encoding: encoding,
                                              color: .defaultFor(height: geometry.canvas.height), threads: settings.threads,
                                              sequenceStart: settings.sequenceStart)
        let assembly = FilmAssembly(setup: .init(plan: film, geometry: geometry, video: video, joined: recipe.delivery != nil, source: settings.source,
                                                 seamFile: try job.ownedDirectory("seams").appendingPathComponent("seam.mkv"), quiet: settings.quiet, eta: eta),
                                    board: board, target: OutputTarget(outputURL.path, overwrite: settings.overwrite), stop: stop, logger: logger, warn: warn)
        try assembly.start(job: job)
        var assembled = false
        defer { if !assembled { assembly.cancel() } }
        let first = FirstAssignment(started: started, position: { [analysis] in analysis?.position }, then: onFirstAssignment)
        do {
            if options.inProcess {
                try renderInProcess(feed: feed, release: release, recipe: recipe, first: first, begun: { analysis?.start() })
            } else {
                try runFarm(feed: feed, release: release, recipe: recipe, job: job, board: board, first: first, gate: gate, begun: { analysis?.start() })
            }
            if let analysis {
                let outcome = try analysis.join().get()
                if outcome.analysed { try job.writeFile("shots.json", try outcome.shots.encoded()) }
                try writePlan(job: job, identity: identity, recipe: recipe, rate: rate, shots: outcome.shots, film: film, settings: plannerSettings)
                classicShots = outcome.shots
            }
        } catch {
            analysis?.cancel()
            let analysed = analysis?.join()
            // Phases overlap here: a stop reports the phase it came in, wherever it was noticed first.
            if StopSignal.isStop(error) || stop.isRequested, analysis != nil { throw RestoreError.interrupted(phase: stop.stoppedIn ?? "analysis") }
            // The analysis's own failure (a stale shot list, cuts found impossible midway) explains the executor's.
            if case .failure(let cause)? = analysed, !(cause is StreamingAnalysis.Cancelled), !(cause is ResultBoard.Cancelled) { throw cause }
            throw error
        }
        let counts = release.counts
        // Results of other settings or an older plan: known to be unwanted only now that every shot is planned.
        let stale = try job.prune(keeping: Set(release.keys))
        if !stale.isEmpty { logger.info("journal: \(stale.count) results of other settings or an older plan removed") }
        logger.info("plan: \(classicShots?.frameCount ?? 0) frames, \(classicShots?.boundaries.count ?? 0) shot boundaries, \(film.planned.reduce(0) { $0 + $1.segments.count }) segments, \(counts.restored) to restore")
        try stop.begin("encode")
        let written: Int64
        do { written = try assembly.finish() } catch let error as AssemblyError {
            // A result that cannot be stitched or joined is dropped from the journal: the next run redoes that segment.
            if let shot = film.planned.first(where: { $0.segments.contains { $0.index == error.segment } }),
               let k = shot.segments.firstIndex(where: { $0.index == error.segment }) { try? job.forget(key: release.key(shot, k)) }
            throw error
        }
        assembled = true
        try job.removeStalePartialOutputs()
        var summary = RestorePipeline.Summary(frames: written, size: geometry.canvas, rate: outputRate, seconds: 0)
        summary.segmentsRestored = counts.restored
        summary.segmentsReused = counts.reused
        summary.framesWrittenDuringFarm = assembly.framesAtFarmEnd
        summary.firstAssignment = first.recorded
        summary.framesAnalysed = classicShots?.frameCount ?? 0
        summary.segmentsByWorker = segmentsByWorker
        return summary
    }

    /// The classic passes, for inputs that cannot be cut from the source's packets (or a stream that turned out not to
    /// be): the shot list (analysis pass, unless one matches), then one decode pass fingerprinting every segment and
    /// writing the inputs of those not finished; then the whole plan is released at once.
    private func classic(shots: ShotList, planner: ShotPlanner, release: SegmentRelease, job: JobDirectory, rate: Rational) throws {
        var planner = planner
        let planned = try shots.shots.enumerated().map { try planner.plan(shotEndingAt: $0.element.upperBound, isLast: $0.offset == shots.shots.count - 1) }
        let entries = job.entries
        var targets: [SegmentInputWriter.Target] = []
        var writing = Set<SegmentIndex>()
        for shot in planned {
            for (k, segment) in shot.segments.enumerated() where !shot.output[k].input.isEmpty {
                let key = release.key(shot, k)
                let unfinished = entries[key] == nil
                if unfinished { writing.insert(segment.index) }
                targets.append(SegmentInputWriter.Target(segment: segment.index, frames: release.fileFrames(shot, k), file: unfinished ? release.inputFile(key) : nil))
            }
        }
        var fingerprints: [SegmentIndex: String] = [:]
        if !targets.isEmpty {
            fingerprints = try split(targets: targets, total: shots.frameCount, rate: rate, writing: !writing.isEmpty).fingerprints
        }
        try release.release(planned, fingerprints: fingerprints) { wanted in
            // Inputs of finished segments whose frames changed: written now (the others were in the pass above).
            let missing = wanted.filter { !writing.contains($0.segment) }
            if !missing.isEmpty { _ = try split(targets: missing, total: shots.frameCount, rate: rate, writing: true) }
        }
        release.finish()
    }

    /// plan.json: what this job made, for people and tools (the keys name the journal's results).
    private func writePlan(job: JobDirectory, identity: String, recipe: RenderRecipe, rate: Rational, shots: ShotList, film: GrowingPlan,
                           settings planner: SegmentPlannerSettings) throws {
        let planned = film.planned
        let segments = SegmentPlan(frameCount: shots.frameCount, settings: planner, shots: film.shotFrames, segments: planned.flatMap(\.segments))
        let interiors = recipe.delivery.map { _ in planned.flatMap { shot in
            zip(shot.interiors, shot.output).map { ($0.lowerBound - $1.input.lowerBound)..<($0.upperBound - $1.input.lowerBound) }
        } }
        let jobPlan = try RestoreJobPlan(input: self.settings.input, inputIdentity: identity, recipe: recipe, rate: rate, shots: shots, segments: segments,
                                         interiors: interiors)
        try job.writeFile("plan.json", try jobPlan.encoded())
    }

    /// The split pass over the whole source: inputs for the targets with a file, fingerprints for every target.
    private func split(targets: [SegmentInputWriter.Target], total: Int, rate: Rational, writing: Bool) throws -> SegmentInputWriter.Pass {
        try stop.begin("split")
        let progress = ProgressReporter(label: writing ? "split" : "check", total: Int64(total), quiet: settings.quiet, job: eta)
        let pass = try SegmentInputWriter.write(source: settings.source, rate: rate, targets: targets, logger: logger) {
            progress.update(done: Int64($0))
            try self.stop.checkpoint("split")
        }
        progress.finish(done: Int64(pass.frames))
        guard pass.frames == total else { throw StaleAnalysis.frameCount(listed: total, decoded: pass.frames) }
        return pass
    }

    /// A shot list that spares the analysis: `--shots` or the job directory's, when it matches the input and settings.
    private func matchingShotList(identity: String, given: ShotList?, rate: Rational, job: JobDirectory, estimated: Int64?) throws -> ShotList? {
        if let given {
            if ShotAnalysis.matches(given, inputIdentity: identity, rate: rate, settings: options.shotDetection) {
                logger.info("shots: reusing \(options.shotsFile ?? "")")
                return given
            }
            warn("the shot list \(options.shotsFile ?? "") was made for another input, rate or detection settings; detecting shots again")
        }
        let saved = job.url.appendingPathComponent("shots.json")
        if let list = try? ShotAnalysis.load(file: saved, estimatedFrames: estimated),
           ShotAnalysis.matches(list, inputIdentity: identity, rate: rate, settings: options.shotDetection) {
            logger.info("shots: reusing \(saved.path)")
            return list
        }
        return nil
    }

    /// The shot list: `known` (a matching list), else from an analysis pass (saved for next time).
    /// `analysed`: made by this run (so it describes the input as it is now).
    private func shotList(known: ShotList?, identity: String, rate: Rational, job: JobDirectory, estimated: Int64?) throws -> (list: ShotList, analysed: Bool) {
        if let known { return (known, false) }
        try stop.begin("analysis")
        let progress = ProgressReporter(label: "analyse", total: estimated, quiet: settings.quiet, job: eta)
        let list = try ShotAnalysis.analyse(source: settings.source, rate: rate, settings: options.shotDetection, threads: settings.threads) {
            progress.update(done: Int64($0))
            try self.stop.checkpoint("analysis")
        }
        progress.finish(done: Int64(list.frameCount))
        try job.writeFile("shots.json", try list.encoded())
        return (list, true)
    }

    /// The endpoint as another machine would write it: a wildcard bind is shown with this host's name.
    static func reachable(_ endpoint: String) -> String {
        guard endpoint.hasPrefix("tcp://0.0.0.0:") || endpoint.hasPrefix("tcp://*:") || endpoint.hasPrefix("tcp://[::]:") else { return endpoint }
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(cString: name) : "THIS-HOST"
        return "tcp://\(host):" + (endpoint.split(separator: ":").last.map(String.init) ?? "")
    }

    /// The job's final encoding for the workers, when its output can be joined from pieces: H.264 or FFV1 in a
    /// container that holds one stream header for the whole film (MP4, MOV, Matroska). Image sequences are written
    /// by the head node.
    static func delivery(encoding: VideoEncoding, geometry: OutputGeometry, output: URL) -> RenderRecipe.Delivery? {
        guard encoding.codec == .h264 || encoding.codec == .ffv1, let pixelFormat = encoding.pixelFormat,
              ["mp4", "m4v", "mov", "mkv"].contains(output.pathExtension.lowercased()) else { return nil }
        return RenderRecipe.Delivery(codec: encoding.codec.rawValue, crf: encoding.crf, preset: encoding.preset, pixelFormat: pixelFormat,
                                     canvasWidth: geometry.canvas.width, canvasHeight: geometry.canvas.height,
                                     offsetX: geometry.offsetX, offsetY: geometry.offsetY)
    }

    /// The in-process executor: each segment rendered here by the workers' own `SegmentRenderer` (the model loaded
    /// once, every thread) as soon as it is released, recorded in the journal and posted to the film's writer exactly
    /// as a worker's result is.
    /// `begun`: called once the executor's phase has begun (starts the streaming analysis).
    private func renderInProcess(feed: SegmentFeed, release: SegmentRelease, recipe: RenderRecipe, first: FirstAssignment, begun: () -> Void) throws {
        try stop.begin("restore")
        begun()
        let threads = settings.threads > 0 ? settings.threads : ProcessInfo.processInfo.activeProcessorCount
        let (engine, note) = try options.device.resolve()
        if let note { logger.notice("\(note)") }
        if let note = options.precision.note(for: engine) { logger.notice("\(note)") }
        let selection = DeviceSelection(engine, precision: options.precision) { [logger, warn] message, fault in
            if fault { warn(message) } else { logger.notice("\(message)") }
        }
        // The renderer (models loaded once, at the first segment) for the selection's device; made again after a GPU
        // fault, on the CPU engine.
        var loaded: (device: ComputeDevice, renderer: SegmentRenderer)?
        func renderer(_ device: ComputeDevice) throws -> SegmentRenderer {
            if let loaded, loaded.device == device { return loaded.renderer }
            let made = try SegmentRenderer(recipe: recipe, threads: threads, device: device, precision: selection.precision,
                                           note: selection.note)
            made.deviceNotes.forEach(selection.note)
            loaded = (device, made)
            return made
        }
        let scratch = try release.scratchDirectory()
        let recorder = release.recorder()
        defer { recorder.drain() } // a stop or an error: what finished is journaled before the job returns
        let progress = ProgressReporter(label: "restore", total: estimatedOutputFrames, quiet: settings.quiet, job: eta)
        var done = 0
        while let spec = try feed.next() {
            let index = spec.id.segment
            guard let released = release.lookup(index) else { continue }
            first.record()
            let output = scratch.appendingPathComponent("segment-\(index).mkv")
            let result: SegmentRenderer.Result
            do {
                // A GPU fault leaves the selection on the CPU engine (warned once): the segment is rendered again there.
                let attempt = { try selection.run { device in
                    try renderer(device).render(input: released.input, output: output, timing: spec.work.timing, interior: spec.work.interior,
                                                context: spec.work.context,
                                                progress: { progress.update(done: Int64(done + $0)) }, isCancelled: { self.stop.isRequested })
                } }
                do { result = try attempt() } catch is DeviceFault { result = try attempt() }
            } catch is SegmentRenderer.Cancelled {
                throw RestoreError.interrupted(phase: "restore")
            }
            guard result.frames == Int(spec.expectedOutputFrames) else {
                throw SegmentRenderer.RenderError.outputCountMismatch(expected: Int(spec.expectedOutputFrames), made: result.frames)
            }
            done += result.frames
            logger.info("segment \(index): \(result.summary)")
            onSegmentRendered?(index)
            try release.record(index, resultFile: output, frames: result.frames, recorder: recorder)
            try stop.checkpoint("restore")
        }
        try recorder.wait()
        progress.finish(done: Int64(done))
    }

    private func runFarm(feed: SegmentFeed, release: SegmentRelease, recipe: RenderRecipe, job: JobDirectory, board: ResultBoard,
                         first: FirstAssignment, gate: InputGate, begun: () -> Void) throws {
        // A whole plan with nothing to restore (every segment reused) needs no farm.
        let known = feed.peekComplete()
        if known.complete && known.count == 0 { return }
        try stop.begin("farm")
        begun()
        let jobDirectory = job.url
        let shared = options.sharedFarm
        let local = options.bind == nil && shared == nil
        let endpoint = options.bind ?? "ipc://\(FileManager.default.temporaryDirectory.path)/lumiere-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let farm: FarmCoordinator, bound: String
        if let shared {
            farm = shared
            bound = shared.configuration.bindEndpoint
        } else {
            var configuration = FarmCoordinatorConfiguration(bindEndpoint: endpoint, workDirectory: try job.ownedDirectory("incoming"), curve: options.curve)
            configuration.insecure = options.insecure
            configuration.heartbeatInterval = options.heartbeatInterval
            // Local workers start with the job: if none registers within a minute they failed to start (see the job's logs/).
            if local { configuration.scheduler.noWorkerTimeoutSeconds = 60 }
            farm = FarmCoordinator(configuration: configuration, logger: logger)
            bound = try farm.bind()
        }
        defer {
            if shared == nil { farm.close() }
            if local, endpoint.hasPrefix("ipc://") { try? FileManager.default.removeItem(atPath: String(endpoint.dropFirst(6))) }
        }

        let cores = ProcessInfo.processInfo.activeProcessorCount
        // More local workers than segments would only sit idle (and each costs a process and its memory). While the
        // film is still being analysed the number of segments is not known: one worker per core, and no more than the
        // cores when more are asked for (they would only compete for them, and a short film may have one segment).
        var workerCount = shared != nil ? 0 : options.localWorkers ?? (local ? cores : 0)
        if known.complete, workerCount > known.count {
            warn("starting \(known.count) local worker(s), not \(workerCount): there are only \(known.count) segment(s) to restore")
            workerCount = known.count
        } else if !known.complete, local, workerCount > cores {
            warn("starting \(cores) local worker(s), not \(workerCount): the film is still being analysed, and more than this machine's \(cores) cores would only compete for them")
            workerCount = cores
        }
        let threads = options.threadsPerWorker ?? max(1, (settings.threads > 0 ? settings.threads : cores) / max(1, workerCount))
        let workers = LocalWorkers()
        defer { workers.stop() }
        if workerCount > 0 {
            try workers.start(count: workerCount, threads: threads, device: options.device, precision: options.precision, endpoint: bound,
                              workDirectory: try job.ownedDirectory("workers"), logDirectory: try job.ownedDirectory("logs"))
        }
        if !local, shared == nil { FileHandle.standardError.write(Data("coordinator listening on \(bound); start workers with: lumiere-worker --connect \(FarmRestorePipeline.reachable(bound))\n".utf8)) }
        // Inputs ahead of the farm: from the local workers started, or the workers registered (remote ones come and go).
        gate.follow(workers: { [workerCount] in max(workerCount, farm.statistics.liveWorkers) })
        let placement = shared == nil ? nil : options.farmJob
        let stopToken = stop.register(drain: {
            if let placement { farm.requestDrain(job: placement.id) } else { farm.requestDrain() }
        }, kill: { workers.killAll() })
        defer { stop.remove(stopToken) }
        if stop.isRequested, placement == nil { farm.requestDrain() } // a stop that came while the workers started (on a standing farm: `stopped`)
        let monitoring = try FarmMonitoringSession(monitor: farm.monitor, options: options.monitoring, endpoint: self.endpoint)
        // The plot goes to the job directory when it is kept, else beside the output (the job directory is deleted).
        if options.keepJobDirectory { try job.note("throughput.png") }
        defer { monitoring.finish(plotPath: options.keepJobDirectory ? jobDirectory.appendingPathComponent("throughput.png").path : OutputTarget(settings.output).plotPath) }

        let progress = ProgressReporter(label: "restore", total: estimatedOutputFrames, quiet: settings.quiet || monitoring.showsProgress, job: eta)
        let done = LockedCounter()
        // Checksumming a result takes a while on a big segment; the farm's loop must keep answering workers meanwhile.
        let recorder = release.recorder()
        defer { recorder.drain() } // a stop or an error: what finished is journaled before the job returns
        let report = try farm.run(feed: feed, inputs: { spec in
            guard let released = release.lookup(spec.id.segment) else { throw FarmError.inputUnavailable(segment: spec.id, underlying: "no such segment") }
            first.record()
            return released.input
        }, results: { spec, info, url in
            try release.record(spec.id.segment, resultFile: url, frames: Int(info.frameCount), recorder: recorder)
            progress.update(done: done.add(Int64(info.frameCount)))
        }, placement: placement, stopped: { [stop] in stop.isRequested })
        try recorder.wait()
        progress.finish(done: done.value)
        logger.info("farm finished: \(report)")
        segmentsByWorker = report.completedByWorker
    }

}

/// When the first segment was handed to a worker (or rendered in-process), in seconds since the job's restore began
/// and as the analysis's frame position then (issue 16 item 1: work starts while the film is still being analysed).
final class FirstAssignment: @unchecked Sendable {
    private let lock = NSLock()
    private let started: Date
    private let position: () -> Int?
    private let then: ((RestorePipeline.Summary.FirstAssignment) -> Void)?
    private var value: RestorePipeline.Summary.FirstAssignment?

    init(started: Date, position: @escaping () -> Int?, then: ((RestorePipeline.Summary.FirstAssignment) -> Void)?) {
        self.started = started
        self.position = position
        self.then = then
    }

    func record() {
        lock.lock()
        guard value == nil else { lock.unlock(); return }
        let first = RestorePipeline.Summary.FirstAssignment(seconds: Date().timeIntervalSince(started), framesAnalysed: position())
        value = first
        lock.unlock()
        then?(first)
    }

    var recorded: RestorePipeline.Summary.FirstAssignment? { lock.lock(); defer { lock.unlock() }; return value }
}

extension FarmRestorePipeline {
    /// The cores the local workers will keep busy (as `runFarm` starts them), at most the machine's.
    /// The farm the start-of-job estimate prices (`JobCost.Farm`): as `runFarm` starts the local workers (one per
    /// core, cores / workers threads each), or this process with every thread (`--in-process`), or remote workers
    /// (`--bind` without local ones: their number unknown, one thread priced). Workers beyond the cores share them.
    static func costFarm(options: FarmOptions, threads: Int, maxSegmentFrames: Int, overlapFrames: Int) -> JobCost.Farm {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let overlap = min(overlapFrames, maxSegmentFrames / 3)
        if options.inProcess {
            return JobCost.Farm(workers: 1, threads: threads > 0 ? threads : cores, maxSegmentFrames: maxSegmentFrames, overlapFrames: overlap)
        }
        let workers = options.localWorkers ?? (options.bind == nil ? cores : 0)
        guard workers > 0 else { return JobCost.Farm(workers: nil, threads: 1, maxSegmentFrames: maxSegmentFrames, overlapFrames: overlap) }
        let perWorker = options.threadsPerWorker ?? max(1, (threads > 0 ? threads : cores) / workers)
        return JobCost.Farm(workers: max(1, min(workers, cores / perWorker)), threads: perWorker, maxSegmentFrames: maxSegmentFrames, overlapFrames: overlap)
    }
}

extension FarmRestorePipeline {
    /// The shortest segment a short film is cut into so that every local worker has one: 1 s of film. Below that a
    /// segment's fixed costs (its input cut, a decoder and an encoder opened, a result file and journal entry) grow
    /// against its frames, and a farm of many workers is better used by a longer film.
    static let shortestSplitSeconds = 1.0

    /// The longest segment, in frames: `maxSegmentSeconds` of film; with local workers (no `--bind`, no `serve` farm, not
    /// in-process) and a known length, also at most the film's frames shared out among the workers (not under
    /// `shortestSplitSeconds`), so that a short clip keeps every worker busy (issue 16: one segment left one of two idle).
    /// Without an overlap a split costs no frame twice, so this is nearly free. The plan then depends on the worker count
    /// only for films shorter than workers × `maxSegmentSeconds`.
    static func maxSegmentFrames(options: FarmOptions, rate: Rational, estimatedFrames: Int64?) -> Int {
        let longest = SegmentPlanner.frames(seconds: options.maxSegmentSeconds, rate: rate)
        guard options.bind == nil, options.sharedFarm == nil, !options.inProcess, let frames = estimatedFrames, frames > 0 else { return longest }
        let workers = options.localWorkers ?? ProcessInfo.processInfo.activeProcessorCount
        guard workers > 1 else { return longest }
        let share = Int((frames + Int64(workers) - 1) / Int64(workers))
        return min(longest, max(share, SegmentPlanner.frames(seconds: shortestSplitSeconds, rate: rate)))
    }
}

/// A counter shared with the farm's callbacks.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int64 = 0
    func add(_ n: Int64) -> Int64 { lock.lock(); defer { lock.unlock() }; count += n; return count }
    var value: Int64 { lock.lock(); defer { lock.unlock() }; return count }
}
