import Foundation
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
    /// Shrunk to a third of the segment length when segments are very short.
    public var overlapFrames = SegmentPlannerSettings.defaultOverlapFrames
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
        JobCost(processor: recipe.processor, modelScale: recipe.modelScale, source: stream.size!, content: geometry.content,
                inputFrames: probe.estimatedFrameCount, retime: recipe.retime)
            .report(cores: options.bind == nil ? FarmRestorePipeline.localCores(options: options, threads: settings.threads) : nil, quiet: settings.quiet)
        if let retime = recipe.retime {
            _ = try InterpolatorFactory.make(retime.interpolator, threads: 1)
            logger.info("retiming \(rate) → \(retime.outputRate) fps with \(retime.interpolator), \(retime.order.rawValue)")
        }
        let outputRate = recipe.retime?.outputRate ?? rate
        let identity = try settings.source.identity()
        // A --shots file that is broken or absurd is a mistake to report now, not a reason to guess.
        let givenShots = try options.shotsFile.map { try ShotAnalysis.load(file: URL(fileURLWithPath: $0), estimatedFrames: probe.estimatedFrameCount) }

        // The job directory: never one whose clean-up could touch the user's files (docs/reliability.md).
        let jobDirectory = (options.jobDirectory.map { URL(fileURLWithPath: $0) } ?? target.defaultJobDirectory).standardizedFileURL
        try JobLocation.check(jobDirectory, input: settings.input, output: outputURL)
        let job = try JobDirectory(url: jobDirectory)
        try job.removeStalePartialOutputs()
        // A job that fails before any segment is finished leaves nothing worth resuming: its files go. A job stopped
        // on request is kept whatever it holds (its analysis spares the next run a pass over the film).
        var succeeded = false, stopped = false
        defer { if !succeeded && !stopped && job.entries.isEmpty { job.removeOwnFiles() } }

        var summary: RestorePipeline.Summary?
        for attempt in 0..<2 {
            do {
                summary = try restore(job: job, identity: identity, givenShots: attempt == 0 ? givenShots : nil, probe: probe, recipe: recipe, encoding: encoding,
                                      geometry: geometry, outputRate: outputRate, outputURL: outputURL)
                break
            } catch let error where StopSignal.isStop(error) {
                stopped = true
                throw error
            } catch let stale as StaleAnalysis where attempt == 0 {
                // The input changed in a way its identity does not show (same size and ends): its cuts may have moved
                // too, so it is analysed again; segments whose frames are unchanged are still reused.
                warn("\(stale); analysing it again")
                unlink(job.url.appendingPathComponent("shots.json").path)
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
                         geometry: OutputGeometry, outputRate: Rational, outputURL: URL) throws -> RestorePipeline.Summary {
        let rate = probe.rate
        // 2. Analysis: shots and the exact frame count (one decode), unless a matching shot list exists.
        let (shots, analysed) = try shotList(identity: identity, given: givenShots, rate: rate, job: job, estimated: probe.estimatedFrameCount)
        let total = shots.frameCount

        // 3. Plan: segments inside shots, long shots split with overlap; keyed by input + settings.
        let maxFrames = SegmentPlanner.frames(seconds: options.maxSegmentSeconds, rate: rate)
        let plannerSettings = SegmentPlannerSettings(maxSegmentFrames: maxFrames, overlapFrames: min(options.overlapFrames, maxFrames / 3))
        let segments = try SegmentPlanner.plan(shots: shots.shots, frameCount: total, settings: plannerSettings)
        // Retimed: the same segments in output frames (what each worker makes, what the stitcher blends).
        let outputPlan = try recipe.retime.map { try segments.retimed(Retiming(inputRate: $0.inputRate, outputRate: $0.outputRate)) } ?? segments
        // With workers encoding: each segment's frames no seam touches, in its own output frames.
        let filmInteriors = recipe.delivery.map { _ in
            StitchPlan(plan: outputPlan).interiors(segmentCount: outputPlan.segments.count, starts: outputPlan.segments.map(\.input.lowerBound))
        }
        let interiors = filmInteriors.map { zip($0, outputPlan.segments).map { interior, segment in
            (interior.lowerBound - segment.input.lowerBound)..<(interior.upperBound - segment.input.lowerBound)
        } }
        let jobPlan = try RestoreJobPlan(input: settings.input, inputIdentity: identity, recipe: recipe, rate: rate, shots: shots, segments: segments,
                                         interiors: interiors)
        try job.writeFile("plan.json", try jobPlan.encoded())

        // 4. Resume: results the journal lists and the disk confirms are candidates; the rest are (re)done.
        let dropped = try job.verify(keeping: Set(jobPlan.keys))
        if !dropped.isEmpty { logger.info("journal: \(dropped.count) stale or damaged results will be redone") }
        job.removeUnlistedResults()
        // A segment with no output frame (a shot too short for a low --fps) needs no work.
        let needed = segments.segments.filter { !outputPlan.segments[$0.index].input.isEmpty }
        var fingerprints: [UInt64: String] = [:]
        var todo = needed
        let entries = job.entries
        let candidates = needed.filter { entries[jobPlan.keys[$0.index]] != nil }
        if !candidates.isEmpty || !todo.isEmpty {
            // 5. One decode pass: the unfinished segments' inputs are written, and every segment's frames are fingerprinted.
            // A finished segment is reused only if its frames are the ones it was made from (a same-size edit in the
            // middle of the file is found here and redoes exactly the segments it touches).
            let pass = try split(segments: needed, writing: Set(needed.filter { entries[jobPlan.keys[$0.index]] == nil }.map(\.index)),
                                 keys: jobPlan.keys, job: job, rate: rate, total: total)
            fingerprints = pass.fingerprints
            var changed: [Segment] = []
            for segment in candidates {
                let key = jobPlan.keys[segment.index]
                if let recorded = entries[key]?.inputFrames, recorded == pass.fingerprints[UInt64(segment.index)] { continue }
                try job.forget(key: key)
                changed.append(segment)
            }
            if !changed.isEmpty && !analysed { throw StaleAnalysis.framesChanged(segments: changed.count) }
            if !changed.isEmpty {
                warn("\(changed.count) finished segment(s) no longer match the input's frames (the file changed): restoring them again")
                _ = try split(segments: changed, writing: Set(changed.map(\.index)), keys: jobPlan.keys, job: job, rate: rate, total: total)
            }
            let finished = Set(job.entries.keys)
            todo = needed.filter { !finished.contains(jobPlan.keys[$0.index]) }
        }
        logger.info("plan: \(total) frames, \(shots.boundaries.count) shot boundaries, \(segments.segments.count) segments, \(todo.count) to restore")
        // 6. The film is written from now on, in film order, as segments arrive (stitched, blending overlaps where the
        // versions agree; joined from the workers' pieces, or encoded here); after the farm only its tail is left.
        let board = ResultBoard()
        let pending = Set(todo.map(\.index))
        for segment in needed where !pending.contains(segment.index) {
            if let entry = job.entries[jobPlan.keys[segment.index]] { board.post(segment.index, job.resultsURL.appendingPathComponent(entry.file)) }
        }
        let video = MediaWriter.VideoSettings(size: geometry.canvas, rate: outputRate, startTime: probe.startTime, encoding: encoding,
                                              color: .defaultFor(height: geometry.canvas.height), threads: settings.threads,
                                              sequenceStart: settings.sequenceStart)
        let assembly = FilmAssembly(setup: .init(plan: outputPlan, geometry: geometry, video: video, interiors: filmInteriors, source: settings.source,
                                                 seamFile: try job.ownedDirectory("seams").appendingPathComponent("seam.mkv"), quiet: settings.quiet),
                                    board: board, target: OutputTarget(outputURL.path, overwrite: settings.overwrite), stop: stop, logger: logger, warn: warn)
        try assembly.start(job: job)
        var assembled = false
        defer { if !assembled { assembly.cancel() } }
        if !todo.isEmpty {
            let targets = todo.map { SegmentInputWriter.Target(id: UInt64($0.index), frames: $0.input, file: inputFile(jobPlan.keys[$0.index], job)) }
            if options.inProcess {
                try renderInProcess(targets: targets, fingerprints: fingerprints, outputPlan: outputPlan, interiors: interiors, keys: jobPlan.keys,
                                    recipe: recipe, job: job, board: board)
            } else {
                try runFarm(targets: targets, fingerprints: fingerprints, outputPlan: outputPlan, interiors: interiors, keys: jobPlan.keys, recipe: recipe,
                            job: job, board: board)
            }
        }
        try stop.begin("encode")
        let written: Int64
        do { written = try assembly.finish() } catch let error as AssemblyError {
            // A result that cannot be stitched or joined is dropped from the journal: the next run redoes that segment.
            if outputPlan.segments.indices.contains(error.segment) { try? job.forget(key: jobPlan.keys[error.segment]) }
            throw error
        }
        assembled = true
        try job.removeStalePartialOutputs()
        var summary = RestorePipeline.Summary(frames: written, size: geometry.canvas, rate: outputRate, seconds: 0)
        summary.segmentsRestored = todo.count
        summary.segmentsReused = needed.count - todo.count
        summary.framesWrittenDuringFarm = assembly.framesAtFarmEnd
        return summary
    }

    private func inputFile(_ key: String, _ job: JobDirectory) -> URL { job.inputsURL.appendingPathComponent("segment-\(key).mkv") }

    /// The split pass over the whole source: inputs for `writing`, fingerprints for every segment in `segments`.
    private func split(segments: [Segment], writing: Set<Int>, keys: [String], job: JobDirectory, rate: Rational, total: Int) throws -> SegmentInputWriter.Pass {
        try stop.begin("split")
        let progress = ProgressReporter(label: writing.isEmpty ? "check" : "split", total: Int64(total), quiet: settings.quiet)
        let targets = segments.map { SegmentInputWriter.Target(id: UInt64($0.index), frames: $0.input,
                                                               file: writing.contains($0.index) ? inputFile(keys[$0.index], job) : nil) }
        let pass = try SegmentInputWriter.write(source: settings.source, rate: rate, targets: targets, logger: logger) {
            progress.update(done: Int64($0))
            try self.stop.checkpoint("split")
        }
        progress.finish(done: Int64(pass.frames))
        guard pass.frames == total else { throw StaleAnalysis.frameCount(listed: total, decoded: pass.frames) }
        return pass
    }

    /// The shot list: from `--shots` or the job directory when it matches, else from an analysis pass (saved for next time).
    /// `analysed`: made by this run (so it describes the input as it is now).
    private func shotList(identity: String, given: ShotList?, rate: Rational, job: JobDirectory, estimated: Int64?) throws -> (list: ShotList, analysed: Bool) {
        if let given {
            if ShotAnalysis.matches(given, inputIdentity: identity, rate: rate, settings: options.shotDetection) {
                logger.info("shots: reusing \(options.shotsFile ?? "")")
                return (given, false)
            }
            warn("the shot list \(options.shotsFile ?? "") was made for another input, rate or detection settings; detecting shots again")
        }
        let saved = job.url.appendingPathComponent("shots.json")
        if let list = try? ShotAnalysis.load(file: saved, estimatedFrames: estimated),
           ShotAnalysis.matches(list, inputIdentity: identity, rate: rate, settings: options.shotDetection) {
            logger.info("shots: reusing \(saved.path)")
            return (list, false)
        }
        try stop.begin("analysis")
        let progress = ProgressReporter(label: "analyse", total: estimated, quiet: settings.quiet)
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
    /// once, every thread), recorded in the journal and posted to the film's writer exactly as a worker's result is.
    private func renderInProcess(targets: [SegmentInputWriter.Target], fingerprints: [UInt64: String], outputPlan: SegmentPlan, interiors: [Range<Int>]?,
                                 keys: [String], recipe: RenderRecipe, job: JobDirectory, board: ResultBoard) throws {
        try stop.begin("restore")
        let threads = settings.threads > 0 ? settings.threads : ProcessInfo.processInfo.activeProcessorCount
        let (engine, note) = try options.device.resolve()
        if let note { logger.notice("\(note)") }
        let selection = DeviceSelection(engine) { [logger, warn] message, fault in
            if fault { warn(message) } else { logger.notice("\(message)") }
        }
        // The renderer (models loaded once) for the selection's device; made again after a GPU fault, on the CPU.
        var loaded: (device: ComputeDevice, renderer: SegmentRenderer)?
        func renderer(_ device: ComputeDevice) throws -> SegmentRenderer {
            if let loaded, loaded.device == device { return loaded.renderer }
            let made = try SegmentRenderer(recipe: recipe, threads: threads, device: device)
            made.deviceNotes.forEach(selection.note)
            loaded = (device, made)
            return made
        }
        let scratch = try job.ownedDirectory("incoming")
        let recorder = ResultRecorder(job: job)
        let total = targets.reduce(0) { $0 + outputPlan.segments[Int($1.id)].input.count }
        let progress = ProgressReporter(label: "restore", total: Int64(total), quiet: settings.quiet)
        var done = 0
        for target in targets.sorted(by: { $0.frames.lowerBound < $1.frames.lowerBound }) {
            guard let input = target.file else { continue }
            let index = Int(target.id)
            let outputs = outputPlan.segments[index].input
            let timing = recipe.retime.map { _ in SegmentTiming(firstInputFrame: Int64(target.frames.lowerBound), outputFrames: Int64(outputs.lowerBound)..<Int64(outputs.upperBound)) }
            let interior = interiors.map { Int64($0[index].lowerBound)..<Int64($0[index].upperBound) }
            let output = scratch.appendingPathComponent("segment-\(index).mkv")
            let result: SegmentRenderer.Result
            do {
                // A GPU fault leaves the selection on the CPU engine (warned once): the segment is rendered again there.
                let attempt = { try selection.run { device in
                    try renderer(device).render(input: input, output: output, timing: timing, interior: interior,
                                                progress: { progress.update(done: Int64(done + $0)) }, isCancelled: { self.stop.isRequested })
                } }
                do { result = try attempt() } catch is DeviceFault { result = try attempt() }
            } catch is SegmentRenderer.Cancelled {
                throw RestoreError.interrupted(phase: "restore")
            }
            guard result.frames == outputs.count else { throw SegmentRenderer.RenderError.outputCountMismatch(expected: outputs.count, made: result.frames) }
            done += result.frames
            try recorder.record(key: keys[index], resultFile: output, frames: result.frames, input: input, inputFrames: fingerprints[target.id],
                                recorded: { board.post(index, $0) })
        }
        try recorder.wait()
        progress.finish(done: Int64(done))
    }

    private func runFarm(targets: [SegmentInputWriter.Target], fingerprints: [UInt64: String], outputPlan: SegmentPlan, interiors: [Range<Int>]?,
                         keys: [String], recipe: RenderRecipe, job: JobDirectory, board: ResultBoard) throws {
        try stop.begin("farm")
        let jobDirectory = job.url
        let local = options.bind == nil
        let endpoint = options.bind ?? "ipc://\(FileManager.default.temporaryDirectory.path)/lumiere-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        var configuration = FarmCoordinatorConfiguration(bindEndpoint: endpoint, workDirectory: try job.ownedDirectory("incoming"), curve: options.curve)
        configuration.insecure = options.insecure
        configuration.heartbeatInterval = options.heartbeatInterval
        // Local workers start with the job: if none registers within a minute they failed to start (see the job's logs/).
        if local { configuration.scheduler.noWorkerTimeoutSeconds = 60 }
        let farm = FarmCoordinator(configuration: configuration, logger: logger)
        let bound = try farm.bind()
        defer {
            farm.close()
            if local, endpoint.hasPrefix("ipc://") { try? FileManager.default.removeItem(atPath: String(endpoint.dropFirst(6))) }
        }

        let cores = ProcessInfo.processInfo.activeProcessorCount
        // More local workers than segments would only sit idle (and each costs a process and its memory).
        let workerCount = min(options.localWorkers ?? (local ? cores : 0), targets.count)
        if let asked = options.localWorkers, asked > workerCount {
            warn("starting \(workerCount) local worker(s), not \(asked): there are only \(targets.count) segment(s) to restore")
        }
        let threads = options.threadsPerWorker ?? max(1, (settings.threads > 0 ? settings.threads : cores) / max(1, workerCount))
        let workers = LocalWorkers()
        defer { workers.stop() }
        if workerCount > 0 {
            try workers.start(count: workerCount, threads: threads, device: options.device, endpoint: bound,
                              workDirectory: try job.ownedDirectory("workers"), logDirectory: try job.ownedDirectory("logs"))
        }
        if !local { FileHandle.standardError.write(Data("coordinator listening on \(bound); start workers with: lumiere-worker --connect \(FarmRestorePipeline.reachable(bound))\n".utf8)) }
        let stopToken = stop.register(drain: { farm.requestDrain() }, kill: { workers.killAll() })
        defer { stop.remove(stopToken) }
        if stop.isRequested { farm.requestDrain() } // a stop that came while the workers started
        let monitoring = try FarmMonitoringSession(monitor: farm.monitor, options: options.monitoring)
        // The plot goes to the job directory when it is kept, else beside the output (the job directory is deleted).
        if options.keepJobDirectory { try job.note("throughput.png") }
        defer { monitoring.finish(plotPath: options.keepJobDirectory ? jobDirectory.appendingPathComponent("throughput.png").path : OutputTarget(settings.output).plotPath) }

        // Retimed segments make their output frames (outputPlan's input range) and need to know where they sit in the film.
        let specs = targets.map { t in
            let outputs = outputPlan.segments[Int(t.id)].input
            let timing = recipe.retime.map { _ in SegmentTiming(firstInputFrame: Int64(t.frames.lowerBound), outputFrames: Int64(outputs.lowerBound)..<Int64(outputs.upperBound)) }
            return SegmentSpec(id: t.id, inputFrameCount: UInt32(t.frames.count), expectedOutputFrames: UInt32(outputs.count),
                               expectedFrameSize: (UInt32(recipe.contentWidth), UInt32(recipe.contentHeight)),
                               work: SegmentWork(recipe: recipe, timing: timing,
                                                 interior: interiors.map { let i = $0[Int(t.id)]; return Int64(i.lowerBound)..<Int64(i.upperBound) }))
        }
        let files = Dictionary(uniqueKeysWithValues: targets.compactMap { t in t.file.map { (t.id, $0) } })
        let progress = ProgressReporter(label: "restore", total: Int64(specs.reduce(0) { $0 + Int($1.expectedOutputFrames) }), quiet: settings.quiet || monitoring.showsProgress)
        let done = LockedCounter()
        // Checksumming a result takes a while on a big segment; the farm's loop must keep answering workers meanwhile.
        let recorder = ResultRecorder(job: job)
        let report = try farm.run(segments: specs, inputs: { spec in
            guard let file = files[spec.id] else { throw FarmError.inputUnavailable(segment: spec.id, underlying: "no such segment") }
            return file
        }, results: { spec, info, url in
            try recorder.record(key: keys[Int(spec.id)], resultFile: url, frames: Int(info.frameCount), input: files[spec.id],
                                inputFrames: fingerprints[spec.id], recorded: { board.post(Int(spec.id), $0) })
            progress.update(done: done.add(Int64(info.frameCount)))
        })
        try recorder.wait()
        progress.finish(done: done.value)
        logger.info("farm finished: \(report)")
    }

}

extension FarmRestorePipeline {
    /// The cores the local workers will keep busy (as `runFarm` starts them), at most the machine's.
    static func localCores(options: FarmOptions, threads: Int) -> Int {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let workers = max(1, options.localWorkers ?? cores)
        let perWorker = options.threadsPerWorker ?? max(1, (threads > 0 ? threads : cores) / workers)
        return min(cores, workers * perWorker)
    }
}

/// A counter shared with the farm's callbacks.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int64 = 0
    func add(_ n: Int64) -> Int64 { lock.lock(); defer { lock.unlock() }; count += n; return count }
    var value: Int64 { lock.lock(); defer { lock.unlock() }; return count }
}
