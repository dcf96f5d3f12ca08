/// What a worker tells the coordinator about itself when it registers.
public struct WorkerCapabilities: Equatable, Sendable {
    /// Stable name chosen by the worker (host plus a suffix); blocklists are kept per name.
    public var workerName: String
    public var host: String
    public var threads: UInt32
    /// Model names the worker can load (e.g. `realesr-general-x4v3`).
    public var models: [String]
    public var freeMemoryBytes: UInt64
    /// Where the worker runs its models (protocol 4): `cpu`, or the Vulkan device as `gpu:N NAME (type)` (`--device`).
    public var device: String
    /// Segments the worker accepts beyond the one it renders (protocol 5, at most `FarmProtocol.maxSegmentsAhead`): it
    /// receives the next one's input while rendering and starts it the moment the current one ends, while that result
    /// travels back, so no idle gap opens between segments (lease-ahead). 0: one segment at a time, as before.
    public var segmentsAhead: UInt8

    public init(workerName: String, host: String, threads: UInt32, models: [String], freeMemoryBytes: UInt64, device: String = "cpu",
                segmentsAhead: UInt8 = 0) {
        self.workerName = workerName
        self.host = host
        self.threads = threads
        self.models = models
        self.freeMemoryBytes = freeMemoryBytes
        self.device = device
        self.segmentsAhead = segmentsAhead
    }
}

/// One attempt at one segment: every transfer, progress or result message names the lease it belongs to,
/// so stale messages from an earlier attempt are recognisable.
public struct LeaseRef: Hashable, Sendable, CustomStringConvertible {
    public var segment: SegmentID
    public var attempt: UInt32
    public init(segment: SegmentID, attempt: UInt32) {
        self.segment = segment
        self.attempt = attempt
    }
    public var description: String { "segment \(segment) attempt \(attempt)" }
}

/// An opaque file sent in chunks: its size and checksum (XXH64) let the receiver verify it.
public struct PayloadDescription: Equatable, Sendable {
    public var byteCount: UInt64
    public var checksum: UInt64
    public init(byteCount: UInt64, checksum: UInt64) {
        self.byteCount = byteCount
        self.checksum = checksum
    }
}

/// What a worker does with one segment, as typed fields (protocol 2; version 1 carried it as JSON text in a list
/// of string settings, whose 1 KiB limit was below the recipe's own 4 KiB). Decoded, bounded and checked against
/// each other before a worker sees it.
public struct SegmentWork: Equatable, Sendable {
    /// How to restore the frames; nil only in simulated work (tests, benchmarks), which a real worker refuses.
    public var recipe: RenderRecipe?
    /// Where the segment sits in the film: present exactly when the recipe retimes.
    public var timing: SegmentTiming?
    /// The segment's output frames (0-based) that no seam touches, which the worker encodes in the job's final codec
    /// (`RenderRecipe.delivery`); the others come back lossless for the head node to blend. nil: all lossless.
    public var interior: Range<Int64>?
    /// Context frames at the input file's start and end (film restoration's temporal stages read them; they are not
    /// the segment's frames and make no output). nil: none. Every other field counts frames without them.
    public var context: SegmentContext?

    public init(recipe: RenderRecipe? = nil, timing: SegmentTiming? = nil, interior: Range<Int64>? = nil, context: SegmentContext? = nil) {
        self.recipe = recipe
        self.timing = timing
        self.interior = interior
        self.context = context
    }

    /// The segment's own frames in an input file of `inputFrameCount` (context left out).
    public func segmentFrameCount(inputFrameCount: UInt32) -> UInt32 {
        guard let context else { return inputFrameCount }
        return inputFrameCount - min(inputFrameCount, context.before + context.after)
    }

    /// Output frames the segment makes.
    public func outputFrameCount(inputFrameCount: UInt32) -> Int64 {
        timing.map { Int64($0.outputFrames.count) } ?? Int64(segmentFrameCount(inputFrameCount: inputFrameCount))
    }

    /// The parts checked against each other and the segment (untrusted: from the wire).
    public func validated(inputFrameCount: UInt32) throws -> SegmentWork {
        if let context {
            guard recipe?.film != nil else { throw RenderRecipe.RecipeError.invalid("context frames without film restoration stages") }
            guard UInt64(context.before) + UInt64(context.after) < UInt64(inputFrameCount) else {
                throw RenderRecipe.RecipeError.invalid("\(context.before) + \(context.after) context frames leave none of the input's \(inputFrameCount) to restore")
            }
        }
        let outputs = outputFrameCount(inputFrameCount: inputFrameCount)
        if let interior {
            guard recipe?.delivery != nil else { throw RenderRecipe.RecipeError.invalid("an interior to encode without a delivery encoding") }
            guard interior.lowerBound >= 0, interior.upperBound <= outputs else {
                throw RenderRecipe.RecipeError.invalid("interior \(interior) outside the segment's \(outputs) output frames")
            }
        }
        switch (recipe?.retime, timing) {
        case (nil, nil): return self
        case (let retime?, let timing?):
            // The timing places the segment's own frames: the context is not part of them.
            _ = try timing.validated(inputFrameCount: Int(segmentFrameCount(inputFrameCount: inputFrameCount)), retime: retime); return self
        case (nil, _?): throw RenderRecipe.RecipeError.invalid("segment timing without retiming")
        case (_?, nil): throw RenderRecipe.RecipeError.invalid("a retimed segment needs its timing")
        }
    }
}

/// Frames before and after a segment's own in its input file: context for temporal stages, dropped after them.
public struct SegmentContext: Equatable, Sendable {
    public var before: UInt32
    public var after: UInt32
    public init(before: UInt32, after: UInt32) { self.before = before; self.after = after }
}

public struct SegmentAssignment: Equatable, Sendable {
    public var lease: LeaseRef
    /// Frames in the input file; the processor's output count follows from the work.
    public var inputFrameCount: UInt32
    public var work: SegmentWork
    public var input: PayloadDescription
    public init(lease: LeaseRef, inputFrameCount: UInt32, work: SegmentWork, input: PayloadDescription) {
        self.lease = lease
        self.inputFrameCount = inputFrameCount
        self.work = work
        self.input = input
    }
}

/// What a worker claims about its output; the coordinator checks every field before accepting it.
public struct SegmentResultInfo: Equatable, Sendable {
    public var frameCount: UInt32
    public var frameWidth: UInt32
    public var frameHeight: UInt32
    public var output: PayloadDescription
    public init(frameCount: UInt32, frameWidth: UInt32, frameHeight: UInt32, output: PayloadDescription) {
        self.frameCount = frameCount
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
        self.output = output
    }
}

/// Every message of the farm protocol. Direction: W→C from worker, C→W from coordinator, both for data.
public enum FarmMessage: Equatable, Sendable {
    case register(WorkerCapabilities)                              // W→C
    case welcome(heartbeatIntervalMs: UInt32)                      // C→W
    case reject(reason: String)                                    // C→W: refused (blocklisted, shutting down)
    case assign(SegmentAssignment)                                 // C→W
    case credit(LeaseRef, chunks: UInt32)                          // receiver→sender: may send this many more chunks
    case chunk(LeaseRef, offset: UInt64, bytes: [UInt8])           // sender→receiver
    case progress(LeaseRef, framesDone: UInt32, framesTotal: UInt32) // W→C
    case result(LeaseRef, SegmentResultInfo)                       // W→C, then the output follows as chunks
    case failure(LeaseRef, message: String)                        // W→C: this attempt failed
    case cancel(LeaseRef, reason: String)                          // C→W: drop this lease
    case heartbeat                                                 // both
    case goodbye(reason: String)                                   // both

    /// Wire type codes. Never reuse a retired code.
    public enum Kind: UInt8, CaseIterable, Sendable {
        case register = 1, welcome, reject, assign, credit, chunk, progress, result, failure, cancel, heartbeat, goodbye
    }

    public var kind: Kind {
        switch self {
        case .register: return .register
        case .welcome: return .welcome
        case .reject: return .reject
        case .assign: return .assign
        case .credit: return .credit
        case .chunk: return .chunk
        case .progress: return .progress
        case .result: return .result
        case .failure: return .failure
        case .cancel: return .cancel
        case .heartbeat: return .heartbeat
        case .goodbye: return .goodbye
        }
    }
}
