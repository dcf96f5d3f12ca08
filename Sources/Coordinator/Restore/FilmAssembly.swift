import Foundation
import Logging
import Media
import Planning
import Processors
import Shared

/// The segments whose results are in the job directory, posted as the farm records them (and at the start for those
/// a resumed job reuses): the film is joined in order while later segments still render.
final class ResultBoard: @unchecked Sendable {
    struct Cancelled: Error {}
    private let condition = NSCondition()
    private var ready: [SegmentIndex: URL] = [:]
    private var cancelled = false

    func post(_ segment: SegmentIndex, _ url: URL) {
        condition.lock(); defer { condition.unlock() }
        ready[segment] = url
        condition.broadcast()
    }

    func cancel() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
    }

    var isCancelled: Bool { condition.lock(); defer { condition.unlock() }; return cancelled }

    /// Waits until `segment`'s result is recorded.
    func wait(_ segment: SegmentIndex) throws -> URL {
        condition.lock(); defer { condition.unlock() }
        while ready[segment] == nil && !cancelled { condition.wait() }
        if let url = ready[segment] { return url }
        throw Cancelled()
    }
}

/// Writes the film on a thread of its own from the moment the farm starts (issue 16, item 6): it follows the
/// `StitchPlan` in film order and waits on the `ResultBoard` for each segment it needs, so when the last segment
/// arrives only what follows it is left — seconds of work, not an encode of the whole film. Joined (workers encoded
/// their interiors, `PieceJoiner`): interiors are copied as packets, seams blended and encoded here. Otherwise every
/// frame is decoded from the lossless results, blended and encoded here.
/// The output is written under its hidden partial name and published by `finish()` only when complete.
final class FilmAssembly: @unchecked Sendable {
    struct Setup {
        /// The film's shots and segments, which may still be growing while the film is written.
        var plan: GrowingPlan
        var geometry: OutputGeometry
        var video: MediaWriter.VideoSettings
        /// Joined (workers encoded their interiors, `PlannedShot.interiors`); false: every result lossless.
        var joined: Bool
        var source: MediaSource
        var seamFile: URL
        var quiet: Bool
        /// The whole job's ETA, on the tail's progress line.
        var eta: JobETA? = nil
    }

    private let setup: Setup
    private let board: ResultBoard
    private let target: OutputTarget
    private let stop: StopSignal
    private let logger: Logger
    private let warn: (String) -> Void
    private let lock = NSLock()
    private var framesDone: Int64 = 0
    private var farmOver = false
    /// Frames written when the farm ended (`finish` was called).
    private(set) var framesAtFarmEnd: Int64 = 0
    private var outcome: Result<Int64, Error>?
    private let done = DispatchSemaphore(value: 0)
    private var thread: Thread?
    private var stopToken: Int?

    init(setup: Setup, board: ResultBoard, target: OutputTarget, stop: StopSignal, logger: Logger, warn: @escaping (String) -> Void) {
        self.setup = setup
        self.board = board
        self.target = target
        self.stop = stop
        self.logger = logger
        self.warn = warn
    }

    /// Starts writing (the partial output is recorded in the job first, so a killed run's file is removed on resume).
    func start(job: JobDirectory) throws {
        try job.notePartialOutput(target.partial)
        try target.prepare()
        stopToken = stop.registerTemporary(target.partial.path)
        let thread = Thread { [self] in
            let result = Result { try self.write() }
            lock.lock(); outcome = result; lock.unlock()
            done.signal()
        }
        thread.name = "lumiere.assembly"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// After the farm: the rest of the film (the "encode" phase: a stop here ends the job resumably), then the output
    /// appears under its name.
    func finish() throws -> Int64 {
        lock.lock(); farmOver = true; framesAtFarmEnd = framesDone; lock.unlock()
        // The farm ends only after the plan is complete: the film's length is known now.
        guard let expected = setup.plan.outputFrameCount else { throw RestoreError.frameCountMismatch(expected: -1, written: framesAtFarmEnd) }
        let progress = ProgressReporter(label: setup.joined ? "join" : "encode", total: Int64(expected), quiet: setup.quiet, job: setup.eta)
        while done.wait(timeout: .now() + 0.25) == .timedOut { progress.update(done: frames) }
        done.signal() // stays signalled once the writer has ended (`cancel` waits on it too)
        defer { removePartial() }
        lock.lock(); let result = outcome!; lock.unlock()
        let written = try result.get()
        progress.finish(done: written)
        try stop.checkpoint("encode")
        guard written == Int64(expected) else {
            throw RestoreError.frameCountMismatch(expected: Int64(expected), written: written)
        }
        try target.publish()
        return written
    }

    /// The job failed or was stopped: the writer stops, the partial output goes.
    func cancel() {
        board.cancel()
        setup.plan.cancel()
        if thread != nil { done.wait(); done.signal() }
        removePartial()
    }

    private var frames: Int64 { lock.lock(); defer { lock.unlock() }; return framesDone }

    private func removePartial() {
        if let token = stopToken { stop.remove(token); stopToken = nil }
        try? FileManager.default.removeItem(at: target.partial)
    }

    /// Between frames: stop when the job is cancelled, or when a stop is requested once the farm is over (during the
    /// farm a stop drains the farm, which then cancels this).
    private func checkpoint(_ count: Int64) throws {
        lock.lock(); framesDone = count; let over = farmOver; lock.unlock()
        if board.isCancelled { throw ResultBoard.Cancelled() }
        if over { try stop.checkpoint("encode") }
    }

    private func write() throws -> Int64 {
        let s = setup
        let joined = s.joined
        let assembler = StitchAssembler(batches: { k in
            try s.plan.shot(k).map { StitchAssembler.Batch(segments: $0.output, start: $0.outputFrames.lowerBound, interiors: joined ? $0.interiors : nil) }
        }, resultURL: { try self.board.wait($0) }, content: s.geometry.content)
        let seams: [StitchAssembler.SeamReport]
        let written: Int64
        if joined {
            let joiner = PieceJoiner(path: target.writePath, video: s.video, source: s.source, geometry: s.geometry, seamFile: s.seamFile, warn: warn)
            seams = try assembler.run(emit: { rgb in
                try self.checkpoint(joiner.frameCount)
                try joiner.seamFrame(rgb)
            }, copy: { segment, frames in
                try self.checkpoint(joiner.frameCount)
                let path = try self.board.wait(segment).path
                do {
                    let piece = try EncodedPiece(path: path)
                    guard piece.frameCount == frames.count else {
                        throw AssemblyError.segmentShort(segment: segment, file: path, expected: frames.count, got: piece.frameCount)
                    }
                    try joiner.append(piece)
                } catch let error as MediaError {
                    throw AssemblyError.unusable(segment: segment, file: path, detail: "\(error)")
                }
                try self.checkpoint(joiner.frameCount)
            })
            written = try joiner.finish().frameCount
        } else {
            let writer = try MediaWriter(path: target.writePath, video: s.video, carryStreamsFrom: s.source, warn: warn)
            let converter = PixelConverter()
            seams = try assembler.run { rgb in
                try self.checkpoint(writer.frameCount)
                try writer.write(try converter.picture(from: s.geometry.place(rgb), pixelFormat: writer.pixelFormat, color: s.video.color))
            }
            try writer.finish()
            written = writer.frameCount
        }
        for seam in seams { logger.debug("\(seam)") }
        lock.lock(); framesDone = written; lock.unlock()
        return written
    }
}

/// Writes a joined film: pieces encoded by workers are appended as they are; seam frames blended here are encoded into
/// a piece of their own (the same encoder settings, `SegmentResultWriter`), closed and appended when the next piece
/// comes, so every piece starts with a key frame. The output file is created with the first piece's stream header.
final class PieceJoiner {
    let path: String
    let video: MediaWriter.VideoSettings
    let source: MediaSource
    let geometry: OutputGeometry
    let seamFile: URL
    let warn: (String) -> Void
    private let converter = PixelConverter()
    private var writer: MediaWriter?
    private var seam: SegmentResultWriter?

    init(path: String, video: MediaWriter.VideoSettings, source: MediaSource, geometry: OutputGeometry, seamFile: URL, warn: @escaping (String) -> Void) {
        self.path = path; self.video = video; self.source = source; self.geometry = geometry; self.seamFile = seamFile; self.warn = warn
    }

    /// Frames in the film so far (the open seam's included).
    var frameCount: Int64 { (writer?.frameCount ?? 0) + Int64(seam?.encodedFrames ?? 0) }

    func seamFrame(_ rgb: RGBImage) throws {
        if seam == nil {
            try? FileManager.default.removeItem(at: seamFile)
            seam = try SegmentResultWriter(path: seamFile.path, losslessSize: geometry.content, losslessPixelFormat: "gbrp10le",
                                           encoding: video.encoding, canvas: geometry.canvas, rate: video.rate)
        }
        guard let seam else { return }
        let picture = try converter.picture(from: geometry.place(rgb), pixelFormat: seam.encodedPixelFormat, color: video.color)
        try seam.writeEncoded(picture, index: Int64(seam.encodedFrames))
    }

    func append(_ piece: EncodedPiece) throws {
        try closeSeam()
        try write(piece)
    }

    func finish() throws -> MediaWriter {
        try closeSeam()
        guard let writer else { throw RestoreError.frameCountMismatch(expected: 1, written: 0) }
        try writer.finish()
        return writer
    }

    private func closeSeam() throws {
        guard let open = seam else { return }
        seam = nil
        try open.finish()
        try write(try EncodedPiece(path: seamFile.path))
        try? FileManager.default.removeItem(at: seamFile)
    }

    private func write(_ piece: EncodedPiece) throws {
        guard piece.frameCount > 0 else { return }
        if writer == nil { writer = try MediaWriter(path: path, video: video, joining: piece, carryStreamsFrom: source, warn: warn) }
        try writer!.append(piece)
    }
}
