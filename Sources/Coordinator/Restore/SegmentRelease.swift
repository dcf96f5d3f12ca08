import Foundation
import Logging
import Media
import Planning
import Processors
import Shared

/// Hands planned shots' segments to the executor (farm or in-process) the moment they are known, after the resume
/// check: a segment the journal holds with the same frames (its fingerprint) is reused — posted straight to the film's
/// writer —, one whose frames changed is forgotten and redone, the others get their input and go to the `feed`.
/// Used shot by shot while the film is analysed (`StreamingAnalysis`), or for the whole plan at once (classic pass).
final class SegmentRelease: @unchecked Sendable {
    /// What the executor needs to know of a released segment.
    struct Released {
        var key: String
        var input: URL
        var fingerprint: String?
    }

    private let job: JobDirectory
    private let identity: String
    private let settingsText: String
    private let recipe: RenderRecipe
    private let board: ResultBoard
    private let feed: SegmentFeed
    private let film: GrowingPlan
    /// Made by this run: a finished segment whose frames changed is redone; else (a reused shot list) the list is stale.
    private let analysed: Bool
    private let warn: (String) -> Void
    /// Backpressure while the film streams (`InputGate`): inputs are written one segment at a time, each once the farm is
    /// close enough behind, and handed out at once. nil (the classic pass): the inputs are already written.
    let gate: InputGate?
    /// Film restoration's context: each input file also holds up to this many frames either side of the segment's own,
    /// inside its shot (`TemporalContext`); the worker restores them with the segment and drops them.
    let contextRadius: Int
    private let lock = NSLock()
    private var released: [SegmentIndex: Released] = [:]
    private(set) var keys: [String] = []
    private(set) var restored = 0
    private(set) var reused = 0

    init(job: JobDirectory, identity: String, recipe: RenderRecipe, rate: Rational, board: ResultBoard, feed: SegmentFeed, film: GrowingPlan,
         analysed: Bool, gate: InputGate? = nil, warn: @escaping (String) -> Void) throws {
        self.job = job
        self.identity = identity
        self.settingsText = try RestoreJobPlan.fingerprint(recipe: recipe, rate: rate)
        self.contextRadius = try recipe.film.map { try TemporalChain(film: $0).radius } ?? 0
        self.recipe = recipe
        self.board = board
        self.feed = feed
        self.film = film
        self.analysed = analysed
        self.gate = gate
        self.warn = warn
    }

    func lookup(_ segment: SegmentIndex) -> Released? { lock.withLock { released[segment] } }

    /// Where results arrive before they are recorded.
    func scratchDirectory() throws -> URL { try job.ownedDirectory("incoming") }

    func recorder() -> ResultRecorder { ResultRecorder(job: job) }

    /// A finished segment: journaled (on the recorder's queue), then posted to the film's writer.
    func record(_ segment: SegmentIndex, resultFile: URL, frames: Int, recorder: ResultRecorder) throws {
        guard let released = lookup(segment) else {
            throw FarmError.resultSinkFailed(segment: SegmentID(segment), underlying: "segment \(segment) was never released")
        }
        let board = self.board, gate = self.gate
        try recorder.record(key: released.key, resultFile: resultFile, frames: frames, input: released.input, inputFrames: released.fingerprint,
                            recorded: { board.post(segment, $0) }, settled: { gate?.finished(segment) })
    }

    var counts: (restored: Int, reused: Int) { lock.withLock { (restored, reused) } }

    func inputFile(_ key: String) -> URL { job.inputsURL.appendingPathComponent("segment-\(key).mkv") }

    /// A segment's interior relative to its own output frames (what the worker encodes), with a delivery encoding.
    func relativeInterior(_ shot: PlannedShot, _ k: Int) -> Range<Int>? {
        guard recipe.delivery != nil else { return nil }
        let interior = shot.interiors[k], start = shot.output[k].input.lowerBound
        return (interior.lowerBound - start)..<(interior.upperBound - start)
    }

    /// The frames segment `k`'s input file holds: its own and any restoration context. Its fingerprint covers them all, so
    /// a changed context frame redoes the segment.
    func fileFrames(_ shot: PlannedShot, _ k: Int) -> Range<Int> {
        TemporalContext.inputFrames(of: shot.segments[k].input, shot: shot.frames, radius: contextRadius)
    }

    /// Each segment's result key (input, settings, frames, interior).
    func key(_ shot: PlannedShot, _ k: Int) -> String {
        JobKeys.segmentKey(input: identity, settings: settingsText, frames: shot.segments[k].input, interior: relativeInterior(shot, k))
    }

    /// Releases `shots` (in film order, each a whole shot or a part of one): reused results are posted, the rest get their inputs from
    /// `writeInputs` and are added to the feed; the shots go to the film's writer. `fingerprints`: by segment index.
    /// With a `gate`, each input is written alone, once the gate admits it (`abandon` stops the wait), and its segment is
    /// handed out at once: the farm must be able to finish the segments before it for the gate to open.
    func release(_ shots: [PlannedShot], fingerprints: [SegmentIndex: String], abandon: () throws -> Void = {},
                 writeInputs: ([SegmentInputWriter.Target]) throws -> Void) throws {
        var targets: [SegmentInputWriter.Target] = []
        var specs: [SegmentSpec] = []
        var table: [SegmentIndex: Released] = [:]
        var changed = 0, reusedHere = 0
        let entries = job.entries
        for shot in shots {
            for (k, segment) in shot.segments.enumerated() {
                let key = key(shot, k)
                lock.withLock { keys.append(key) }
                let outputs = shot.output[k].input
                if outputs.isEmpty { continue } // a shot too short for a low --fps: no output frame, no work
                let fingerprint = fingerprints[segment.index]
                if let entry = entries[key] {
                    if let recorded = entry.inputFrames, recorded == fingerprint {
                        board.post(segment.index, job.resultURL(entry))
                        reusedHere += 1
                        continue
                    }
                    // A finished segment whose frames are no longer the ones it was made from (a same-size edit).
                    if !analysed { throw FarmRestorePipeline.StaleAnalysis.framesChanged(segments: 1) }
                    try job.forget(key: key)
                    changed += 1
                }
                let file = inputFile(key)
                let frames = fileFrames(shot, k)
                let context = TemporalContext.context(of: segment.input, shot: shot.frames, radius: contextRadius)
                targets.append(SegmentInputWriter.Target(segment: segment.index, frames: frames, file: file))
                table[segment.index] = Released(key: key, input: file, fingerprint: fingerprint)
                let timing = recipe.retime.map { _ in
                    SegmentTiming(firstInputFrame: Int64(segment.input.lowerBound), outputFrames: Int64(outputs.lowerBound)..<Int64(outputs.upperBound))
                }
                let interior = relativeInterior(shot, k).map { Int64($0.lowerBound)..<Int64($0.upperBound) }
                specs.append(SegmentSpec(id: SegmentID(segment.index), inputFrameCount: UInt32(frames.count), expectedOutputFrames: UInt32(outputs.count),
                                         expectedFrameSize: (UInt32(recipe.contentWidth), UInt32(recipe.contentHeight)),
                                         work: SegmentWork(recipe: recipe, timing: timing, interior: interior, context: context)))
            }
        }
        if changed > 0 { warn("\(changed) finished segment(s) no longer match the input's frames (the file changed): restoring them again") }
        lock.withLock { reused += reusedHere }
        guard let gate else {
            if !targets.isEmpty { try writeInputs(targets) }
            lock.withLock {
                released.merge(table) { _, new in new }
                restored += specs.count
            }
            for shot in shots { film.add(shot) }
            feed.add(specs)
            return
        }
        // The film's writer may start on these shots now: it waits for each segment's result anyway.
        for shot in shots { film.add(shot) }
        for (target, spec) in zip(targets, specs) {
            try gate.admit(target.segment, abandon: abandon)
            try writeInputs([target])
            lock.withLock {
                released[target.segment] = table[target.segment]
                restored += 1
            }
            feed.add([spec])
        }
    }

    /// Every shot is released: the executor finishes once its segments are done, the film's length is known.
    func finish() {
        feed.finish()
        film.finish()
    }

    /// The plan cannot be completed: the executor ends with `error`, the film's writer stops waiting.
    func fail(_ error: Error) {
        feed.fail(error)
        film.cancel()
    }
}
