import Foundation
import Logging
import Media
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
        let probe = try ConstantRateReader(path: settings.input, threads: settings.threads)
        let stream = probe.stream
        let rate = probe.rate
        let geometry = try OutputGeometry(source: stream.size!, sampleAspect: stream.sampleAspectRatio ?? .one, request: settings.geometry)
        let recipe = settings.recipe(source: stream.size!, geometry: geometry)
        _ = try FilterFactory.make(recipe, threads: 1) // a bad processor name or missing model fails now, not on every worker

        let jobDirectory = URL(fileURLWithPath: options.jobDirectory ?? (outputURL.path + ".lumiere-job"))
        let inputsDirectory = jobDirectory.appendingPathComponent("inputs")
        let resultsDirectory = jobDirectory.appendingPathComponent("results")
        for dir in [inputsDirectory, resultsDirectory] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }

        // 2. Plan: frame count from the declared duration for now; the input pass below confirms it.
        let estimated = Int(probe.estimatedFrameCount ?? 1)
        let maxFrames = max(1, Int((Rational(Int64((options.maxSegmentSeconds * 1000).rounded()), 1000) * rate).floor))
        var plan = FarmRestorePipeline.splitEvenly(frames: estimated, maxFrames: maxFrames)

        // 3. Segment inputs in one decode pass.
        let analysis = ProgressReporter(label: "split", total: Int64(estimated), quiet: settings.quiet)
        var targets = plan.enumerated().map { SegmentInputWriter.Target(id: UInt64($0.offset), frames: $0.element,
                                                                        file: inputsDirectory.appendingPathComponent("segment-\($0.offset).mkv")) }
        let total = try SegmentInputWriter.write(source: settings.input, rate: rate, targets: targets) { analysis.update(done: Int64($0)) }
        analysis.finish(done: Int64(total))
        if total != estimated {
            // The declared duration was off: replan on the true count and write again (rare; cheap compared to restoring).
            plan = FarmRestorePipeline.splitEvenly(frames: total, maxFrames: maxFrames)
            targets = plan.enumerated().map { SegmentInputWriter.Target(id: UInt64($0.offset), frames: $0.element,
                                                                       file: inputsDirectory.appendingPathComponent("segment-\($0.offset).mkv")) }
            _ = try SegmentInputWriter.write(source: settings.input, rate: rate, targets: targets) { _ in }
        }

        // 4. The farm restores every segment.
        try runFarm(targets: targets, recipe: recipe, jobDirectory: jobDirectory, resultsDirectory: resultsDirectory)

        // 5. Stitch in order and encode once, with the source's audio.
        let summary = try assemble(plan: targets, total: total, rate: rate, startTime: probe.startTime, geometry: geometry,
                                   resultsDirectory: resultsDirectory, outputURL: outputURL)
        if !options.keepJobDirectory { try? FileManager.default.removeItem(at: jobDirectory) }
        return RestorePipeline.Summary(frames: summary, size: geometry.canvas, rate: rate, seconds: Date().timeIntervalSince(started))
    }

    /// Equal-length segments of at most `maxFrames`.
    static func splitEvenly(frames: Int, maxFrames: Int) -> [Range<Int>] {
        let count = max(1, (frames + maxFrames - 1) / maxFrames)
        return (0..<count).map { i in (i * frames / count)..<((i + 1) * frames / count) }
    }

    private func runFarm(targets: [SegmentInputWriter.Target], recipe: RenderRecipe, jobDirectory: URL, resultsDirectory: URL) throws {
        let local = options.bind == nil
        let endpoint = options.bind ?? "ipc://\(FileManager.default.temporaryDirectory.path)/lumiere-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        var configuration = FarmCoordinatorConfiguration(bindEndpoint: endpoint, workDirectory: jobDirectory.appendingPathComponent("incoming"), curve: options.curve)
        configuration.insecure = options.insecure
        configuration.heartbeatInterval = options.heartbeatInterval
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
        if !local { FileHandle.standardError.write(Data("coordinator listening on \(bound); start workers with: lumiere-worker --connect \(bound)\n".utf8)) }
        let monitoring = try FarmMonitoringSession(monitor: farm.monitor, options: options.monitoring)
        // The plot goes to the job directory when it is kept, else beside the output (the job directory is deleted).
        defer { monitoring.finish(plotPath: options.keepJobDirectory ? jobDirectory.appendingPathComponent("throughput.png").path : settings.output + ".throughput.png") }

        let specs = targets.map { t in
            SegmentSpec(id: t.id, inputFrameCount: UInt32(t.frames.count), expectedOutputFrames: UInt32(t.frames.count),
                        expectedFrameSize: (UInt32(recipe.contentWidth), UInt32(recipe.contentHeight)), settings: recipe.settings)
        }
        let files = Dictionary(uniqueKeysWithValues: targets.map { ($0.id, $0.file) })
        let progress = ProgressReporter(label: "restore", total: Int64(targets.reduce(0) { $0 + $1.frames.count }), quiet: settings.quiet || monitoring.showsProgress)
        let done = LockedCounter()
        let report = try farm.run(segments: specs, inputs: { spec in
            guard let file = files[spec.id] else { throw FarmError.inputUnavailable(segment: spec.id, underlying: "no such segment") }
            return file
        }, results: { spec, info, url in
            let destination = resultsDirectory.appendingPathComponent("segment-\(spec.id).mkv")
            try? FileManager.default.removeItem(at: destination)
            try FileManager.default.moveItem(at: url, to: destination)
            progress.update(done: done.add(Int64(info.frameCount)))
        })
        progress.finish(done: done.value)
        logger.info("farm finished: \(report)")
    }

    private func assemble(plan: [SegmentInputWriter.Target], total: Int, rate: Rational, startTime: Rational, geometry: OutputGeometry,
                          resultsDirectory: URL, outputURL: URL) throws -> Int64 {
        let temporary = RestorePipeline.temporaryURL(for: outputURL)
        try? FileManager.default.removeItem(at: temporary)
        var keep = false
        defer { if !keep { try? FileManager.default.removeItem(at: temporary) } }
        let color = ColorDescription.defaultFor(height: geometry.canvas.height)
        let writer = try MediaWriter(path: temporary.path, video: .init(size: geometry.canvas, rate: rate, startTime: startTime,
                                                                         encoding: settings.encoding, color: color, threads: settings.threads),
                                     carryStreamsFrom: settings.input, warn: warn)
        let converter = PixelConverter()
        let progress = ProgressReporter(label: "encode", total: Int64(total), quiet: settings.quiet)
        for target in plan.sorted(by: { $0.frames.lowerBound < $1.frames.lowerBound }) {
            let file = resultsDirectory.appendingPathComponent("segment-\(target.id).mkv")
            let media = try MediaInput(path: file.path)
            let decoder = try VideoDecoder(input: media, stream: try media.primaryVideoStream(), threads: 1)
            var count = 0
            while let frame = try decoder.next() {
                var rgb = try converter.rgbImage(from: frame.picture)
                if rgb.size != geometry.content { rgb = try converter.resize(rgb, to: geometry.content) }
                try writer.write(try converter.picture(from: geometry.place(rgb), pixelFormat: writer.pixelFormat, color: color))
                count += 1
                progress.update(done: writer.frameCount)
            }
            guard count == target.frames.count else {
                throw RestoreError.frameCountMismatch(expected: Int64(target.frames.count), written: Int64(count))
            }
        }
        try writer.finish()
        progress.finish(done: writer.frameCount)
        guard writer.frameCount == Int64(total) else { throw RestoreError.frameCountMismatch(expected: Int64(total), written: writer.frameCount) }
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
