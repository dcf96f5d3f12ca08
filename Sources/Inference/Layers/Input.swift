/// ncnn Input: a named entry point; the tensor is supplied to `Net.run`. Its size hints
/// (0=w 1=h 2=c) are informational in ncnn and ignored here as well.
final class InputLayer: Layer {
    init(_ d: LayerDefinition) throws { try d.expectBlobs(bottoms: 0, tops: 1) }
    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] { inputs }
}
