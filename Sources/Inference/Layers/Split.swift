/// ncnn Split: hands the same blob to several consumers (shared, layers never write inputs).
final class SplitLayer: Layer {
    let copies: Int
    init(_ d: LayerDefinition) throws {
        try d.expectBlobs(bottoms: 1, tops: nil)
        guard !d.tops.isEmpty else { throw d.invalid("Split needs at least one output") }
        copies = d.tops.count
    }
    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] {
        Array(repeating: inputs[0], count: copies)
    }
}
