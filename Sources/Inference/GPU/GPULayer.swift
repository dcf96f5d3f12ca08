/// The GPU counterpart of one loaded CPU layer: records its shader dispatches for a run. Made from the CPU layer (its
/// parsed parameters and weights, as fused by `Net`), so both engines run exactly the same model.
protocol GPULayer: AnyObject {
    /// Records the layer; returns its top blobs (never writes its inputs: Split shares them).
    func encode(_ inputs: [GPUTensor], _ encoder: GPUEncoder) throws -> [GPUTensor]
    /// What the layer's last `encode` ran, for `GPUNet.lastLayerProfile` (the shader and shape where that matters).
    var profileKind: String { get }
}

extension GPULayer {
    var profileKind: String { String(describing: type(of: self)) }
}

/// Makes the GPU layer for a CPU layer; weights go into `uploads` (copied to the device once, at load).
typealias GPULayerMaker = (_ layer: Layer, _ definition: LayerDefinition, _ uploads: GPUUploadBatch) throws -> GPULayer

/// The layer types the GPU backend runs, one line each (the layer's file is GPU/Layers/GPU<Type>.swift). A type not
/// listed here makes `GPUNet` refuse the model at load with `GPUError.unsupported`.
enum GPULayers {
    static let makers: [String: GPULayerMaker] = [
        "Split": { _, d, _ in GPUSplit(copies: d.tops.count) },
        "Convolution": { l, d, u in try GPUConvolution(cast(l, d), uploads: u) },
        "Deconvolution": { l, d, u in try GPUDeconvolution(cast(l, d), uploads: u) },
        "ReLU": { l, d, u in try GPUActivation(relu: cast(l, d), uploads: u) },
        "PReLU": { l, d, u in try GPUActivation(prelu: cast(l, d), uploads: u) },
        "PixelShuffle": { l, d, _ in try GPUPixelShuffle(cast(l, d)) },
        "Interp": { l, d, _ in try GPUInterp(cast(l, d)) },
        "BinaryOp": { l, d, _ in try GPUBinaryOp(cast(l, d)) },
        "Sigmoid": { l, d, u in try GPUActivation(sigmoid: cast(l, d), uploads: u) },
        "Crop": { l, d, _ in try GPUCrop(cast(l, d)) },
        "Slice": { l, d, _ in try GPUSlice(cast(l, d)) },
        "Concat": { l, d, _ in try GPUConcat(cast(l, d)) },
        "Eltwise": { l, d, _ in try GPUEltwise(cast(l, d)) },
        "MemoryData": { l, d, u in try GPUMemoryData(cast(l, d), uploads: u) },
        // RIFE's custom layer: present in a Net loaded with `LayerRegistry.withRIFE` (as RIFEInterpolator does); the
        // cast refuses any other class registered under the name.
        "rife.Warp": { l, d, _ in try GPURIFEWarp(cast(l, d)) },
    ]

    /// The CPU layer as the class its type name promises (a custom creator registered under a built-in name is refused).
    static func cast<T: Layer>(_ layer: Layer, _ d: LayerDefinition) throws -> T {
        guard let typed = layer as? T else {
            throw GPUError.unsupported("layer '\(d.name)' of type \(d.type) comes from a custom creator (\(type(of: layer)))")
        }
        return typed
    }
}
