/// ncnn MemoryData: a constant blob stored in the .bin as raw fp32 (0=w 1=h 2=c).
final class MemoryDataLayer: Layer {
    let value: Tensor

    init(_ d: LayerDefinition, weights reader: WeightReader) throws {
        try d.expectBlobs(bottoms: 0, tops: 1)
        let w = d.params.int(0, default: 0), h = d.params.int(1, default: 0), c = d.params.int(2, default: 0)
        guard d.params.int(11, default: 0) == 0 else { throw d.invalid("4-D MemoryData is not supported") }
        guard d.params.int(21, default: 1) == 1 else { throw d.invalid("only fp32 MemoryData (load_type 1) is supported") }
        guard w >= 0, h >= 0, c >= 0, w <= 1 << 16, h <= 1 << 16, c <= 1 << 16, max(w, 1) * max(h, 1) * max(c, 1) <= 1 << 26 else {
            throw d.invalid("size \(w)x\(h)x\(c) out of range")
        }
        let dims = c != 0 ? 3 : (h != 0 ? 2 : 1)
        let t = Tensor(dims: dims, channels: max(c, 1), height: max(h, 1), width: max(w, 1))
        // ncnn loads nothing for an all-zero size (a single 0 value).
        let values = (w, h, c) == (0, 0, 0) ? [0] : try reader.readRaw(count: t.count)
        values.withUnsafeBufferPointer { t.storage.update(from: $0.baseAddress!, count: t.count) }
        value = t
    }

    func forward(_ inputs: [Tensor], context: ExecutionContext) throws -> [Tensor] { [value] }
}
