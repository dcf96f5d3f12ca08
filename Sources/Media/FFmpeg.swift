import CFFmpeg

/// What went wrong with a media file or an FFmpeg call, phrased for the person running Lumière.
public enum MediaError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case emptyFile(path: String)
    case notAMediaFile(path: String, detail: String)
    case noVideoStream(path: String)
    case truncated(path: String, detail: String)
    case brokenTimestamps(path: String, detail: String)
    case unsupportedCodec(String)
    case invalidSize(String)
    case ffmpeg(operation: String, code: Int32, message: String)
    case outputFailed(path: String, detail: String)
    /// A setting (an option's value) that cannot work, found before any work.
    case invalidSetting(String)
    /// A trim (`MediaSource.Trim`) that starts at or after the film's last frame: found while decoding, when the
    /// header's duration did not show it. A usage error (the command line asks for frames the film does not have).
    case trimBeyondEnd(frames: Int64, seconds: Double, first: Int64, start: Double)

    public var description: String {
        switch self {
        case .fileNotFound(let p): return "Input file not found: \(p). Check the path."
        case .emptyFile(let p): return "Input file is empty (0 bytes): \(p)."
        case .notAMediaFile(let p, let d): return "\(p) is not a media file FFmpeg can read (\(d))."
        case .noVideoStream(let p): return "\(p) has no video stream; Lumière restores video."
        case .truncated(let p, let d): return "\(p) looks truncated or damaged: \(d)."
        case .brokenTimestamps(let p, let d): return "\(p) has broken timestamps: \(d); remux it (e.g. with regenerated timestamps) and try again."
        case .unsupportedCodec(let d): return "Unsupported codec: \(d)."
        case .invalidSize(let d): return "Invalid picture size: \(d)."
        case .ffmpeg(let op, let code, let msg): return "FFmpeg failed in \(op): \(msg) (code \(code))."
        case .outputFailed(let p, let d): return "Cannot write \(p): \(d)."
        case .invalidSetting(let d): return d
        case let .trimBeyondEnd(frames, seconds, first, start):
            return String(format: "the film ends after %lld frames (%.3f s), before the trim's start at frame %lld (%.3f s); choose an earlier --start",
                          frames, seconds, first, start)
        }
    }
}

/// The one place where FFmpeg return codes become Swift errors.
enum FFmpeg {
    static let eagain = lumiere_averror_eagain()
    static let eof = lumiere_averror_eof()
    static let noPTS = lumiere_av_nopts_value()

    static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        av_strerror(code, &buffer, buffer.count)
        return String(cString: buffer)
    }

    /// Throws for negative return codes, returns the code otherwise.
    @discardableResult
    static func check(_ code: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
        if code < 0 { throw MediaError.ffmpeg(operation: operation(), code: code, message: errorString(code)) }
        return code
    }

    static func rational(_ r: AVRational) -> Rational? {
        r.den == 0 || r.num == 0 ? nil : Rational(Int64(r.num), Int64(r.den))
    }

    static func avRational(_ r: Rational) -> AVRational {
        precondition(r.numerator <= Int64(Int32.max) && r.denominator <= Int64(Int32.max), "rational too large for FFmpeg: \(r)")
        return AVRational(num: Int32(r.numerator), den: Int32(r.denominator))
    }

    /// Silences FFmpeg's own console lines unless LUMIERE_FFMPEG_LOG is set: every failure reaches the user as our
    /// one-sentence error (with FFmpeg's reason in it), and a half-line from a demuxer before it only confuses.
    static let configureLogging: Void = {
        if getenv("LUMIERE_FFMPEG_LOG") == nil { av_log_set_level(AV_LOG_FATAL) }
    }()
}

import Shared
#if canImport(Glibc)
import Glibc
#endif
