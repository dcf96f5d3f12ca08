import Foundation
import Media
import Processors
import Shared

/// `compare`: the frames at the chosen times, decoded as `restore` decodes them (constant rate, deinterlaced the same
/// way), each restored by every variant through the workers' own `SegmentRenderer` built from the recipe `restore`
/// would send (`RestoreSettings.recipe`, `FilterFactory`) — so a panel is what the farm makes — and laid out as a
/// labelled contact sheet (`ContactSheet`, `TextOverlay`). Each variant's time per picture is measured here.
struct ModelComparison {
    var source: MediaSource
    var times: [Double]
    var variants: [CompareVariant]
    var geometry: OutputGeometry.Request
    var crop: PixelRect?
    var threads: Int
    /// The rate `restore --fps` would use (decides `--order auto`); nil: twice the source's rate.
    var outputRate: Rational?
    var order: RetimeSettings.OrderChoice = .auto
    /// `--video`: also a few seconds side by side from the first time (not with interpolators).
    var video: SideBySideVideo?

    /// Where in the film one row of the sheet is: a source frame, or (interpolating) the picture a fraction `t` of
    /// the way from `frame` to the next.
    struct Moment: Equatable {
        var time: Double
        var frame: Int
        var t: Double
    }

    struct Sheet {
        var layout: ContactSheet
        var pixels: [UInt8]
        /// Seconds per picture for each variant, measured.
        var secondsPerFrame: [Double]
    }

    /// The frame shown at `time` (restore's output frame k shows source frame k from k/rate on). Interpolating: the
    /// position between two frames; a time exactly on a frame is moved half a frame on (nothing to interpolate there).
    static func moment(time: Double, rate: Rational, interpolating: Bool) -> Moment {
        let position = time * rate.doubleValue
        let frame = Int((position + 1e-9).rounded(.down))
        guard interpolating else { return Moment(time: time, frame: frame, t: 0) }
        let t = position - Double(frame)
        return Moment(time: time, frame: frame, t: t < 1e-6 ? 0.5 : t)
    }

    func run(note: (String) -> Void) throws -> Sheet {
        let reader = try ConstantRateReader(source: source, threads: threads)
        let stream = reader.stream
        guard let sourceSize = stream.size else { throw MediaError.noVideoStream(path: source.path) }
        let rate = reader.rate
        let interpolating = variants.contains { $0.interpolator != nil }
        let duration = (stream.duration ?? reader.input.info.duration)?.doubleValue
        let moments = times.map { ModelComparison.moment(time: $0, rate: rate, interpolating: interpolating) }
        // Checked from the header before any decoding; checked again while decoding (a header may promise more).
        if let duration {
            for (time, moment) in zip(times, moments) where time >= duration || Double(moment.frame + (interpolating ? 1 : 0)) >= duration * rate.doubleValue {
                throw CompareError.timeBeyondEnd(time: time, duration: duration)
            }
        }
        let placed = try OutputGeometry(source: sourceSize, sampleAspect: stream.sampleAspectRatio ?? .one, request: geometry.stored(rotation: stream.rotation))
        let content = placed.content
        let crop = self.crop ?? PixelRect(width: content.width, height: content.height, x: 0, y: 0)
        guard crop.fits(in: content) else { throw CompareError.cropOutsideFrame(crop: crop.description, frame: content) }
        let fields = try reader.fieldPlan()

        // Every variant's renderer, built (and its model loaded) before the long decode, so a missing model fails now.
        let threads = self.threads > 0 ? self.threads : ProcessInfo.processInfo.activeProcessorCount
        var renderers: [SegmentRenderer] = []
        for variant in variants {
            var settings = RestoreSettings(input: source.path, output: "", geometry: geometry, processor: variant.processor, noise: variant.noise,
                                           tileSize: variant.tile, threads: threads, quiet: true)
            if let interpolator = variant.interpolator {
                settings.retime = RetimeSettings(outputRate: outputRate ?? rate * Rational(2), interpolator: interpolator, order: order, duplicateThreshold: nil)
            }
            let recipe = try settings.recipe(source: sourceSize, geometry: placed, inputRate: rate, fields: fields)
            renderers.append(try SegmentRenderer(recipe: try RenderRecipe(json: recipe.json()), threads: threads))
        }

        // The frames the sheet needs, each read as a trim of the film (`ConstantRateReader` seeks to the keyframe before
        // it and decodes forward: the frames `restore` decodes, without decoding the film up to them).
        var frames: [Int: RGBImage] = [:]
        let converter = PixelConverter()
        for moment in moments where frames[moment.frame] == nil || (interpolating && frames[moment.frame + 1] == nil) {
            var part = source
            part.trim = MediaSource.Trim(first: Int64(moment.frame), count: interpolating ? 2 : 1, rate: rate)
            let partReader = try ConstantRateReader(source: part, rate: rate, threads: threads)
            var index = moment.frame
            do {
                while let frame = try partReader.next() {
                    frames[index] = try converter.rgbImage(from: frame.picture)
                    index += 1
                }
            } catch MediaError.trimBeyondEnd(let decoded, _, _, _) {
                throw CompareError.timeBeyondEnd(time: moment.time, duration: Double(decoded) / rate.doubleValue)
            }
            if frames[moment.frame] == nil || (interpolating && frames[moment.frame + 1] == nil) {
                throw CompareError.timeBeyondEnd(time: moment.time, duration: Double(index) / rate.doubleValue)
            }
        }

        var pictures = [[[UInt8]]](repeating: [], count: moments.count)
        var labels: [[[String]]] = Array(repeating: [], count: moments.count)
        var costs: [Double] = []
        for (variant, renderer) in zip(variants, renderers) {
            var spent = 0.0
            for (row, moment) in moments.enumerated() {
                let started = DispatchTime.now().uptimeNanoseconds
                let picture = try renderer.picture(frames[moment.frame]!, variant.interpolator == nil ? nil : frames[moment.frame + 1], at: moment.t)
                spent += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                pictures[row].append(ContactSheet.rgb24(picture, crop: crop))
            }
            let cost = spent / Double(moments.count)
            costs.append(cost)
            note("\(variant.name): \(String(format: "%.3f", cost)) s a picture on \(threads) thread(s)")
            for (row, moment) in moments.enumerated() {
                labels[row].append(ModelComparison.label(variant: variant, recipe: renderer.recipe, source: sourceSize, cost: cost, threads: threads,
                                                         moment: moment))
            }
        }

        let layout = ContactSheet(panel: PixelSize(width: crop.width, height: crop.height), columns: variants.count, rows: moments.count,
                                  labelLines: 4, longestLine: labels.joined().joined().map(\.count).max() ?? 1)
        guard layout.size.width <= ImageWriter.maxSide, layout.size.height <= ImageWriter.maxSide else { throw CompareError.sheetTooLarge(layout.size) }
        var pixels = layout.compose(pictures)
        let text = labels.enumerated().flatMap { row, cells in cells.enumerated().flatMap { column, lines in layout.labels(lines, row: row, column: column) } }
        try TextOverlay.draw(text, on: &pixels, width: layout.size.width, height: layout.size.height, font: try TextOverlay.font())
        try video?.write(source: source, threads: threads, start: moments[0].frame, variants: variants, renderers: renderers, costs: costs,
                         crop: crop, sourceSize: sourceSize, note: note)
        return Sheet(layout: layout, pixels: pixels, secondsPerFrame: costs)
    }

    /// A panel's four lines: the variant, what runs (a model below the output size is finished with Lanczos, one above
    /// it shrunk, as `restore` does), the measured cost, where in the film.
    static func label(variant: CompareVariant, recipe: RenderRecipe, source: PixelSize, cost: Double, threads: Int, moment: Moment) -> [String] {
        var settings = "Lanczos"
        if recipe.processor != "lanczos" {
            let scale = recipe.modelScale ?? 1
            settings = "model ×\(scale)"
            if source.width * scale < recipe.contentWidth || source.height * scale < recipe.contentHeight { settings += " + Lanczos" }
            else if source.width * scale > recipe.contentWidth && source.height * scale > recipe.contentHeight { settings += ", shrunk" }
        }
        settings += " → \(recipe.contentSize)"
        if let tile = recipe.tileSize { settings += ", tile \(tile)" }
        if let retime = recipe.retime { settings += ", \(retime.order.rawValue)" }
        let place = variant.interpolator == nil
            ? String(format: "at %.3f s, frame %d", moment.time, moment.frame)
            : String(format: "at %.3f s, t=%.2f after frame %d", moment.time, moment.t, moment.frame)
        return [variant.name, settings, String(format: "%.3f s/frame, %d thread(s)", cost, threads), place]
    }
}
