/// A c × h × w region copied between blobs by `copy_region.comp`: what Crop, Slice and Concat record.
struct RegionCopy {
    var channels: Int, height: Int, width: Int
    /// Where the region starts in the source and in the destination: (channel, row, column).
    var from: (c: Int, h: Int, w: Int), to: (c: Int, h: Int, w: Int)

    func encode(_ source: GPUTensor, into destination: GPUTensor, _ encoder: GPUEncoder) throws {
        let p = PushConstants(ints: [channels, height, width, source.height, source.width, from.c, from.h, from.w,
                                     destination.height, destination.width, to.c, to.h, to.w])
        try encoder.dispatch("copy_region", [source.buffer, destination.buffer], push: p, width: width, height: height, channels: channels)
    }
}
