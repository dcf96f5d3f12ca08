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
        let outputURL = URL(fileURLWithPath: settings.output).standardizedFileURL
        try RestorePipeline.validateOutput(outputURL, input: settings.input)
        if let bind = options.bind { try EndpointPolicy.validateBind(bind, keysConfigured: options.curve != nil, insecure: options.insecure) }

        // 1. What the source is; everything checked before any heavy work.
        let probe = try ConstantRateReader(path: settings.input, threads: settings.threads, interlacing: settings.interlacing)
        let stream = probe.stream
        let rate = probe.rate
        let fields = try probe.fieldPlan()
        settings.noteFields(fields)
        let geometry = try OutputGeometry(source: stream.size!, sampleAspect: stream.sampleAspectRatio ?? .one, request: settings.geometry)
        let encoding = settings.outputEncoding(sourcePixelFormat: stream.pixelFormat)
        let recipe = try settings.recipe(source: stream.size!, geometry: geometry, inputRate: rate, fields: fields,
                                         outputPixelFormat: encoding.pixelFormat)
        _ = try FilterFactory.make(recipe, threads: 1) // a bad processor name or missing model fails now, not on every worker
        if let retime = recipe.retime {
            _ = try InterpolatorFactory.make(retime.interpolator, threads: 1)
            logger.info("retiming \(rate) → \(retime.outputRate) fps with \(retime.interpolator), \(retime.order.rawValue)")
        }
        let outputRate = recipe.retime?.outputRate ?? rate

        let jobDirectory = URL(fileURLWithPath: options.jobDirectory ?? (outputURL.path + ".lumiere-job"))
        let createdHere = !FileManager.default.fileExists(atPath: jobDirectory.path)
        let job = try JobDirectory(url: jobDirectory)
        // A job directory this run made, failing before any segment is finished, is removed: nothing to resume.
        var succeeded = false
        defer { if !succeeded && createdHere && job.entries.isEmpty { try? FileManager.default.removeItem(at: jobDirectory) } }

        // 2. Analysis: shots and the exact frame count (one decode), unless a matching shot list exists.
        let identity = try JobKeys.inputIdentity(path: settings.input)
        let shots = try shotList(identity: identity, rate: rate, job: job, estimated: probe.estimatedFrameCount)
        let total = shots.frameCount

        // 3. Plan: segments inside shots, long shots split with overlap; keyed by input + settings.
        let maxFrames = SegmentPlanner.frames(seconds: options.maxSegmentSeconds, rate: rate)
        let plannerSettings = SegmentPlannerSettings(maxSegmentFrames: maxFrames, overlapFrames: min(options.overlapFrames, maxFrames / 3))
        let segments = try SegmentPlanner.plan(shots: shots.shots, frameCount: total, settings: plannerSettings)
        let jobPlan = try RestoreJobPlan(input: settings.input, inputIdentity: identity, recipe: recipe, rate: rate, shots: shots, segments: segments)
        // Retimed: the same segments in output frames (what each worker makes, what the stitcher blends).
        let outputPlan = try recipe.retime.map { try segments.retimed(Retiming(inputRate: $0.inputRate, outputRate: $0.outputRate)) } ?? segments
        try job.writeFile("plan.json", try jobPlan.encoded())

        // 4. Resume: results the journal lists and the disk confirms are kept; the rest are (re)done.
        let dropped = try job.verify(keeping: Set(jobPlan.keys))
        if !dropped.isEmpty { logger.info("journal: \(dropped.count) stale or damaged results will be redone") }
        removeUnlistedResults(job)
        let finished = Set(job.entries.keys)
        // A segment with no output frame (a shot too short for a low --fps) needs no work.
        let needed = segments.segments.filter { !outputPlan.segments[$0.index].input.isEmpty }
        let todo = needed.filter { !finished.contains(jobPlan.keys[$0.index]) }
        logger.info("plan: \(total) frames, \(shots.boundaries.count) shot boundaries, \(segments.segments.count) segments, \(todo.count) to restore")

        if !todo.isEmpty {
            // 5. Segment inputs (only unfinished segments) in one decode pass; the farm restores them.
            let split = ProgressReporter(label: "split", total: Int64(total), quiet: settings.quiet)
            let targets = todo.map { SegmentInputWriter.Target(id: UInt64($0.index), frames: $0.input,
                                                               file: job.inputsURL.appendingPathComponent("segment-\(jobPlan.keys[$0.index]).mkv")) }
            let decoded = try SegmentInputWriter.write(source: settings.input, rate: rate, interlacing: settings.interlacing, targets: targets) { split.update(done: Int64($0)) }
            split.finish(done: Int64(decoded))
            guard decoded == total else { throw RestoreError.frameCountMismatch(expected: Int64(total), written: Int64(decoded)) }
            try runFarm(targets: targets, outputPlan: outputPlan, keys: jobPlan.keys, recipe: recipe, job: job)
        }

        // 6. Stitch (blending overlaps where the versions agree) and encode once, with the source's audio.
        let written = try assemble(plan: outputPlan, job: job, keys: jobPlan.keys, rate: outputRate, startTime: probe.startTime,
                                   geometry: geometry, encoding: encoding, outputURL: outputURL)
        succeeded = true
        if !options.keepJobDirectory { try? FileManager.default.removeItem(at: jobDirectory) }
        var summary = RestorePipeline.Summary(frames: written, size: geometry.canvas, rate: outputRate, seconds: Date().timeIntervalSince(started))
        summary.segmentsRestored = todo.count
        summary.segmentsReused = needed.count - todo.count
        return summary
    }

    /// The shot list: from `--shots` or the job directory when it matches, else from an analysis pass (saved for next time).
    private func shotList(identity: String, rate: Rational, job: JobDirectory, estimated: Int64?) throws -> ShotList {
        let saved = job.url.appendingPathComponent("shots.json")
        for file in [options.shotsFile.map { URL(fileURLWithPath: $0) }, saved].compactMap({ $0 }) {
            if let list = ShotAnalysis.reusable(file: file, inputIdentity: identity, rate: rate, settings: options.shotDetection) {
                logger.info("shots: reusing \(file.path)")
                return list
            }
        }
        if let file = options.shotsFile { warn("the shot list \(file) is for another input, rate or settings; detecting shots again") }
        let progress = ProgressReporter(label: "analyse", total: estimated, quiet: settings.quiet)
        let list = try ShotAnalysis.analyse(path: settings.input, rate: rate, settings: options.shotDetection, threads: settings.threads,
                                            interlacing: settings.interlacing) {
            progress.update(done: Int64($0))
        }
        progress.finish(done: Int64(list.frameCount))
        try job.writeFile("shots.json", try list.encoded())
        return list
    }

    /// Result files no journal entry names (a crash between the move and the journal update, or old settings).
    private func removeUnlistedResults(_ job: JobDirectory) {
        let listed = Set(job.entries.values.map(\.file))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: job.resultsURL.path)) ?? [] where !listed.contains(name) {
            try? FileManager.default.removeItem(at: job.resultsURL.appendingPathComponent(name))
        }
    }

    /// The endpoint as another machine would write it: a wildcard bind is shown with this host's name.
    static func reachable(_ endpoint: String) -> String {
        guard endpoint.hasPrefix("tcp://0.0.0.0:") || endpoint.hasPrefix("tcp://*:") || endpoint.hasPrefix("tcp://[::]:") else { return endpoint }
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(cString: name) : "THIS-HOST"
        return "tcp://\(host):" + (endpoint.split(separator: ":").last.map(String.init) ?? "")
    }

    private func runFarm(targets: [SegmentInputWriter.Target], outputPlan: SegmentPlan, keys: [String], recipe: RenderRecipe, job: JobDirectory) throws {
        let jobDirectory = job.url
        let local = options.bind == nil
        let endpoint = options.bind ?? "ipc://\(FileManager.default.temporaryDirectory.path)/lumiere-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        var configuration = FarmCoordinatorConfiguration(bindEndpoint: endpoint, workDirectory: jobDirectory.appendingPathComponent("incoming"), curve: options.curve)
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
        let workerCount = options.localWorkers ?? (local ? max(1, min(cores, targets.count)) : 0)
        let threads = options.threadsPerWorker ?? max(1, (settings.threads > 0 ? settings.threads : cores) / max(1, workerCount))
        let workers = LocalWorkers()
        defer { workers.stop() }
        if workerCount > 0 {
            try workers.start(count: workerCount, threads: threads, endpoint: bound,
                              workDirectory: jobDirectory.appendingPathComponent("workers"), logDirectory: jobDirectory.appendingPathComponent("logs"))
        }
        if !local { FileHandle.standardError.write(Data("coordinator listening on \(bound); start workers with: lumiere-worker --connect \(FarmRestorePipeline.reachable(bound))\n".utf8)) }
        let interrupts = InterruptHandler(onFirst: { farm.requestDrain() }, onSecond: { workers.killAll(); exit(130) })
        defer { interrupts.cancel() }
        let monitoring = try FarmMonitoringSession(monitor: farm.monitor, options: options.monitoring)
        // The plot goes to the job directory when it is kept, else beside the output (the job directory is deleted).
        defer { monitoring.finish(plotPath: options.keepJobDirectory ? jobDirectory.appendingPathComponent("throughput.png").path : settings.output + ".throughput.png") }

        // Retimed segments make their output frames (outputPlan's input range) and need to know where they sit in the film.
        let specs = targets.map { t in
            let outputs = outputPlan.segments[Int(t.id)].input
            let timing = recipe.retime.map { _ in SegmentTiming(firstInputFrame: Int64(t.frames.lowerBound), outputFrames: Int64(outputs.lowerBound)..<Int64(outputs.upperBound)) }
            return SegmentSpec(id: t.id, inputFrameCount: UInt32(t.frames.count), expectedOutputFrames: UInt32(outputs.count),
                               expectedFrameSize: (UInt32(recipe.contentWidth), UInt32(recipe.contentHeight)),
                               settings: recipe.settings + (timing.map { [$0.setting] } ?? []))
        }
        let files = Dictionary(uniqueKeysWithValues: targets.map { ($0.id, $0.file) })
        let progress = ProgressReporter(label: "restore", total: Int64(specs.reduce(0) { $0 + Int($1.expectedOutputFrames) }), quiet: settings.quiet || monitoring.showsProgress)
        let done = LockedCounter()
        // Checksumming a result takes a while on a big segment; the farm's loop must keep answering workers meanwhile.
        let recorder = ResultRecorder(job: job)
        let report = try farm.run(segments: specs, inputs: { spec in
            guard let file = files[spec.id] else { throw FarmError.inputUnavailable(segment: spec.id, underlying: "no such segment") }
            return file
        }, results: { spec, info, url in
            try recorder.record(key: keys[Int(spec.id)], resultFile: url, frames: Int(info.frameCount), input: files[spec.id])
            progress.update(done: done.add(Int64(info.frameCount)))
        })
        try recorder.wait()
        progress.finish(done: done.value)
        logger.info("farm finished: \(report)")
    }

    private func assemble(plan: SegmentPlan, job: JobDirectory, keys: [String], rate: Rational, startTime: Rational, geometry: OutputGeometry,
                          encoding: VideoEncoding, outputURL: URL) throws -> Int64 {
        let temporary = RestorePipeline.temporaryURL(for: outputURL)
        try? FileManager.default.removeItem(at: temporary)
        var keep = false
        defer { if !keep { try? FileManager.default.removeItem(at: temporary) } }
        let color = ColorDescription.defaultFor(height: geometry.canvas.height)
        let writer = try MediaWriter(path: temporary.path, video: .init(size: geometry.canvas, rate: rate, startTime: startTime,
                                                                         encoding: encoding, color: color, threads: settings.threads),
                                     carryStreamsFrom: settings.input, warn: warn)
        let converter = PixelConverter()
        let progress = ProgressReporter(label: "encode", total: Int64(plan.frameCount), quiet: settings.quiet)
        let entries = job.entries
        let assembler = StitchAssembler(plan: plan, resultURL: { job.resultsURL.appendingPathComponent(entries[keys[$0]]?.file ?? "missing-\($0)") },
                                        content: geometry.content)
        let seams = try assembler.run { rgb in
            try writer.write(try converter.picture(from: geometry.place(rgb), pixelFormat: writer.pixelFormat, color: color))
            progress.update(done: writer.frameCount)
        }
        for seam in seams { logger.debug("\(seam)") }
        try writer.finish()
        progress.finish(done: writer.frameCount)
        guard writer.frameCount == Int64(plan.frameCount) else {
            throw RestoreError.frameCountMismatch(expected: Int64(plan.frameCount), written: writer.frameCount)
        }
        if FileManager.default.fileExists(atPath: outputURL.path) { try FileManager.default.removeItem(at: outputURL) }
        try FileManager.default.moveItem(at: temporary, to: outputURL)
        keep = true
        return writer.frameCount
    }
}

/// A counter shared with the farm's callbacks.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int64 = 0
    func add(_ n: Int64) -> Int64 { lock.lock(); defer { lock.unlock() }; count += n; return count }
    var value: Int64 { lock.lock(); defer { lock.unlock() }; return count }
}
