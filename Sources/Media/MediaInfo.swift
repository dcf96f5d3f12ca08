import Shared

/// What a media file holds, with times and rates as exact rationals.
public struct MediaInfo: Sendable, Codable, Equatable {
    public var path: String
    /// FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
    public var container: String
    /// Container duration in seconds, if known.
    public var duration: Rational?
    public var streams: [StreamInfo]

    public var videoStreams: [StreamInfo] { streams.filter { $0.kind == .video } }
    public var audioStreams: [StreamInfo] { streams.filter { $0.kind == .audio } }
    public var subtitleStreams: [StreamInfo] { streams.filter { $0.kind == .subtitle } }
}

public struct StreamInfo: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case video, audio, subtitle, data, attachment, unknown }

    public var index: Int
    public var kind: Kind
    public var codec: String
    public var timeBase: Rational
    public var startTime: Rational?
    public var duration: Rational?
    /// Frames (video) or packets (audio) the container declares, if it says.
    public var declaredFrameCount: Int64?
    // Video
    public var width: Int?
    public var height: Int?
    /// Pixels per frame (0 when the container does not say).
    public var pixelCount: Int { (width ?? 0) * (height ?? 0) }
    /// Pixel aspect ratio (1 for square pixels).
    public var sampleAspectRatio: Rational?
    /// FFmpeg's guess of the base rate (r_frame_rate): the rate at which every timestamp can be represented.
    public var baseFrameRate: Rational?
    /// Average rate over the stream (avg_frame_rate).
    public var averageFrameRate: Rational?
    public var pixelFormat: String?
    // Audio
    public var sampleRate: Int?
    public var channels: Int?
    /// A cover picture or other attached still, not a moving stream.
    public var isAttachedPicture: Bool
    /// Display rotation in degrees, counter-clockwise (0, 90, 180, 270): how players turn the stored picture
    /// (phones store portrait video as rotated landscape). nil: none.
    public var rotation: Int? = nil

    /// The size players show: the stored size turned by `rotation`.
    public var displaySize: PixelSize? {
        guard let size else { return nil }
        return rotation == 90 || rotation == 270 ? PixelSize(width: size.height, height: size.width) : size
    }
    /// How the pictures are scanned, as the codec parameters say (nil: the stream does not say).
    public var fieldOrder: FieldOrder? = nil

    public var size: PixelSize? {
        guard let w = width, let h = height else { return nil }
        return PixelSize(width: w, height: h)
    }
}

/// Whether a video is progressive or interlaced, and which field is shown first.
public enum FieldOrder: String, Sendable, Codable, Equatable {
    case progressive
    case topFieldFirst = "tff"
    case bottomFieldFirst = "bff"

    public var isInterlaced: Bool { self != .progressive }
}
