/// Everything that can go wrong loading or running a model, with the layer (or file) at fault.
public enum InferenceError: Error, CustomStringConvertible, Equatable {
    /// The .param text is malformed (`line` is 1-based).
    case malformedParam(line: Int, reason: String)
    /// A layer type no registered creator knows.
    case unknownLayerType(layer: String, type: String)
    /// A layer names an input blob that no earlier layer produces.
    case missingBlob(layer: String, blob: String)
    /// A parameter value that is out of range or inconsistent.
    case invalidParameter(layer: String, reason: String)
    /// The .bin weight file does not match what the .param declares.
    case weightFile(layer: String, reason: String)
    /// A layer cannot run on the blobs it was given (shape mismatch, size limits).
    case shapeMismatch(layer: String, reason: String)
    /// A caller-side problem: missing input name, unknown output, bad tensor.
    case invalidInput(String)
    /// A file could not be read.
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .malformedParam(line, reason):
            return "model .param line \(line): \(reason) — the file is corrupt or not an ncnn param file"
        case let .unknownLayerType(layer, type):
            return "layer '\(layer)': unknown layer type '\(type)' — register a creator for it (Net.LayerRegistry) or use a supported model"
        case let .missingBlob(layer, blob):
            return "layer '\(layer)': input blob '\(blob)' is produced by no earlier layer — the .param file is inconsistent"
        case let .invalidParameter(layer, reason):
            return "layer '\(layer)': \(reason)"
        case let .weightFile(layer, reason):
            return "layer '\(layer)': weight file \(reason) — the .bin does not belong to this .param or is truncated"
        case let .shapeMismatch(layer, reason):
            return "layer '\(layer)': \(reason)"
        case let .invalidInput(reason):
            return "inference input: \(reason)"
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason)"
        }
    }
}
