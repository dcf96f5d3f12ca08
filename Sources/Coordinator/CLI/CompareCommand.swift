import ArgumentParser
import CommandLineSupport
import Foundation
import Media
import Processors
import Shared

/// `lumiere-coordinator compare`: try models on a few frames and look at them side by side before committing the farm.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Try models on a few frames of a film: a PNG contact sheet of each variant side by side, labelled with its settings and cost.",
        discussion: """
        Each variant restores the frames at the --at times exactly as `restore` would with the same settings (the \
        workers' own renderer and recipe, in this process), and the sheet shows the same crop of each at output scale: \
        one row per time, one column per variant, each labelled with the variant, what runs, the time it took per \
        picture on this machine and where in the film it is. With --interp, each model is tried with each interpolator \
        on the picture between two frames (a time exactly on a frame is moved half a frame on). An existing OUTPUT is \
        refused (exit status 64) unless --overwrite; so are a time beyond the film's end and a crop outside the picture.

        Examples:
          lumiere-coordinator compare calais.ogv --at 5,12.5 --models lanczos,realesr-general-wdn,realesr-general -o sheet.png
          lumiere-coordinator compare calais.ogv --at 0:08 --models waifu2x-photo:noise=1,waifu2x-photo:noise=2 --scale 2 --crop 200x150+120+80 -o noise.png
          lumiere-coordinator compare calais.ogv --at 3.3 --models lanczos --interp rife-v4.0,rife-v4.25 -o rife.png
        """)

    @Argument(help: "The film: any file FFmpeg reads.")
    var input: String

    @Option(name: .customLong("at"), help: ArgumentHelp("Times in the film, comma-separated: seconds (5.4), M:SS (1:02.5) or H:MM:SS; one row each.", valueName: "time,…"))
    var at: String

    @Option(help: ArgumentHelp("Variants, comma-separated: a model (\(FilterFactory.knownProcessors.joined(separator: ", "))) or your own NAME.param, "
                               + "each with its own settings after colons: NAME:noise=N (waifu2x-photo, 0…3), NAME:tile=N.", valueName: "model[:setting=value…],…"))
    var models: String = "lanczos,\(RestoreSettings.defaultProcessor)"

    @Option(help: ArgumentHelp("Interpolators to try with each model, comma-separated (\(RetimeRecipe.interpolators.joined(separator: ", "))).", valueName: "name,…"))
    var interp: String?

    @Option(help: ArgumentHelp("With --interp: the rate restore --fps would use, which decides --order auto (default: twice the source's).", valueName: "rate"))
    var fps: String?

    @Option(help: "With --interp: interp-first, sr-first, or auto (the cheaper, as restore chooses).")
    var order: RetimeSettings.OrderChoice = .auto

    @Option(help: "Upscale factor, 1…8, as restore's --scale (ignored when --size is given).")
    var scale: Int = 2

    @Option(help: ArgumentHelp("Output picture size WxH as restore's --size (without the padding).", valueName: "WxH"))
    var size: String?

    @Option(help: ArgumentHelp("The part of each restored picture to show, in output pixels, e.g. 320x240+100+40 (default: the whole picture).", valueName: "WxH+X+Y"))
    var crop: String?

    @Option(name: [.short, .long], help: "The sheet to write (.png).")
    var output: String

    @Option(help: ArgumentHelp("Also write a short video (.mp4, .mkv or .mov) with the variants side by side, from the first --at time: for flicker, grain and steadiness. Not with --interp.", valueName: "file"))
    var video: String?

    @Option(help: ArgumentHelp("Length of --video in seconds (at most \(Int(SideBySideVideo.maxSeconds))).", valueName: "seconds"))
    var videoSeconds: Double = 3

    @Flag(inversion: .prefixedNo, help: "Replace an OUTPUT that exists already. Default: refuse, exit status 64, before any work.")
    var overwrite = false

    @Option(help: ArgumentHelp("Folder holding the models (as restore's --models-dir).", valueName: "dir"))
    var modelsDir: String?

    @Option(help: "Interlaced input, as restore's --interlaced.")
    var interlaced: InterlaceMode = .auto

    @Option(help: "Threads for decoding and processing (0 = all cores); the costs on the labels are for this many.")
    var threads: Int = 0

    @Flag(help: "No notes on stderr.")
    var quiet = false

    @Option(help: "Lines on stderr: text, or json (one JSON object per line).")
    var logFormat: LogFormat = .text

    /// The command line's own mistakes: exit 64 with what to write instead, before the film is opened.
    func validate() throws {
        do {
            _ = try CompareVariant.parse(models: models, interps: interp)
            _ = try FilmTime.parseList(at)
        } catch let error as CompareError {
            throw ValidationError(error.description)
        }
        if let crop, PixelRect(parsing: crop) == nil { throw ValidationError("--crop must look like 320x240+100+40 (WxH+X+Y, output pixels), got \(crop)") }
        if let size, PixelSize(parsing: size) == nil { throw ValidationError("--size must look like 3840x2160, got \(size)") }
        if let fps, Rational(parsing: fps).map({ $0 > .zero && $0 <= Rational(1000) }) != true {
            throw ValidationError("--fps must be a positive rate up to 1000 such as 60 or 24000/1001, got \(fps)")
        }
        if interp == nil, fps != nil || order != .auto { throw ValidationError("--fps and --order are for --interp") }
        guard threads >= 0 else { throw ValidationError("--threads must be 0 (all cores) or more") }
        if video != nil, interp != nil { throw ValidationError("--video shows the films' own frames: leave out --interp, or --video") }
        guard videoSeconds > 0, videoSeconds <= SideBySideVideo.maxSeconds else {
            throw ValidationError("--video-seconds must lie within 0…\(Int(SideBySideVideo.maxSeconds)), got \(videoSeconds)")
        }
    }

    func run() throws {
        logFormat.bootstrap()
        try failing {
            let url = URL(fileURLWithPath: output)
            guard url.pathExtension.lowercased() == "png" else { throw CompareError.notPNG(output) }
            func refuseExisting() throws {
                var status = stat() // lstat: a dangling link at the output is the user's too
                if !overwrite, lstat(output, &status) == 0 { throw RestoreError.outputExists(output) }
            }
            try refuseExisting()
            // The video as restore writes a film: refused if it exists (unless --overwrite), written aside, renamed when whole.
            let videoTarget = video.map { OutputTarget($0, overwrite: overwrite) }
            try videoTarget?.validate(input: input)
            var isDirectory: ObjCBool = false
            let folder = url.deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw RestoreError.outputDirectoryMissing(folder)
            }
            if let modelsDir {
                ModelLocator.commandLineDirectory = modelsDir
                ModelLocator.commandLineDirectory = try ModelLocator.modelsDirectory().path
            }
            var variants = try CompareVariant.parse(models: models, interps: interp)
            for i in variants.indices where OwnModel.isPath(variants[i].processor) {
                variants[i].processor = try OwnModel.inspect(variants[i].processor).param.path
            }
            let comparison = ModelComparison(source: MediaSource(path: input, interlacing: interlaced), times: try FilmTime.parseList(at),
                                             variants: variants,
                                             geometry: size.flatMap(PixelSize.init(parsing:)).map { .size($0, pad: false) } ?? .scale(scale),
                                             crop: crop.flatMap(PixelRect.init(parsing:)), threads: threads,
                                             outputRate: fps.flatMap(Rational.init(parsing:)), order: order,
                                             video: videoTarget.map { SideBySideVideo(path: $0.writePath, name: video ?? "", seconds: videoSeconds) })
            let quiet = self.quiet
            defer { if let videoTarget { try? FileManager.default.removeItem(at: videoTarget.partial) } }
            let sheet = try comparison.run { line in if !quiet { ConsoleLine.write(.notice, "note", line, label: "lumiere-coordinator") } }
            try refuseExisting() // the work took a while: a file that appeared meanwhile is the user's
            try videoTarget?.publish()
            try ImageWriter.writePNG(rgb24: sheet.pixels, width: sheet.layout.size.width, height: sheet.layout.size.height, to: output)
            if !quiet {
                ConsoleLine.write(.notice, "note", "wrote \(output): \(sheet.layout.size), \(variants.count) variant(s) × \(sheet.layout.rows) time(s), "
                    + "panels \(sheet.layout.panel)", label: "lumiere-coordinator")
            }
        }
    }
}
