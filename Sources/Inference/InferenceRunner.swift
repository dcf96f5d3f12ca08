/// What runs a loaded network: the CPU engine (`Net`) or the Vulkan backend (`GPUNet`). `TiledUpscaler` takes either,
/// so the caller picks the device.
public protocol InferenceRunner: AnyObject {
    /// Names of the blobs fed by Input layers.
    var inputNames: [String] { get }
    /// Runs the network: `inputs` by Input blob name, returns the requested blobs (plain channel-major tensors).
    func run(inputs: [String: Tensor], outputs: [String]) throws -> [String: Tensor]
}
