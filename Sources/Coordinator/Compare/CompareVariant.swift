import Foundation
import Media
import Processors
import Shared

/// One column of `compare`'s sheet: a super-resolution processor with its own settings, and (with `--interp`) an
/// interpolator. Written `NAME[:noise=N][:tile=N]` on the command line, e.g. `waifu2x-photo:noise=2`.
struct CompareVariant: Equatable {
    var processor: String
    var noise: Int?
    var tile: Int?
    var interpolator: String?

    /// As the user wrote it, with the interpolator after a `+`: the label's first line.
    var name: String {
        var text = processor.contains("/") ? URL(fileURLWithPath: processor).lastPathComponent : processor
        if let noise { text += ":noise=\(noise)" }
        if let tile { text += ":tile=\(tile)" }
        if let interpolator { text += " + \(interpolator)" }
        return text
    }

    /// The settings `--models` takes after a model's name.
    static let settingNames = ["noise", "tile"]

    /// Every pair of `models` (comma-separated) and `interps` (comma-separated, or nil: no interpolation), models first.
    static func parse(models: String, interps: String?) throws -> [CompareVariant] {
        let processors = try models.split(separator: ",", omittingEmptySubsequences: false).map { try parseModel(String($0)) }
        let interpolators: [String?] = try interps.map { list in
            try list.split(separator: ",", omittingEmptySubsequences: false).map { name -> String? in
                let name = name.trimmingCharacters(in: .whitespaces)
                guard RetimeRecipe.interpolators.contains(name) else {
                    throw CompareError.badVariant("unknown interpolator '\(name)' in --interp; choose from \(RetimeRecipe.interpolators.joined(separator: ", "))")
                }
                return name
            }
        } ?? [nil]
        var variants: [CompareVariant] = []
        for model in processors {
            for interpolator in interpolators {
                var variant = model
                variant.interpolator = interpolator
                guard !variants.contains(variant) else { throw CompareError.badVariant("\(variant.name) is listed twice") }
                variants.append(variant)
            }
        }
        guard variants.count <= maxVariants else { throw CompareError.badVariant("\(variants.count) variants; a sheet holds at most \(maxVariants)") }
        return variants
    }

    /// A sheet wider than this many panels is unreadable (and the PNG's side limit comes soon after).
    static let maxVariants = 16

    private static func parseModel(_ text: String) throws -> CompareVariant {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        let known = FilterFactory.knownProcessors
        guard known.contains(name) || OwnModel.isPath(name) else {
            throw CompareError.badVariant("unknown model '\(name)' in --models; choose from \(known.joined(separator: ", ")), "
                + "or the path of your own ncnn model (NAME.param with NAME.bin beside it)")
        }
        var variant = CompareVariant(processor: name)
        for setting in parts.dropFirst() {
            let pair = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, let value = Int(pair[1]) else {
                throw CompareError.badVariant("'\(setting)' after \(name) is not a setting; write NAME:noise=2 or NAME:tile=128 (settings: \(settingNames.joined(separator: ", ")))")
            }
            switch pair[0] {
            case "noise":
                guard name == "waifu2x-photo", (0...3).contains(value) else {
                    throw CompareError.badVariant("noise=\(value): only waifu2x-photo has a noise setting, 0…3")
                }
                variant.noise = value
            case "tile":
                guard RenderRecipe.isValidTileSize(value) else { throw CompareError.badVariant("tile=\(value): 0 (the whole frame) or 32…8192 input pixels") }
                variant.tile = value
            default:
                throw CompareError.badVariant("unknown setting '\(pair[0])' for \(name); settings: \(settingNames.joined(separator: ", "))")
            }
        }
        return variant
    }

    init(processor: String, noise: Int? = nil, tile: Int? = nil, interpolator: String? = nil) {
        self.processor = processor
        self.noise = noise
        self.tile = tile
        self.interpolator = interpolator
    }
}

/// Why `compare` cannot make the sheet asked for; exit status 64 (the command line does not fit the film), before
/// any frame is processed.
enum CompareError: Error, CustomStringConvertible, Equatable {
    case badVariant(String)
    case badTime(String)
    case timeBeyondEnd(time: Double, duration: Double)
    case cropOutsideFrame(crop: String, frame: PixelSize)
    case sheetTooLarge(PixelSize)
    case notPNG(String)

    var description: String {
        switch self {
        case .badVariant(let why), .badTime(let why): return why
        case let .timeBeyondEnd(time, duration):
            return String(format: "--at %.3f s is beyond the film's end (it lasts %.3f s); choose a time before it", time, duration)
        case let .cropOutsideFrame(crop, frame):
            return "--crop \(crop) reaches outside the restored picture (\(frame), output pixels); choose a crop inside it"
        case .sheetTooLarge(let size):
            return "the sheet would be \(size), above the PNG limit of \(ImageWriter.maxSide) pixels a side; choose a --crop, fewer variants or fewer times"
        case .notPNG(let path): return "the sheet is written as PNG: give an output name ending in .png, not \(path)"
        }
    }
}
