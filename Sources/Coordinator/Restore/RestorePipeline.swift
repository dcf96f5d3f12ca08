import Foundation
import Media
import Processors
import Shared

/// Restores a film in this process, without workers: the same pipeline as the farm (`FarmOptions.inProcess`).
public struct RestorePipeline {
    public let settings: RestoreSettings
    public var warn: (String) -> Void
    /// Ctrl-C/SIGTERM (the CLI installs it; tests call `request()`).
    public var stop = StopSignal()

    public init(settings: RestoreSettings, warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }) {
        self.settings = settings
        self.warn = warn
    }

    public struct Summary: Sendable {
        public var frames: Int64
        public var size: PixelSize
        public var rate: Rational
        public var seconds: Double
        /// Farm runs: segments restored by this run, and finished segments reused from the job directory.
        public var segmentsRestored = 0
        public var segmentsReused = 0
        /// Farm runs: film frames already written when the farm's last segment came in (the film is written as segments
        /// arrive, so only the rest is left after the farm).
        public var framesWrittenDuringFarm: Int64 = 0
        /// When the first segment was handed out (issue 16 item 1); nil when every segment was reused.
        public var firstAssignment: FirstAssignment?
        /// Frames of the source (the analysis's end).
        public var framesAnalysed = 0
        /// Farm runs: segments each worker delivered (by worker name; empty in-process or when nothing was restored).
        public var segmentsByWorker: [String: Int] = [:]

        public struct FirstAssignment: Sendable {
            /// Seconds from the start of the restore (after probing and checks) to the first assignment.
            public var seconds: Double
            /// Frames the streaming analysis had decoded then; nil with the classic passes (the analysis was over).
            public var framesAnalysed: Int?
        }
    }

    /// The one restore pipeline (`FarmRestorePipeline`) with its in-process executor: shots, segments, journal and
    /// resume, the film written as segments finish — the segments rendered here instead of on workers.
    @discardableResult
    public func run() throws -> Summary {
        var options = FarmOptions()
        options.inProcess = true
        let pipeline = FarmRestorePipeline(settings: settings, options: options, warn: warn)
        pipeline.stop = stop
        return try pipeline.run()
    }

    /// A film with several video streams (a second angle, a commentary picture): say which one is restored, since the
    /// output carries only that one.
    static func noteOtherVideoStreams(_ input: MediaInput, warn: (String) -> Void) {
        guard let chosen = try? input.primaryVideoStream(), let others = try? input.otherVideoStreams(), !others.isEmpty else { return }
        let list = others.map { "\($0.index) (\($0.codec) \($0.width ?? 0)x\($0.height ?? 0))" }.joined(separator: ", ")
        warn("\(input.info.path) has \(others.count + 1) video streams; restoring stream \(chosen.index), leaving out \(list) (choose with --video-stream)")
    }
}
