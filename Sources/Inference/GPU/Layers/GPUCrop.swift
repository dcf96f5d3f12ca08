/// Crop on the GPU: the region `CropLayer.region` computes (numpy-style starts/ends/axes, offsets and sizes, or the
/// reference blob's size), copied by `copy_region.comp`; a crop that keeps everything passes its input through, as on
/// the CPU.
final class GPUCrop: GPULayer {
    let cpu: CropLayer
    init(_ cpu: CropLayer) { self.cpu = cpu }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let x = inputs[0]
        let r = inputs.count > 1 ? inputs[1] : nil
        let g = try cpu.region(dims: x.dims, channels: x.channels, height: x.height, width: x.width,
                               reference: r.map { ($0.dims, $0.channels, $0.height, $0.width) }, shape: x.shapeDescription)
        if g.oc == x.channels && g.oh == x.height && g.ow == x.width { return [x] }
        let out = try encoder.output(dims: x.dims, channels: g.oc, height: g.oh, width: g.ow)
        try RegionCopy(channels: g.oc, height: g.oh, width: g.ow, from: (g.co, g.ho, g.wo), to: (0, 0, 0)).encode(x, into: out, encoder)
        return [out]
    }
}
