import ArgumentParser
import CommandLineSupport
import Foundation
import Media
import Planning
import Shared

/// Shot-detection settings shared by `shots` and `restore`.
struct ShotDetectionOptions: ParsableArguments {
    @Option(help: "Shot detection: smallest change score (0…1) that can be a cut; higher finds fewer cuts.")
    var shotThreshold: Double = ShotDetectorSettings().threshold

    @Option(help: "Shot detection: shortest shot in frames; of two cuts closer than this the stronger stays.")
    var minShotFrames: Int = ShotDetectorSettings().minimumShotFrames

    func settings() throws -> ShotDetectorSettings {
        do {
            return try ShotDetectorSettings(threshold: shotThreshold, minimumShotFrames: minShotFrames).validated()
        } catch let error as PlanningError {
            throw ValidationFailure(error.description)
        }
    }
}

struct ShotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shots",
        abstract: "Find a film's shots (cuts and fades through black), as text or JSON that `restore --shots` reuses.")

    @Argument(help: "A media file.")
    var input: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(name: [.short, .long], help: "Write the JSON shot list to this file (for `restore --shots`).")
    var output: String?

    @Flag(inversion: .prefixedNo, help: "Replace an --output file that exists already. Default: refuse (exit status 64) before reading the film.")
    var overwrite = false

    @OptionGroup var shotOptions: ShotDetectionOptions

    @Option(help: "Decoding threads (0 = all cores).")
    var threads: Int = 0

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    @Option(help: "Lines on stderr (progress, errors): text, or json (one JSON object per line; progress in a `progress` object).")
    var logFormat: LogFormat = .text

    func run() throws {
        logFormat.bootstrap()
        try failing {
            // Checked before the analysis and again before writing (the analysis of a long film takes minutes).
            func refuseExisting() throws {
                var status = stat() // lstat: a dangling link at the output is the user's too
                if let output, !overwrite, lstat(output, &status) == 0 { throw RestoreError.outputExists(output) }
            }
            try refuseExisting()
            // The analysis decodes the whole film: progress with an ETA from the container's frame count.
            let source = MediaSource(path: input)
            let estimated = try ConstantRateReader(source: source, threads: 1).estimatedFrameCount
            let progress = ProgressReporter(label: "shots", total: estimated, quiet: quiet)
            let list = try ShotAnalysis.analyse(source: source, settings: try shotOptions.settings(), threads: threads) { progress.update(done: Int64($0)) }
            progress.finish(done: Int64(list.frameCount))
            let data = try list.encoded()
            if let output {
                try refuseExisting()
                try AtomicFile.write(data, to: URL(fileURLWithPath: output))
            }
            if json {
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let timeline = FrameTimeline(rate: list.rate)
            print("\(input): \(list.frameCount) frames at \(list.rate) fps, \(list.shots.count) shots")
            for (i, shot) in list.shots.enumerated() {
                let start = timeline.time(ofFrame: shot.lowerBound).doubleValue
                let boundary = list.boundaries.first { $0.frame == shot.lowerBound }
                let how = boundary.map { " (\($0.kind.rawValue), score \(String(format: "%.3f", $0.score)))" } ?? ""
                print(String(format: "  shot %d: frames %d..<%d, from %.3f s, %d frames", i, shot.lowerBound, shot.upperBound, start, shot.count) + how)
            }
        }
    }
}
