import Foundation
import Shared

/// A processor without models for tests, soak runs and benchmarks: it takes a calibrated time and writes a
/// deterministic transform of the input (each byte XOR 0x5A), so outputs can be compared byte for byte.
public struct SimulatedSegmentProcessor: SegmentProcessor {
    public var secondsPerSegment: Double
    public var outputFramesPerInputFrame: UInt32
    public var frameSize: (width: UInt32, height: UInt32)
    /// Test hook, called when processing of a lease starts (e.g. to kill the worker mid-segment).
    public var onStart: (@Sendable (LeaseRef) -> Void)?
    /// Test hook: return an error message to make this attempt fail.
    public var failure: (@Sendable (LeaseRef) -> String?)?

    public init(secondsPerSegment: Double = 0, outputFramesPerInputFrame: UInt32 = 1,
                frameSize: (width: UInt32, height: UInt32) = (64, 36),
                onStart: (@Sendable (LeaseRef) -> Void)? = nil, failure: (@Sendable (LeaseRef) -> String?)? = nil) {
        self.secondsPerSegment = secondsPerSegment
        self.outputFramesPerInputFrame = outputFramesPerInputFrame
        self.frameSize = frameSize
        self.onStart = onStart
        self.failure = failure
    }

    public static func transform(_ bytes: [UInt8]) -> [UInt8] { bytes.map { $0 ^ 0x5A } }

    public struct SimulatedFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public func process(_ job: SegmentJob, progress: @escaping @Sendable (UInt32) -> Void,
                        isCancelled: @escaping @Sendable () -> Bool) throws -> SegmentOutput {
        onStart?(job.lease)
        let total = job.inputFrameCount * outputFramesPerInputFrame
        let steps = max(1, Int(total))
        let deadline = Date().addingTimeInterval(secondsPerSegment)
        for step in 1...steps {
            let stepEnd = Date(timeIntervalSinceNow: 0).addingTimeInterval(deadline.timeIntervalSinceNow / Double(steps - step + 1))
            while Date() < stepEnd {
                if isCancelled() { throw SegmentCancelled() }
                Thread.sleep(forTimeInterval: min(0.05, max(0, stepEnd.timeIntervalSinceNow))) // cancel within 50 ms
            }
            if isCancelled() { throw SegmentCancelled() }
            progress(UInt32(min(step, Int(total))))
        }
        if let message = failure?(job.lease) { throw SimulatedFailure(description: message) }
        let output = job.workDirectory.appendingPathComponent("output.bin")
        let input = try Data(contentsOf: job.inputFile)
        try Data(SimulatedSegmentProcessor.transform(Array(input))).write(to: output)
        return SegmentOutput(file: output, frameCount: total, frameWidth: frameSize.width, frameHeight: frameSize.height)
    }
}
