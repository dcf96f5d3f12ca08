/// One operation of the network. Layers never modify their input tensors (Split shares them).
public protocol Layer: AnyObject {
    /// Computes the top blobs from the bottom blobs, in `.param` order.
    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor]
}

/// Makes a layer from its `.param` line, reading its weights (if any) from the `.bin` reader.
public typealias LayerCreator = (_ definition: LayerDefinition, _ weights: WeightReader) throws -> Layer

/// Layer types by name. `standard` holds every built-in layer; other modules add their own
/// operations (e.g. `rife.Warp`) with `register` before loading a network.
public struct LayerRegistry {
    public private(set) var creators: [String: LayerCreator]

    public init(creators: [String: LayerCreator] = [:]) { self.creators = creators }

    public mutating func register(_ type: String, creator: @escaping LayerCreator) {
        creators[type] = creator
    }

    public static var standard: LayerRegistry {
        LayerRegistry(creators: [
            "Input": { d, _ in try InputLayer(d) },
            "Split": { d, _ in try SplitLayer(d) },
            "Convolution": { d, w in try ConvolutionLayer(d, weights: w) },
            "Deconvolution": { d, w in try DeconvolutionLayer(d, weights: w) },
            "PReLU": { d, w in try PReLULayer(d, weights: w) },
            "ReLU": { d, _ in try ReLULayer(d) },
            "Sigmoid": { d, _ in try SigmoidLayer(d) },
            "PixelShuffle": { d, _ in try PixelShuffleLayer(d) },
            "Interp": { d, _ in try InterpLayer(d) },
            "BinaryOp": { d, _ in try BinaryOpLayer(d) },
            "Eltwise": { d, _ in try EltwiseLayer(d) },
            "Concat": { d, _ in try ConcatLayer(d) },
            "Crop": { d, _ in try CropLayer(d) },
            "Slice": { d, _ in try SliceLayer(d) },
            "MemoryData": { d, w in try MemoryDataLayer(d, weights: w) },
        ])
    }
}

extension LayerDefinition {
    /// Throws unless the line has exactly the given numbers of bottoms and tops.
    func expectBlobs(bottoms nb: Int?, tops nt: Int?) throws {
        if let nb, bottoms.count != nb {
            throw InferenceError.invalidParameter(layer: name, reason: "\(type) takes \(nb) input blob(s), the .param gives \(bottoms.count)")
        }
        if let nt, tops.count != nt {
            throw InferenceError.invalidParameter(layer: name, reason: "\(type) produces \(nt) output blob(s), the .param gives \(tops.count)")
        }
    }

    func invalid(_ reason: String) -> InferenceError { .invalidParameter(layer: name, reason: reason) }
    func shape(_ reason: String) -> InferenceError { .shapeMismatch(layer: name, reason: reason) }
}
