import Foundation
import Logging
import Media
import Planning
import Shared

/// The film's one decode pass while the farm already runs (issue 16 item 1): each frame feeds the shot detector (unless
/// a matching shot list is known) and is fingerprinted; each time a shot closes — its cut confirmed, the detector's
/// look-ahead past it — the shot is planned (`ShotPlanner`), checked against the journal and its segments' inputs are
/// cut from the source's packets and handed out (`SegmentRelease`). A long shot's first segments go out before its cut
/// is found, as soon as `ShotSplit` decides them from the frames the detector has settled (`ShotDetector.settledFrames`).
/// So the first worker starts after the first segment's frames, not after two passes over the whole film, nor after
/// the first shot. Runs on a thread of its own; `join` returns its outcome.
///
/// Sources whose segments travel as packet cuts (the common case) get their inputs cut from the packets just read;
/// the others (image sequences, interlaced video the coordinator deinterlaces, codecs not proven to cut) get lossless
/// inputs, written by a decode that trails this one (`LosslessInputCutter`). A packet source whose decode turns up a
/// hazard for cuts midway (`Unavailable`) restarts with lossless inputs.
final class StreamingAnalysis: @unchecked Sendable {
    /// How segment inputs are made.
    enum Inputs {
        /// Cuts of the source's own packets.
        case packets(SegmentInputCutWriter)
        /// The frames themselves, losslessly.
        case lossless(LosslessInputCutter)
    }

    /// Cuts cannot carry this source after all (found while decoding): the job restarts with lossless inputs (still
    /// streaming; the classic passes with `FarmOptions.streamLosslessInputs` off), reusing every segment finished meanwhile.
    struct Unavailable: Error, CustomStringConvertible {
        var reason: String
        var description: String { "segment inputs cannot be the source's packets (\(reason)): starting again with lossless inputs" }
    }
    struct Cancelled: Error {}

    struct Outcome {
        var shots: ShotList
        var analysed: Bool
    }

    private let source: MediaSource
    private let rate: Rational
    private let threads: Int
    private let known: ShotList?
    private let detection: ShotDetectorSettings
    private var planner: ShotPlanner
    private let release: SegmentRelease
    private let inputs: Inputs
    private let identity: String
    private let stop: StopSignal
    private let progress: ProgressReporter
    private let logger: Logger
    /// The executor's phase ("farm", "restore"), begun before this pass and current again after it.
    private let executorPhase: String
    private var started = false

    private let lock = NSLock()
    private var cancelled = false
    private var framesDone = 0
    private var result: Result<Outcome, Error>?
    private let done = DispatchSemaphore(value: 0)
    private var startedSplit = false
    /// The shots' cut packets so far, and their frames (a stream whose keyframes are too far apart goes lossless).
    private var cutPackets = 0, cutFrames = 0, cutCount = 0, cutBytes: Int64 = 0

    init(source: MediaSource, rate: Rational, threads: Int, known: ShotList?, detection: ShotDetectorSettings, planner: ShotPlanner,
         release: SegmentRelease, inputs: Inputs, identity: String, stop: StopSignal, estimatedFrames: Int64?, quiet: Bool, logger: Logger,
         executorPhase: String) {
        self.source = source
        self.rate = rate
        self.threads = threads
        self.known = known
        self.detection = detection
        self.planner = planner
        self.release = release
        self.inputs = inputs
        self.identity = identity
        self.stop = stop
        self.progress = ProgressReporter(label: known == nil ? "analyse" : "check", total: estimatedFrames ?? known.map { Int64($0.frameCount) }, quiet: quiet)
        self.logger = logger
        self.executorPhase = executorPhase
    }

    /// Frames decoded so far (the analysis's position; tests compare it with the film's length at the first assignment).
    var position: Int { lock.withLock { framesDone } }

    /// Starts the pass, once the executor is ready for segments (its phase begun: a stop is reported in the phase last begun).
    func start() {
        lock.withLock { started = true }
        let thread = Thread { [self] in
            let outcome = Result { try self.pass() }
            switch outcome {
            case .success:
                stop.enter(executorPhase)
                release.finish()
            case .failure(let error): release.fail(error)
            }
            lock.withLock { result = outcome }
            done.signal()
        }
        thread.name = "lumiere.analysis"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Stops at the next frame (the job failed or stopped elsewhere).
    func cancel() { lock.withLock { cancelled = true } }

    /// Waits for the pass to end; its shot list, or its error.
    func join() -> Result<Outcome, Error> {
        guard lock.withLock({ started }) else { return .failure(Cancelled()) }
        done.wait()
        done.signal()
        return lock.withLock { result! }
    }

    private func pass() throws -> Outcome {
        try stop.begin("analysis")
        let reader = try ConstantRateReader(source: source, rate: rate, threads: threads)
        let converter = PixelConverter()
        var detector = known == nil ? try ShotDetector(settings: detection) : nil
        // Boundaries of a known list, in order; the next one closes a shot when the decode reaches it.
        var knownCuts = known?.boundaries.map(\.frame) ?? []
        knownCuts.reverse()
        var hashes: [FrameHash] = [] // from `base`: the frames the open shot's segments not yet planned may still read
        var base = 0
        var index = 0
        let radius = release.contextRadius
        func send(_ shot: PlannedShot) throws {
            if case .packets = inputs, let hazard = SegmentInputCut.hazard(after: reader) { throw Unavailable(reason: hazard) }
            var fingerprints: [SegmentIndex: String] = [:]
            for (k, segment) in shot.segments.enumerated() {
                let frames = release.fileFrames(shot, k) // inside the shot and analysed, so inside `hashes`
                fingerprints[segment.index] = FrameHash.combined(Array(hashes[(frames.lowerBound - base)..<(frames.upperBound - base)]))
            }
            // Waits here, before each input, while the farm is too far behind (`InputGate`): decoding and cutting wait
            // together, since a cut is made from the packets just read (and a lossless input from the frames just decoded).
            // While it waits the job is the farm's (its phase, as /metrics and a stop report it); cutting again is "split".
            try release.release([shot], fingerprints: fingerprints, abandon: {
                self.stop.enter(self.executorPhase)
                if self.lock.withLock({ self.cancelled }) { throw Cancelled() }
                try self.stop.checkpoint(self.startedSplit ? "split" : "analysis")
            }) { targets in try self.writeInputs(targets, fingerprints: fingerprints, reader: reader) }
        }
        func close(at end: Int, isLast: Bool) throws {
            try send(try planner.plan(shotEndingAt: end, isLast: isLast))
            hashes.removeFirst(end - base)
            base = end
        }
        /// A long shot's first segments, before its cut is found (issue 16): those `ShotSplit` decides on the frames known
        /// to be in it (`known`), once their inputs and restoration context are analysed.
        func releaseOpenShot(known: Int) throws {
            guard let part = try planner.plan(openShotKnownUpTo: known, reserve: radius) else { return }
            try send(part)
            // The next segment's input reaches back at most the overlap and the context before its first owned frame.
            let keep = max(base, planner.openFrom - planner.settings.overlapFrames - radius)
            hashes.removeFirst(keep - base)
            base = keep
        }
        while let frame = try reader.next() {
            hashes.append(try FrameHash(frame.picture))
            index += 1
            if detector != nil {
                for boundary in detector!.push(LumaThumbnail(image: try converter.rgbImage(from: frame.picture))) {
                    try close(at: boundary.frame, isLast: false)
                }
                try releaseOpenShot(known: detector!.settledFrames)
            } else {
                if let next = knownCuts.last, next <= index {
                    knownCuts.removeLast()
                    try close(at: next, isLast: false)
                }
                try releaseOpenShot(known: index) // the next listed cut is past every frame decoded
            }
            lock.withLock { framesDone = index }
            progress.update(done: Int64(index))
            if lock.withLock({ cancelled }) { throw Cancelled() }
            try stop.checkpoint(startedSplit ? "split" : "analysis")
        }
        progress.finish(done: Int64(index))
        defer {
            switch inputs {
            case .packets(let cuts) where cutCount > 0:
                logger.info("segment inputs: \(cutCount) cuts of the source's \(cuts.index.codec) packets, \(cutBytes) bytes (\(cutPackets) packets for \(cutFrames) frames)")
            case .lossless(let frames) where frames.written > 0:
                logger.info("segment inputs: \(frames.written) lossless files, \(frames.bytes) bytes\(frames.reopened > 0 ? ", the source decoded again \(frames.reopened) time(s)" : "")")
            default: break
            }
            if let report = release.gate?.report, report.peak > 0 {
                logger.info("segment inputs: at most \(report.peak) waiting for the farm at once; the analysis waited \(String(format: "%.1f", report.waited)) s for it")
            }
        }
        if let known, known.frameCount != index { throw FarmRestorePipeline.StaleAnalysis.frameCount(listed: known.frameCount, decoded: index) }
        guard index > 0 else { throw PlanningError.invalidPlan("the input has no video frames") }
        if var detector {
            for boundary in detector.finish() { try close(at: boundary.frame, isLast: false) }
            try close(at: index, isLast: true)
            return Outcome(shots: detector.shotList(rate: reader.rate, input: identity), analysed: true)
        }
        try close(at: index, isLast: true)
        return Outcome(shots: known!, analysed: false)
    }

    /// Segment inputs: cuts of the source's packets, each carrying its fingerprint for the worker to check, or the
    /// frames themselves losslessly.
    private func writeInputs(_ targets: [SegmentInputWriter.Target], fingerprints: [SegmentIndex: String], reader: ConstantRateReader) throws {
        if !startedSplit {
            startedSplit = true
            try stop.begin("split")
        } else {
            stop.enter("split")
        }
        switch inputs {
        case .packets(let cuts): try writeCuts(targets, fingerprints: fingerprints, reader: reader, cuts: cuts)
        case .lossless(let frames): try frames.write(targets)
        }
    }

    private func writeCuts(_ targets: [SegmentInputWriter.Target], fingerprints: [SegmentIndex: String], reader: ConstantRateReader,
                           cuts: SegmentInputCutWriter) throws {
        let index = cuts.index
        let cutTargets = targets.map { t in
            SegmentInputCut.Target(file: t.file!, index: index, packets: index.packets(for: t.frames, rate: rate, start: reader.startTime),
                                   header: SegmentInputCut.Header(rate: rate, start: reader.startTime, frames: t.frames, fingerprint: fingerprints[t.segment]))
        }
        // Whether cuts cost more than lossless inputs was decided once, before the first segment went out
        // (`PacketIndex.estimatedCuts`); deciding it here could restart the job after segments were done.
        cutPackets += cutTargets.reduce(0) { $0 + $1.packets.count }
        cutFrames += cutTargets.reduce(0) { $0 + $1.header.frames.count }
        do { try cuts.write(cutTargets) } catch where !StopSignal.isStop(error) {
            for cut in cutTargets { try? FileManager.default.removeItem(at: cut.file) }
            throw Unavailable(reason: "\(error)")
        }
        cutCount += cutTargets.count
        cutBytes += cutTargets.reduce(Int64(0)) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1.file.path)[.size] as? Int64) ?? 0) }
    }
}
