import Foundation
import Processors
import Shared

/// The real worker processor: FFmpeg decode → frame filter (classical or neural), and interpolation when retiming → FFV1 result.
/// The models run where `device` says: a GPU fault in the middle of a segment fails that attempt with a `DeviceFault`
/// (the coordinator retries the segment) and leaves this worker on the CPU engine.
public struct MediaSegmentProcessor: SegmentProcessor {
    public var threads: Int
    public let device: DeviceSelection
    /// Gets one line per rendered segment for the worker's log: its frames, time, streaming and GPU busy %
    /// (`SegmentRenderer.Result.summary`).
    public let log: @Sendable (String) -> Void
    public init(threads: Int, device: DeviceSelection = DeviceSelection(.cpu), log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.threads = threads
        self.device = device
        self.log = log
    }

    public func expectedOutputFrames(_ job: SegmentJob) -> UInt32 {
        UInt32(clamping: job.work.outputFrameCount(inputFrameCount: job.inputFrameCount))
    }

    public func process(_ job: SegmentJob, progress: @escaping @Sendable (UInt32) -> Void,
                        isCancelled: @escaping @Sendable () -> Bool) throws -> SegmentOutput {
        guard let recipe = job.work.recipe else { throw RenderRecipe.RecipeError.missing }
        let timing = job.work.timing
        let output = job.workDirectory.appendingPathComponent("result.mkv")
        do {
            return try device.run { engine in
                let renderer = try SegmentRenderer(recipe: recipe, threads: threads, device: engine, precision: device.precision,
                                                   note: device.note)
                renderer.deviceNotes.forEach(device.note)
                let result = try renderer.render(input: job.inputFile, output: output, timing: timing, interior: job.work.interior,
                                                 context: job.work.context,
                                                 progress: { progress(UInt32($0)) }, isCancelled: isCancelled)
                log("\(job.lease): \(result.summary)")
                return SegmentOutput(file: output, frameCount: UInt32(result.frames),
                                     frameWidth: UInt32(result.size.width), frameHeight: UInt32(result.size.height))
            }
        } catch is SegmentRenderer.Cancelled {
            throw SegmentCancelled()
        }
    }
}
