import ArgumentParser
import CommandLineSupport
import Foundation
import Inference
import Logging
import Transport
import Media
import Planning
import Processors
import Shared

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a film: upscale it and write a new file with the original audio and subtitles.",
        discussion: """
        The output keeps every frame of the input at a constant frame rate (variable-rate input is \
        normalised by timestamp, see docs/media.md) or, with --fps, is retimed exactly to a new rate \
        with interpolated frames (docs/retiming.md), and the source's audio and subtitles unchanged \
        when the container allows (otherwise audio is re-encoded to AAC, with a warning). \
        The file appears at OUTPUT only when it is complete. An OUTPUT that exists already is refused before any work \
        (exit status 64) unless --overwrite is given; it is then replaced in one step when the new one is complete, \
        never removed first. Frames of an image sequence are never overwritten. Ctrl-C stops cleanly in any phase with \
        exit status 130, SIGTERM (a scheduler's stop) with 143, a second one at once; the same command resumes: a scheduler may \
        retry on 130 and 143, never on 1 (an error) or 64 (the command line). Lumière deletes only what it wrote \
        (docs/reliability.md, "Your files are safe").

        Examples:
          lumiere-coordinator restore calais.ogv -o calais-4x.mp4 --scale 4
          lumiere-coordinator restore calais.ogv -o calais-uhd.mp4 --size 3840x2160
          lumiere-coordinator restore film.mkv -o master.mkv --codec ffv1
          lumiere-coordinator restore calais.ogv -o calais-24fps.mp4 --fps 24 --scale 4
          lumiere-coordinator restore calais.ogv -o calais-clean.mp4 --restore-film --scale 4
          lumiere-coordinator restore calais.ogv -o calais-clean.mp4 --deflicker --dust=2 --scale 4
          lumiere-coordinator restore trailer.mp4 -o trailer-60.mp4 --fps 60 --interp rife-v4.25
          lumiere-coordinator restore 'scan/f_%06d.dpx' --input-rate 24 -o 'out/f_%06d.dpx'
        """)

    @Argument(help: ArgumentHelp("The film to restore: any file FFmpeg reads, or an image sequence of scans such as scan/frame_%06d.dpx (DPX, TIFF, PNG, EXR, … with --input-rate).", valueName: "input"))
    var input: String

    @Option(help: ArgumentHelp("Frame rate of an image sequence, e.g. 24, 16 or 24000/1001 (required for sequences).", valueName: "rate"))
    var inputRate: String?

    @Option(help: "The video stream to restore when the input has several (numbers as `lumiere-coordinator probe` lists them); default: FFmpeg's best pick, with a note naming the others.")
    var videoStream: Int?

    @Option(name: [.short, .long], help: "Where to write the result: .mp4, .mkv or .mov, or an image sequence such as out/frame_%06d.dpx (.png, .tif, .dpx; the source's depth, 8 to 16 bits).")
    var output: String

    @Flag(inversion: .prefixedNo, help: "Replace an OUTPUT file that exists already (at the end, in one step). Default: refuse, exit status 64, before any work — on a terminal too: nothing is asked, so a run never waits for an answer.")
    var overwrite = false

    @Option(help: ArgumentHelp("""
        Upscale factor, 1…8 (ignored when --size is given). A model runs at its own scale (most are ×4 only; \
        realesr-animevideov3 also ×2 and ×3, waifu2x-photo ×2) and Lanczos covers the rest: a larger --scale \
        finishes with Lanczos, a smaller one (--scale 2 with a ×4 model) runs ×4 and shrinks the result, so it \
        takes the time of ×4. The start of the job says so, with an estimate of the whole job's time (one frame of \
        the film restored with these settings and timed on this machine).
        """))
    var scale: Int = 2

    @Option(help: ArgumentHelp("Exact output size WxH, e.g. 3840x2160; the picture keeps its aspect ratio.", valueName: "WxH"))
    var size: String?

    @Flag(inversion: .prefixedNo, help: "With --size: pad with black to exactly WxH (otherwise the output is the fitted picture size).")
    var pad: Bool = true

    @Option(name: [.customLong("model"), .customLong("processor")],
            help: ArgumentHelp("Super-resolution model: \(FilterFactory.knownProcessors.joined(separator: ", ")); lanczos is classical resampling (no model). "
                + "Or your own ncnn model: path/to/NAME.param with NAME.bin beside it (any value with a / or ending in .param) built from the engine's layers; "
                + "its scale is found by a probe run; remote workers need the same files at the same absolute path (docs/models.md, \"Your own ncnn model\").",
                               valueName: "name|path.param"),
            completion: .list(FilterFactory.knownProcessors))
    var processor: String = RestoreSettings.defaultProcessor

    @Option(help: "waifu2x-photo only: JPEG-like noise removal level 0…3 (grainy film: 1 or 2).")
    var noise: Int?

    @Option(help: "Engine tile side in input pixels: bounds memory on large frames (default 256).")
    var tile: Int?

    @Option(help: ArgumentHelp("Folder holding the models (searched first; then $LUMIERE_MODELS, <prefix>/share/lumiere/models, ./models, the checkout's models/; see `lumiere-coordinator models`).",
                               valueName: "dir"))
    var modelsDir: String?

    @Option(help: "Video codec: h264 (libx264, yuv420p, plays everywhere) or ffv1 (lossless, for masters and intermediates). An image sequence takes its codec from the output name (-o out/frame_%06d.dpx).")
    var codec: OutputCodec = .h264

    @Option(help: "x264 quality, 0 (lossless) … 51; 18 is visually transparent for film.")
    var crf: Int = 18

    @Option(help: "x264 preset, fastest to slowest; slower gives smaller files at the same quality.")
    var preset: X264Preset = .medium

    @Option(help: "Output pixel format, e.g. yuv444p or gbrp16le; default: yuv420p for h264, the source's depth and chroma for ffv1.")
    var pixelFormat: String?

    @Option(help: ArgumentHelp("Interlaced input: auto (deinterlace with bwdif when the stream is interlaced, with a note), deinterlace (always), keep (process the woven frames as they are).",
                               valueName: "mode"))
    var interlaced: InterlaceMode = .auto

    @OptionGroup(title: "Frame rate") var frameRate: FrameRateOptions

    @OptionGroup(title: "Film restoration (before super-resolution and interpolation, at source size)") var filmOptions: FilmRestorationOptions

    @Option(help: ArgumentHelp("Restore only from this time in the film (seconds, M:SS or H:MM:SS, from its first frame): the frame shown then comes first, and the audio from the same moment.", valueName: "time"))
    var start: String?

    @Option(help: ArgumentHelp("Restore only this long from --start (or the beginning), in whole frames of the source, with the matching audio.", valueName: "time"))
    var duration: String?

    @Option(help: ArgumentHelp("Restore only this many frames of the source from --start (instead of --duration).", valueName: "n"))
    var frames: Int?

    @Option(help: "Threads for decoding, processing and encoding (0 = all cores).")
    var threads: Int = 0

    @Flag(help: "No progress output.")
    var quiet = false

    @Option(help: ArgumentHelp("Serve a farm: bind here for remote workers, e.g. tcp://*:5555. Without it, restore starts local workers itself.", valueName: "endpoint"))
    var bind: String?

    @Option(help: "Local worker processes to start (default: one per core; with --bind: none).")
    var workers: Int?

    @Option(help: "Threads per local worker (default: cores / workers).")
    var workerThreads: Int?

    @Option(help: ArgumentHelp("Where the local workers (or --in-process) run the models: auto (a GPU when there is one, else the CPU engine), cpu, gpu (the first GPU), or gpu:N (device N of `lumiere-coordinator --list-devices`, a CPU Vulkan implementation such as lavapipe included). Remote workers choose their own.",
                               valueName: "device"))
    var device: DeviceRequest = .auto

    @Option(help: ArgumentHelp("How a GPU of the local workers (or --in-process) stores the models' intermediate results: fp32 (the CPU engine's results within 1e-3), or fp16 (half the GPU memory and traffic; at least 45 dB from fp32). Ignored on the CPU engine; remote workers choose their own.",
                               valueName: "precision"))
    var precision: GPUPrecision = .fp32

    @Option(help: "Job directory for the plan, segment files and journal (default: OUTPUT.lumiere-job).")
    var jobDir: String?

    @Flag(help: "Keep the job directory after success.")
    var keepJob = false

    @Flag(inversion: .prefixedNo, help: "Workers encode the frames no seam touches in the final codec and the head node joins the pieces, encoding only the seams (H.264 or FFV1 in .mp4/.mov/.mkv). --no-workers-encode: every result comes back lossless and the head node encodes the whole film (slower; for comparisons).")
    var workersEncode = true

    @Option(help: "Longest segment handed to one worker, in seconds of film.")
    var segmentSeconds: Double = 10

    @Option(help: "Frames two neighbouring segments of one long shot both restore; the seam is blended where they agree best. Default: none where every segment makes exactly the frames of one run over the shot (super-resolution, lanczos, film restoration), 1 with --fps --keep-duplicates (interpolation reads one frame past a segment), \(SegmentPlannerSettings.blendingOverlapFrames) with --fps and duplicate detection.")
    var overlap: Int?

    @OptionGroup var shotOptions: ShotDetectionOptions

    @Option(help: ArgumentHelp("A shot list from `lumiere-coordinator shots INPUT --json -o FILE`, reused when it matches the input and settings.", valueName: "file"))
    var shots: String?

    @Option(help: "The coordinator's CURVE secret key file (NAME.key, with NAME.pub beside it); enables encryption and authentication.")
    var key: String?

    @Option(help: "Worker public keys (.pub files, or a directory of them) allowed to join; required with --key.")
    var allowKeys: [String] = []

    @Flag(help: "Allow --bind on a non-loopback address without keys (traffic unencrypted, anyone may join).")
    var insecure = false

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .warning

    @Option(help: "Log lines on stderr: text for people, json for machines (one JSON object per line: time, level, label, message, metadata; warnings, notes, progress lines (with a `progress` object: phase, done, total, fps, eta_seconds, job_eta_seconds) and the final error too; the live view and summary table are off as with --quiet).")
    var logFormat: LogFormat = .text

    @OptionGroup(title: "Monitoring") var monitoringOptions: MonitoringCommandOptions

    @Flag(help: "Render the segments in this process instead of on workers: the same plan, journal, resume and output, no farm protocol.")
    var inProcess = false

    func run() throws {
        logFormat.bootstrap()
        // Ctrl-C/SIGTERM in every phase: the first stops cleanly and resumably (exit 130, or 143 for SIGTERM), the second at once.
        let stop = StopSignal()
        try failing(stop: stop) {
            let (settings, options) = try prepared()
            let summary: RestorePipeline.Summary
            stop.install()
            defer { stop.uninstall() }
            do {
                var logger = Logger(label: "lumiere-coordinator")
                logger.logLevel = logLevel
                let pipeline = FarmRestorePipeline(settings: settings, options: options, logger: logger,
                                                   warn: { ConsoleLine.write(.warning, "warning", $0, label: "lumiere-coordinator") })
                pipeline.stop = stop
                summary = try pipeline.run()
            }
            if logFormat == .json {
                ConsoleLine.write(.notice, "", "wrote \(output): \(summary.frames) frames, \(summary.size) at \(summary.rate) fps in \(String(format: "%.1f", summary.seconds)) s", label: "lumiere-coordinator")
            } else if !quiet {
                FileHandle.standardError.write(Data("wrote \(output): \(summary.frames) frames, \(summary.size) at \(summary.rate) fps in \(String(format: "%.1f", summary.seconds)) s\n".utf8))
            }
        }
    }

    /// The job this command line describes, validated exactly as `restore` runs it (`submit` checks a job with it, and
    /// `serve` makes the job from it again). Nothing is read but the source's header (for --start and friends).
    func prepared() throws -> (settings: RestoreSettings, options: FarmOptions) {
        if let modelsDir {
            // Every model this process and its local workers load comes from here.
            ModelLocator.commandLineDirectory = modelsDir
            ModelLocator.commandLineDirectory = try ModelLocator.modelsDirectory().path
        }
        let geometry: OutputGeometry.Request
        if let size {
            guard let box = PixelSize(parsing: size) else { throw ValidationFailure("--size must look like 3840x2160, got \(size)") }
            geometry = .size(box, pad: pad)
        } else {
            geometry = .scale(scale)
        }
        var processor = self.processor
        if OwnModel.isPath(processor) {
            // The user's own model is checked now, before any work: layer types, weights, probe run (docs/models.md).
            let own = try OwnModel.inspect(processor)
            if let noise { throw ValidationFailure("--noise \(noise) is for waifu2x-photo; the model \(own.param.path) has no noise setting") }
            processor = own.param.path
        } else {
            guard FilterFactory.knownProcessors.contains(processor) else {
                throw ValidationFailure("unknown --model \(processor); choose one of \(FilterFactory.knownProcessors.joined(separator: ", ")), "
                    + "or the path of your own ncnn model (NAME.param with NAME.bin beside it)")
            }
        }
        var codec = self.codec.codec
        // An output such as out/frame_%06d.dpx is an image sequence of that kind, at the source's depth.
        let target = OutputTarget(output, overwrite: overwrite)
        if target.isSequence {
            guard let image = target.imageCodec else { throw RestoreError.unsupportedSequenceExtension(target.url.pathExtension) }
            codec = image
        }
        guard threads >= 0 else { throw ValidationFailure("--threads must be 0 (all cores) or more") }
        if let tile, !RenderRecipe.isValidTileSize(tile) {
            throw ValidationFailure("--tile must be 0 (the whole frame at once) or 32…8192 input pixels, got \(tile)")
        }
        if let noise, !(0...3).contains(noise) { throw ValidationFailure("--noise must be 0…3, got \(noise)") }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = RestoreCommand.capped(self.threads, "--threads", limit: RestoreCommand.maxThreads(cores: cores), why: "more threads than that only compete for \(cores) cores")
        let encoding = try VideoEncoding(codec: codec, crf: crf, preset: preset.rawValue, pixelFormat: pixelFormat).validated()
        // JSON logs are for a machine: the live view and the summary table (text) are left out, as with --quiet; the
        // progress lines and notes come as JSON records (ProgressReporter, ConsoleLine) unless --quiet.
        let quiet = self.quiet
        var settings = RestoreSettings(input: input, output: output, geometry: geometry, processor: processor, noise: noise, tileSize: tile,
                                       encoding: encoding, threads: threads, quiet: quiet)
        settings.overwrite = overwrite
        settings.retime = try frameRate.settings()
        settings.film = try filmOptions.film()
        settings.interlacing = interlaced
        if let inputRate {
            guard let rate = Rational(parsing: inputRate), rate > .zero, rate <= Rational(1000) else {
                throw ValidationFailure("--input-rate must be a positive rate up to 1000 such as 24, 16 or 24000/1001, got \(inputRate)")
            }
            guard settings.source.isSequence else {
                throw ValidationFailure("--input-rate is for image sequences (a name with %06d, say); \(input) is a file and keeps its own rate")
            }
            settings.inputRate = rate
        }
        if let videoStream {
            guard (0...1023).contains(videoStream) else { throw ValidationFailure("--video-stream must be 0…1023, got \(videoStream)") }
            settings.videoStream = videoStream
        }
        if start != nil || duration != nil || frames != nil {
            settings.trim = try RestoreCommand.trim(start: start, duration: duration, frames: frames, source: settings.source)
        }
        if inProcess, bind != nil || self.workers != nil || self.workerThreads != nil {
            throw ValidationFailure("--in-process renders in this process: drop --bind, --workers and --worker-threads (or --in-process)")
        }
        guard segmentSeconds >= 0.5 else { throw ValidationFailure("--segment-seconds must be at least 0.5") }
        if let workers = self.workers, workers < 0 { throw ValidationFailure("--workers must be 0 or more") }
        if let workerThreads = self.workerThreads, workerThreads < 1 { throw ValidationFailure("--worker-threads must be at least 1") }
        if bind == nil, self.workers == 0 { throw ValidationFailure("--workers 0 needs --bind, or nobody would do the work") }
        let workers = self.workers.map { RestoreCommand.capped($0, "--workers", limit: 4 * cores, why: "more local worker processes than 4 per core only compete for \(cores) cores") }
        let workerThreads = self.workerThreads.map { RestoreCommand.capped($0, "--worker-threads", limit: RestoreCommand.maxThreads(cores: cores), why: "more threads than that only compete for \(cores) cores") }
        var options = FarmOptions(bind: bind, localWorkers: workers, threadsPerWorker: workerThreads, jobDirectory: jobDir)
        options.keepJobDirectory = keepJob
        options.workersEncode = workersEncode
        options.inProcess = inProcess
        options.device = device
        options.precision = precision
        options.maxSegmentSeconds = segmentSeconds
        if let overlap { guard (0...1000).contains(overlap) else { throw ValidationFailure("--overlap must be 0…1000 frames") } }
        options.overlapFrames = overlap
        options.shotDetection = try shotOptions.settings()
        options.shotsFile = shots
        options.insecure = insecure
        options.monitoring = try monitoringOptions.settings(quiet: quiet || logFormat == .json)
        options.curve = try RestoreCommand.curve(key: key, allowKeys: allowKeys)
        return (settings, options)
    }
}

extension RestoreCommand {
    /// Threads beyond 4 per core (or 64) only add memory and contention; FFmpeg's decoders refuse far larger counts.
    static func maxThreads(cores: Int) -> Int { min(64, max(4, 4 * cores)) }

    /// `value` or `limit`, whichever is smaller, with a note when it was capped.
    static func capped(_ value: Int, _ option: String, limit: Int, why: String) -> Int {
        guard value > limit else { return value }
        ConsoleLine.write(.notice, "note", "\(option) \(value) lowered to \(limit): \(why)", label: "lumiere-coordinator")
        return limit
    }

    /// `--start`, `--duration`, `--frames` as frames of the source's constant-rate sequence (its rate read from the
    /// header): frame-exact, so the same range is cut from the picture and the sound (`MediaSource.Trim`).
    static func trim(start: String?, duration: String?, frames: Int?, source: MediaSource) throws -> MediaSource.Trim {
        func time(_ text: String?, _ option: String) throws -> Double? {
            guard let text else { return nil }
            guard let seconds = FilmTime.parse(text) else { throw TrimFailure("\(option) must be a time such as 12.5, 1:02.5 or 0:01:02.5, got \(text)") }
            return seconds
        }
        let from = try time(start, "--start") ?? 0
        let length = try time(duration, "--duration")
        if length != nil, frames != nil { throw TrimFailure("--duration and --frames both say how much to restore; give one of them") }
        if let length, length <= 0 { throw TrimFailure("--duration must be longer than 0: give how long to restore (10, 1:30), or --frames N") }
        if let frames, frames < 1 { throw TrimFailure("--frames must be 1 or more, got \(frames): give how many source frames to restore") }
        let reader = try ConstantRateReader(source: source, threads: 1)
        let trim = MediaSource.Trim(start: from, duration: length, frames: frames.map(Int64.init), rate: reader.rate)
        if let whole = reader.estimatedFrameCount, trim.first >= whole {
            throw TrimFailure(String(format: "--start %.3f s is at or beyond the film's end (it lasts about %.3f s); choose an earlier time",
                                           from, (Rational(whole) / reader.rate).doubleValue))
        }
        return trim
    }

    /// `--key` and `--allow-keys` (restore, serve): the coordinator's key pair and the workers allowed to join, or nil.
    static func curve(key: String?, allowKeys: [String]) throws -> (keys: CurveKeyPair, allowedWorkerKeys: [String])? {
        guard let key else {
            if !allowKeys.isEmpty { throw ValidationFailure("--allow-keys needs --key (the coordinator's own key pair)") }
            return nil
        }
        let secret = URL(fileURLWithPath: key)
        let keys = try CurveKeyPair.load(secretFile: secret, publicFile: secret.deletingPathExtension().appendingPathExtension("pub"))
        let allowed = try RestoreCommand.publicKeys(allowKeys)
        guard !allowed.isEmpty else { throw ValidationFailure("--key needs --allow-keys: the workers' .pub files (lumiere-coordinator keygen --name worker1)") }
        return (keys, allowed)
    }

    /// Public keys from .pub files or directories holding them.
    static func publicKeys(_ paths: [String]) throws -> [String] { try namedPublicKeys(paths).map(\.key) }

    /// `publicKeys` with each key's file name without `.pub` (who sent a remote request, in the service's log).
    static func namedPublicKeys(_ paths: [String]) throws -> [(name: String, key: String)] {
        var keys: [(name: String, key: String)] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ValidationFailure("no key file or directory at \(path)") }
            let url = URL(fileURLWithPath: path)
            if isDirectory.boolValue {
                keys += try CurveKeyPair.readNamedPublicKeys(directory: url)
            } else {
                keys.append((url.deletingPathExtension().lastPathComponent, try CurveKeyPair.readKeyFile(url)))
            }
        }
        return keys
    }
}

/// A command-line value that makes no sense, said in one sentence.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--start`/`--duration`/`--frames` that cannot be cut from the film: a usage error (exit 64), said with what to give.
struct TrimFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
