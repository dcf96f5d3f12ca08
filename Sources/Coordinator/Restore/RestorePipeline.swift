import Foundation
import Media
import Processors
import Shared

/// Restores a film on this machine: decode → constant rate → process → place → encode, with the
/// source's audio and subtitles carried over. Writes to a temporary name and renames at the end, so
/// the output path never holds a half-written file.
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
    }

    @discardableResult
    public func run() throws -> Summary {
        let started = Date()
        let target = OutputTarget(settings.output)
        try target.validate(input: settings.input)
        guard settings.retime == nil else { throw RestoreError.retimingNeedsFarm }

        try stop.begin("restore")
        let reader = try ConstantRateReader(source: settings.source, threads: settings.threads)
        let source = try reader.input.primaryVideoStream()
        RestorePipeline.noteOtherVideoStreams(reader.input, warn: warn)
        let fields = try reader.fieldPlan()
        settings.noteFields(fields)
        let geometry = try OutputGeometry(source: source.size!, sampleAspect: source.sampleAspectRatio ?? .one, request: settings.geometry.stored(rotation: source.rotation))
        let filter = try FilterFactory.make(try settings.recipe(source: source.size!, geometry: geometry, fields: fields),
                                            threads: settings.threads > 0 ? settings.threads : ProcessInfo.processInfo.activeProcessorCount)
        let converter = PixelConverter()
        let color = ColorDescription.defaultFor(height: geometry.canvas.height)

        try target.prepare()
        var keep = false
        defer { if !keep { try? FileManager.default.removeItem(at: target.partial) } }
        let stopToken = stop.registerTemporary(target.partial.path)
        defer { stop.remove(stopToken) }

        let writer = try MediaWriter(path: target.writePath, video: .init(size: geometry.canvas, rate: reader.rate, startTime: reader.startTime,
                                                                         encoding: settings.outputEncoding(sourcePixelFormat: source.pixelFormat),
                                                                         color: color, threads: settings.threads, sequenceStart: settings.sequenceStart),
                                     carryStreamsFrom: settings.source, warn: warn)
        let progress = ProgressReporter(label: "restore", total: reader.estimatedFrameCount, quiet: settings.quiet)
        while let frame = try reader.next() {
            try stop.checkpoint("restore")
            let rgb = try converter.rgbImage(from: frame.picture)
            var processed = try filter.apply(rgb)
            if processed.size != geometry.content { processed = try converter.resize(processed, to: geometry.content) }
            let placed = geometry.place(processed)
            try writer.write(try converter.picture(from: placed, pixelFormat: writer.pixelFormat, color: color))
            progress.update(done: writer.frameCount)
        }
        try writer.finish()
        progress.finish(done: writer.frameCount)
        guard writer.frameCount == reader.framesRead else {
            throw RestoreError.frameCountMismatch(expected: reader.framesRead, written: writer.frameCount)
        }
        try target.publish()
        keep = true
        return Summary(frames: writer.frameCount, size: geometry.canvas, rate: reader.rate, seconds: Date().timeIntervalSince(started))
    }

    /// A film with several video streams (a second angle, a commentary picture): say which one is restored, since the
    /// output carries only that one.
    static func noteOtherVideoStreams(_ input: MediaInput, warn: (String) -> Void) {
        guard let chosen = try? input.primaryVideoStream(), let others = try? input.otherVideoStreams(), !others.isEmpty else { return }
        let list = others.map { "\($0.index) (\($0.codec) \($0.width ?? 0)x\($0.height ?? 0))" }.joined(separator: ", ")
        warn("\(input.info.path) has \(others.count + 1) video streams; restoring stream \(chosen.index), leaving out \(list) (choose with --video-stream)")
    }
}
