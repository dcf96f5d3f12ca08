import Foundation
import Media
import Planning
import Shared

/// Thumbnails of real footage through our own media path (decoder → float RGB → area average).
/// The decoder is used directly, not `ConstantRateReader`: that one refuses box.mp4 and balle1-vp9.avi
/// (it decodes 455 of 456 and 295 of 300 declared frames and calls them truncated), and all five files
/// are constant-rate, so decoded order is frame order.
enum FootageThumbnails {
    private static var cache: [String: (thumbnails: [LumaThumbnail], rate: Rational)] = [:]
    private static let lock = NSLock()

    /// Decoded once per test run (several tests use the same files).
    static func read(_ path: String) throws -> (thumbnails: [LumaThumbnail], rate: Rational) {
        lock.lock(); defer { lock.unlock() }
        if let hit = cache[path] { return hit }
        let value = try decode(path)
        cache[path] = value
        return value
    }

    private static func decode(_ path: String) throws -> (thumbnails: [LumaThumbnail], rate: Rational) {
        let input = try MediaInput(path: path)
        let stream = try input.primaryVideoStream()
        let decoder = try VideoDecoder(input: input, stream: stream, threads: 1)
        let converter = PixelConverter()
        var result: [LumaThumbnail] = []
        while let frame = try decoder.next() {
            result.append(LumaThumbnail(image: try converter.rgbImage(from: frame.picture)))
        }
        return (result, stream.baseFrameRate ?? stream.averageFrameRate ?? Rational(25))
    }

    static func detect(_ thumbnails: [LumaThumbnail], settings: ShotDetectorSettings = ShotDetectorSettings()) throws -> [ShotBoundary] {
        var detector = try ShotDetector(settings: settings)
        var found: [ShotBoundary] = []
        for t in thumbnails { found += detector.push(t) }
        found += detector.finish()
        return found
    }
}
