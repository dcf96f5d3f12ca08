/// Split on the GPU: the same device blob for every consumer, no copy (layers never write their inputs).
final class GPUSplit: GPULayer {
    let copies: Int
    init(copies: Int) { self.copies = copies }
    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        Array(repeating: inputs[0], count: copies)
    }
}
