import ArgumentParser
import CommandLineSupport
import Foundation
import Inference
import Logging
import Processors
import Transport
import Worker

/// `lumiere-worker --connect tcp://HEAD:PORT --threads N --device auto`: joins a farm and processes segments until stopped.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lumiere-worker",
        abstract: "Join a Lumière farm and restore the segments the coordinator hands out.",
        discussion: "SIGINT/SIGTERM once: finish the current segment, then leave. Twice: hand it back now.",
        version: BuildInfo.versionLine)

    @Option(help: "Coordinator endpoint, e.g. tcp://head:5555 or ipc:///tmp/lumiere.sock (required unless --list-devices).")
    var connect: String?

    @Option(help: "Threads the processor may use (default: all cores; on a GPU they decode and encode).")
    var threads: Int?

    @Option(help: ArgumentHelp("Where the models run: auto (a GPU when there is one, else the CPU engine), cpu, gpu (the first GPU), or gpu:N (device N of --list-devices, a CPU Vulkan implementation such as lavapipe included).",
                               valueName: "device"))
    var device: DeviceRequest = .auto

    @Option(help: ArgumentHelp("How a GPU stores the models' intermediate results: fp32 (the CPU engine's results within 1e-3), or fp16 (half the GPU memory and traffic; at least 45 dB from fp32). Ignored on the CPU engine.",
                               valueName: "precision"))
    var precision: GPUPrecision = .fp32

    @Flag(help: DeviceListingCommand.help)
    var listDevices = false

    @Option(help: "Segments to hold beyond the one rendering (0-4): the next one's input arrives while this one renders, so the worker never waits between segments.")
    var segmentsAhead: UInt8 = 1

    @Option(help: "Worker name, unique in the farm (default: HOST-PID).")
    var name: String?

    @Option(help: "Scratch directory for segment files (default: a temporary directory).")
    var workDir: String?

    @Option(help: "This worker's CURVE secret key file (NAME.key; NAME.pub must sit beside it).")
    var key: String?

    @Option(help: "The coordinator's CURVE public key file (.pub). Required with --key.")
    var serverKey: String?

    @Option(help: "Folder holding the models (searched first; then $LUMIERE_MODELS, <prefix>/share/lumiere/models, ./models, the checkout's models/).")
    var modelsDir: String?

    @Option(help: "Use the simulated processor taking this many seconds per segment (tests, benchmarks).")
    var simulateSeconds: Double?

    @Flag(help: .hidden)
    var exitWithParent = false

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log lines on stderr: text for people, json for machines (one JSON object per line: time, level, label, message, metadata).")
    var logFormat: LogFormat = .text

    func validate() throws {
        if connect == nil, !listDevices { throw ValidationError("Missing expected argument '--connect <connect>'") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if segmentsAhead > FarmWorkerConfiguration.maxSegmentsAhead { throw ValidationError("--segments-ahead must be at most \(FarmWorkerConfiguration.maxSegmentsAhead)") }
        if (key == nil) != (serverKey == nil) { throw ValidationError("--key and --server-key go together") }
    }

    func run() throws {
        if listDevices { return DeviceListingCommand.print() }
        guard let connect else { throw ExitCode(64) }
        logFormat.bootstrap()
        var logger = Logger(label: "lumiere-worker")
        logger.logLevel = logLevel
        if let modelsDir {
            ModelLocator.commandLineDirectory = modelsDir
            do {
                ModelLocator.commandLineDirectory = try ModelLocator.modelsDirectory().path
            } catch {
                ConsoleLine.write(.error, "error", "\(error)", label: "lumiere-worker")
                throw ExitCode(2)
            }
        }
        // The device: a request that cannot be honoured (gpu:3 on a machine with one device, no Vulkan) stops the
        // worker now with the reason; `auto` settles for the CPU engine and says why. A simulation runs no model.
        let engine: ComputeDevice
        do {
            let (resolved, note) = simulateSeconds == nil ? try device.resolve() : (.cpu, nil)
            engine = resolved
            if let note { logger.notice("\(note)") }
            logger.info("models run on \(engine)\(engine.isGPU ? " in \(precision.rawValue)" : "")")
            if let note = precision.note(for: engine) { logger.notice("\(note)") }
        } catch {
            ConsoleLine.write(.error, "error", "--device \(device): \(error)", label: "lumiere-worker")
            throw ExitCode(2)
        }
        let selection = DeviceSelection(engine, precision: precision) { [logger] message, fault in
            if fault { logger.error("\(message)") } else { logger.notice("\(message)") }
        }
        // The real media pipeline unless a simulation is asked for (tests, soak runs, benchmarks).
        let processor: SegmentProcessor = simulateSeconds.map { SimulatedSegmentProcessor(secondsPerSegment: $0) }
            ?? MediaSegmentProcessor(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, device: selection,
                                     log: { [logger] in logger.info("\($0)") })
        var capabilities = FarmWorkerConfiguration.localCapabilities(name: name, threads: threads, segmentsAhead: segmentsAhead)
        capabilities.device = engine.description
        let directory = workDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("lumiere-worker-\(capabilities.workerName)")
        var configuration = FarmWorkerConfiguration(endpoint: connect, capabilities: capabilities, workDirectory: directory)
        if let key, let serverKey {
            let secretFile = URL(fileURLWithPath: key)
            let publicFile = secretFile.deletingPathExtension().appendingPathExtension("pub")
            configuration.curve = (try CurveKeyPair.load(secretFile: secretFile, publicFile: publicFile),
                                   try CurveKeyPair.readKeyFile(URL(fileURLWithPath: serverKey)))
        }
        let worker = FarmWorker(configuration: configuration, processor: processor, logger: logger)
        let signals = installShutdownSignals { worker.requestShutdown() }
        // A local worker started by `restore` leaves with its coordinator, even one killed without a word.
        if exitWithParent { exitWhenOrphaned { worker.kill() } }
        defer { signals.forEach { $0.cancel() } }
        switch try worker.run() {
        case .shutdown, .killed: return
        case .refused(let reason):
            ConsoleLine.write(.error, "error", reason, label: "lumiere-worker")
            throw ExitCode(2)
        }
    }
}

/// Calls `handler` once the process that started us has gone (we are re-parented).
func exitWhenOrphaned(_ handler: @escaping @Sendable () -> Void) {
    let parent = getppid()
    let timer = DispatchSource.makeTimerSource(queue: .global())
    timer.schedule(deadline: .now() + 1, repeating: 1)
    timer.setEventHandler {
        if getppid() != parent { handler(); timer.cancel() }
    }
    timer.resume()
    orphanTimer = timer
}
nonisolated(unsafe) private var orphanTimer: DispatchSourceTimer?

/// SIGINT and SIGTERM call `handler` (each time) instead of killing the process.
func installShutdownSignals(_ handler: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}

// `gitCommit` is generated by Plugins/GitCommit; --version prints it.
BuildInfo.commit = gitCommit
WorkerCommand.main()
