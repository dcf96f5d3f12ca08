/// MemoryData on the GPU: the constant is uploaded once with the weights (in the network's blob storage), and every
/// run hands out that buffer (it never came from the run's pool, so the pool never takes it back; layers never write
/// their inputs).
final class GPUMemoryData: GPULayer {
    let value: GPUTensor
    init(_ cpu: MemoryDataLayer, uploads: GPUUploadBatch) throws { value = try uploads.addBlob(cpu.value) }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] { [value] }
}
