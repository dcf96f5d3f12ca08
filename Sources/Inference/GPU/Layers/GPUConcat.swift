import Foundation

/// Concat on the GPU: `concat.comp` copies up to 7 inputs (8 bindings, as the descriptor pools allow) into their
/// places along the axis of one output per dispatch (RIFE v4.25's 10 Concats of 2–7 blobs: 10 dispatches instead of
/// 43; a dispatch has a fixed cost on lavapipe whatever its size, docs/engine.md).
/// LUMIERE_GPU_CONCAT=copies (read at load) copies each input with its own `copy_region.comp` dispatch, as before,
/// for measuring.
final class GPUConcat: GPULayer {
    let cpu: ConcatLayer
    let copies: Bool
    init(_ cpu: ConcatLayer) {
        self.cpu = cpu
        copies = getenv("LUMIERE_GPU_CONCAT").map { String(cString: $0) } == "copies"
    }

    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor] {
        let first = inputs[0]
        let axis3 = try cpu.axis3(ranks: inputs.map(\.dims))
        // The extents off the axis must agree; the axis' extents add up.
        func along(_ t: GPUTensor) -> Int { axis3 == 0 ? t.channels : (axis3 == 1 ? t.height : t.width) }
        for t in inputs where (axis3 != 0 && t.channels != first.channels) || (axis3 != 1 && t.height != first.height)
            || (axis3 != 2 && t.width != first.width) {
            throw InferenceError.shapeMismatch(layer: cpu.name, reason: "cannot concatenate \(first.shapeDescription) and \(t.shapeDescription) on axis \(cpu.axis)")
        }
        let total = inputs.reduce(0) { $0 + along($1) }
        let out = try encoder.output(dims: first.dims, channels: axis3 == 0 ? total : first.channels,
                                     height: axis3 == 1 ? total : first.height, width: axis3 == 2 ? total : first.width)
        if copies {
            var offset = 0
            for t in inputs {
                let to = (c: axis3 == 0 ? offset : 0, h: axis3 == 1 ? offset : 0, w: axis3 == 2 ? offset : 0)
                try RegionCopy(channels: t.channels, height: t.height, width: t.width, from: (0, 0, 0), to: to).encode(t, into: out, encoder)
                offset += along(t)
            }
            return [out]
        }
        var start = 0
        for group in stride(from: 0, to: inputs.count, by: 7).map({ Array(inputs[$0..<min($0 + 7, inputs.count)]) }) {
            var ends: [Int] = [], end = 0
            for t in group { end += along(t); ends.append(end) }
            var p = PushConstants(ints: [axis3 == 0 ? end : out.channels, axis3 == 1 ? end : out.height, axis3 == 2 ? end : out.width,
                                         out.height, out.width, axis3, start, group.count])
            for k in 0..<7 { p.int(k < ends.count ? ends[k] : end) }
            // Unused bindings repeat the first input (never read: `count` bounds the search).
            let buffers = (0..<7).map { group[$0 < group.count ? $0 : 0].buffer } + [out.buffer]
            try encoder.dispatch("concat", buffers, push: p, width: axis3 == 2 ? end : out.width, height: axis3 == 1 ? end : out.height,
                                 channels: axis3 == 0 ? end : out.channels)
            start += end
        }
        return [out]
    }
}
