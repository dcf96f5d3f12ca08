import Media
import Processors
import Shared

/// Everything a restore needs to know, validated before any frame is decoded.
public struct RestoreSettings: Sendable {
    public enum Processor: String, Sendable, CaseIterable {
        /// swscale Lanczos: the classical baseline.
        case lanczos
    }

    public var input: String
    public var output: String
    public var geometry: OutputGeometry.Request
    public var processor: Processor
    public var encoding: VideoEncoding
    public var threads: Int
    /// Suppress progress output (tests).
    public var quiet: Bool

    public init(input: String, output: String, geometry: OutputGeometry.Request = .scale(2), processor: Processor = .lanczos,
                encoding: VideoEncoding = VideoEncoding(), threads: Int = 0, quiet: Bool = false) {
        self.input = input
        self.output = output
        self.geometry = geometry
        self.processor = processor
        self.encoding = encoding
        self.threads = threads
        self.quiet = quiet
    }
}

/// Why a restore could not run, in words that say what to do.
public enum RestoreError: Error, CustomStringConvertible, Equatable {
    case outputIsInput(String)
    case outputDirectoryMissing(String)
    case unsupportedOutputExtension(String)
    case frameCountMismatch(expected: Int64, written: Int64)

    public var description: String {
        switch self {
        case .outputIsInput(let p): return "The output \(p) is the input file; choose another output name."
        case .outputDirectoryMissing(let d): return "The output directory \(d) does not exist; create it first."
        case .unsupportedOutputExtension(let e): return "Output must be .mp4, .mkv or .mov, not \(e.isEmpty ? "a name without extension" : "." + e)."
        case .frameCountMismatch(let e, let w): return "Internal error: wrote \(w) frames, expected \(e); the output was not kept."
        }
    }
}
