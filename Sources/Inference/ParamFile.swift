/// One layer line of an ncnn `.param` file.
public struct LayerDefinition: Sendable {
    public let type: String
    public let name: String
    public let bottoms: [String]
    public let tops: [String]
    public let params: ParamDict
}

/// A parsed ncnn `.param` (text form): magic 7767517, `layers blobs`, then one line per layer:
/// `type name nbottom ntop bottoms... tops... key=value...`.
public struct ParamFile: Sendable {
    public let layers: [LayerDefinition]
    public let blobCount: Int

    static let magic = 7_767_517
    static let maxLayers = 100_000
    static let maxBlobsPerLayer = 4096

    public init(text: String) throws {
        var lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).enumerated().map { ($0.offset + 1, $0.element) }
        lines.removeAll { $0.1.allSatisfy { $0 == " " || $0 == "\t" } }
        guard let first = lines.first else { throw InferenceError.malformedParam(line: 1, reason: "file is empty") }
        guard Int(first.1.trimmingCharacters(in: " \t")) == ParamFile.magic else {
            throw InferenceError.malformedParam(line: first.0, reason: "magic number is not 7767517")
        }
        guard lines.count >= 2 else { throw InferenceError.malformedParam(line: 2, reason: "missing 'layer_count blob_count' line") }
        let counts = lines[1].1.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard counts.count == 2, let layerCount = Int(counts[0]), let blobCount = Int(counts[1]),
              layerCount > 0, layerCount <= ParamFile.maxLayers, blobCount > 0, blobCount <= ParamFile.maxLayers * 16 else {
            throw InferenceError.malformedParam(line: lines[1].0, reason: "expected 'layer_count blob_count' with sane positive values")
        }
        let body = lines.dropFirst(2)
        guard body.count == layerCount else {
            throw InferenceError.malformedParam(line: lines.last!.0, reason: "header declares \(layerCount) layers but the file has \(body.count)")
        }
        var layers: [LayerDefinition] = []
        layers.reserveCapacity(layerCount)
        for (lineNumber, line) in body {
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard tokens.count >= 4, let nb = Int(tokens[2]), let nt = Int(tokens[3]),
                  nb >= 0, nt >= 0, nb <= ParamFile.maxBlobsPerLayer, nt <= ParamFile.maxBlobsPerLayer,
                  tokens.count >= 4 + nb + nt else {
                throw InferenceError.malformedParam(line: lineNumber, reason: "expected 'type name bottom_count top_count blobs...'")
            }
            let type = String(tokens[0]), name = String(tokens[1])
            guard type.utf8.count <= 256, name.utf8.count <= 256 else {
                throw InferenceError.malformedParam(line: lineNumber, reason: "layer type or name longer than 256 bytes")
            }
            let bottoms = tokens[4..<(4 + nb)].map(String.init)
            let tops = tokens[(4 + nb)..<(4 + nb + nt)].map(String.init)
            if let bad = (bottoms + tops).first(where: { $0.contains("=") || $0.utf8.count > 256 }) {
                throw InferenceError.malformedParam(line: lineNumber, reason: "'\(bad.prefix(40))' is not a blob name: blob counts do not match the blobs listed")
            }
            var params = ParamDict()
            for token in tokens[(4 + nb + nt)...] {
                try ParamDict.parse(token: token, into: &params, line: lineNumber)
            }
            layers.append(LayerDefinition(type: type, name: name, bottoms: bottoms, tops: tops, params: params))
        }
        self.layers = layers
        self.blobCount = blobCount
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}
