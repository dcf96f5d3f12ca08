import Foundation
import Media
import Planning
import Shared

/// The analysis pass: decodes the film once as the constant-rate sequence, feeds each frame's thumbnail
/// to the shot detector and counts the frames exactly. A shot list saved earlier for the same input and
/// settings is reused instead (`shots.json` in the job directory, or a file from `lumiere-coordinator shots`).
public enum ShotAnalysis {
    public static func analyse(path: String, rate: Rational? = nil, settings: ShotDetectorSettings, threads: Int = 0,
                               interlacing: InterlaceMode = .auto, progress: (Int) -> Void = { _ in }) throws -> ShotList {
        let reader = try ConstantRateReader(path: path, rate: rate, threads: threads, interlacing: interlacing)
        let converter = PixelConverter()
        var detector = try ShotDetector(settings: settings)
        while let frame = try reader.next() {
            _ = detector.push(LumaThumbnail(image: try converter.rgbImage(from: frame.picture)))
            progress(detector.frameCount)
        }
        _ = detector.finish()
        return detector.shotList(rate: reader.rate, input: try JobKeys.inputIdentity(path: path))
    }

    /// A shot list from `file` if it describes this input at this rate with these settings; nil otherwise.
    public static func reusable(file: URL, inputIdentity: String, rate: Rational, settings: ShotDetectorSettings) -> ShotList? {
        guard let data = try? Data(contentsOf: file), let list = try? ShotList.decode(data, path: file.path) else { return nil }
        guard list.input == inputIdentity, list.rate == rate, list.settings == settings else { return nil }
        return list
    }

}
