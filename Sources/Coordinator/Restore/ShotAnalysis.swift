import Foundation
import Media
import Planning
import Shared

/// The analysis pass: decodes the film once as the constant-rate sequence, feeds each frame's thumbnail
/// to the shot detector and counts the frames exactly. A shot list saved earlier for the same input and
/// settings is reused instead (`shots.json` in the job directory, or a file from `lumiere-coordinator shots`).
public enum ShotAnalysis {
    public static func analyse(path: String, rate: Rational? = nil, settings: ShotDetectorSettings, threads: Int = 0,
                               interlacing: InterlaceMode = .auto, progress: (Int) throws -> Void = { _ in }) throws -> ShotList {
        try analyse(source: MediaSource(path: path, interlacing: interlacing), rate: rate, settings: settings, threads: threads, progress: progress)
    }

    public static func analyse(source: MediaSource, rate: Rational? = nil, settings: ShotDetectorSettings, threads: Int = 0,
                               progress: (Int) throws -> Void = { _ in }) throws -> ShotList {
        let reader = try ConstantRateReader(source: source, rate: rate, threads: threads)
        let converter = PixelConverter()
        var detector = try ShotDetector(settings: settings)
        while let frame = try reader.next() {
            _ = detector.push(LumaThumbnail(image: try converter.rgbImage(from: frame.picture)))
            try progress(detector.frameCount)
        }
        _ = detector.finish()
        return detector.shotList(rate: reader.rate, input: try source.identity())
    }

    /// A shot list read from `file` and checked against the input before anything is allocated for it: the invariants
    /// (`ShotList.validated`), at most `ShotList.maxFrames` frames, and a frame count near the one the input's
    /// declared duration implies (`estimatedFrames`), so that a crafted or mistaken file cannot make a job plan
    /// a trillion frames. Throws `PlanningError.invalidShotList` saying what is wrong.
    public static func load(file: URL, estimatedFrames: Int64?) throws -> ShotList {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: file) } catch {
            throw PlanningError.invalidShotList("cannot read \(file.path) (\(String(cString: strerror(JobDirectory.posixCode(of: error)))))")
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: ShotList.maxEncodedBytes + 1) ?? Data()
        let list = try ShotList.decode(data, path: file.path)
        guard list.frameCount <= ShotList.maxFrames else {
            throw PlanningError.invalidShotList("\(file.path) lists \(list.frameCount) frames, more than the \(ShotList.maxFrames) a film can have")
        }
        if let estimated = estimatedFrames, !plausible(listed: list.frameCount, estimated: estimated) {
            throw PlanningError.invalidShotList("\(file.path) lists \(list.frameCount) frames, but the input's duration implies about \(estimated)")
        }
        return list
    }

    /// Declared durations are approximate (a container's rounding, a last frame's length); a shot list's count is
    /// exact. Allowed: within 10 % or 100 frames of the estimate, whichever is larger.
    static func plausible(listed: Int, estimated: Int64) -> Bool {
        abs(Int64(listed) - estimated) <= max(100, estimated / 10)
    }

    /// Whether `list` describes this input at this rate with these settings.
    public static func matches(_ list: ShotList, inputIdentity: String, rate: Rational, settings: ShotDetectorSettings) -> Bool {
        list.input == inputIdentity && list.rate == rate && list.settings == settings
    }
}
