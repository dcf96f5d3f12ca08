import Dispatch
import Foundation

/// An ncnn-format network loaded from `.param` + `.bin`, ready to run.
/// One instance is used by one thread at a time (layers keep lazily built caches).
public final class Net: InferenceRunner {
    public let definitions: [LayerDefinition]
    let layers: [Layer]
    public let options: EngineOptions
    let context: ExecutionContext
    /// Blob name → index of the layer producing it.
    private let producer: [String: Int]
    /// Names of the blobs fed by Input layers.
    public let inputNames: [String]

    static let maxParamBytes = 16 << 20
    static let maxWeightBytes = 2 << 30

    /// Loads `paramURL` and `weightsURL`.
    public convenience init(paramURL: URL, weightsURL: URL, options: EngineOptions = EngineOptions(),
                            registry: LayerRegistry = .standard) throws {
        let paramText = try Net.readFile(paramURL, limit: Net.maxParamBytes)
        guard let text = String(bytes: paramText, encoding: .utf8) else {
            throw InferenceError.malformedParam(line: 1, reason: "\(paramURL.lastPathComponent) is not UTF-8 text")
        }
        let weights = try Net.readFile(weightsURL, limit: Net.maxWeightBytes)
        try self.init(paramText: text, weights: weights, options: options, registry: registry)
    }

    /// Loads a network from the text of a `.param` file and the bytes of its `.bin`.
    public init(paramText: String, weights: [UInt8], options: EngineOptions = EngineOptions(),
                registry: LayerRegistry = .standard) throws {
        let file = try ParamFile(text: paramText)
        let reader = WeightReader(bytes: weights)
        var producer: [String: Int] = [:]
        var layers: [Layer] = []
        var inputs: [String] = []
        for (index, def) in file.layers.enumerated() {
            for b in def.bottoms where producer[b] == nil {
                throw InferenceError.missingBlob(layer: def.name, blob: b)
            }
            guard let creator = registry.creators[def.type] else {
                throw InferenceError.unknownLayerType(layer: def.name, type: def.type)
            }
            reader.layerName = def.name
            layers.append(try creator(def, reader))
            for t in def.tops {
                guard producer[t] == nil else {
                    throw InferenceError.invalidParameter(layer: def.name, reason: "output blob '\(t)' is already produced by an earlier layer")
                }
                producer[t] = index
            }
            if def.type == "Input" { inputs.append(contentsOf: def.tops) }
        }
        guard reader.remaining == 0 else {
            throw InferenceError.weightFile(layer: file.layers.last?.name ?? "?", reason: "too long: \(reader.remaining) bytes are left after the last layer")
        }
        self.definitions = file.layers
        self.layers = layers
        self.producer = producer
        self.inputNames = inputs
        self.options = options
        self.context = ExecutionContext(options: options)
        if options.fuseLayers { Net.fuseActivations(definitions: file.layers, layers: layers) }
    }

    /// When true, `run` accumulates wall time per layer type into `layerSeconds` (benchmarking).
    public var profiling = false
    public var layerSeconds: [String: Double] = [:]

    /// The instruction set our kernels use on this CPU with these options.
    public var instructionSetName: String { context.instructionSetName }

    /// Runs the network: `inputs` by Input blob name, returns the requested blobs.
    /// Only layers that the outputs depend on are run; blobs are freed after their last use.
    public func run(inputs: [String: Tensor], outputs: [String]) throws -> [String: Tensor] {
        let plan = try plan(inputs: Array(inputs.keys), outputs: outputs)
        var uses = plan.uses
        var blobs: [String: Tensor] = [:]
        for li in plan.order {
            let def = definitions[li]
            let produced: [Tensor]
            if def.type == "Input" {
                guard let t = inputs[def.tops[0]] else {
                    throw InferenceError.invalidInput("input '\(def.tops[0])' was not given")
                }
                produced = [t]
            } else {
                var args: [Tensor] = []
                args.reserveCapacity(def.bottoms.count)
                for b in def.bottoms { args.append(blobs[b]!) }
                if !(layers[li] is ConvolutionLayer) && !((layers[li] as? FusableActivation)?.isFused ?? false) {
                    args = args.map { $0.planar() }  // packed hand-offs are only for convolutions
                }
                let t0 = profiling ? DispatchTime.now().uptimeNanoseconds : 0
                produced = try layers[li].forward(args, context: context)
                if profiling { layerSeconds[def.type, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
                for b in def.bottoms {
                    uses[b]! -= 1
                    if uses[b]! == 0 { blobs[b] = nil }
                }
            }
            guard produced.count == def.tops.count else {
                throw InferenceError.shapeMismatch(layer: def.name, reason: "produced \(produced.count) blobs, expected \(def.tops.count)")
            }
            for (name, t) in zip(def.tops, produced) where (uses[name] ?? 0) > 0 { blobs[name] = t }
        }
        var result: [String: Tensor] = [:]
        for o in outputs { result[o] = blobs[o]?.planar() }
        return result
    }

    /// The layers that `outputs` depend on, in `.param` order, and the number of readers of each blob (the outputs
    /// count as one), so that a run frees each blob after its last use. Shared by `run` and `GPUNet.run`.
    func plan(inputs given: [String], outputs: [String]) throws -> (order: [Int], uses: [String: Int]) {
        for name in given where !inputNames.contains(name) {
            throw InferenceError.invalidInput("'\(name)' is not an input of this network (inputs: \(inputNames.joined(separator: ", ")))")
        }
        var needed = Set<Int>()
        var stack: [String] = []
        for o in outputs {
            guard producer[o] != nil else { throw InferenceError.invalidInput("no blob named '\(o)' in this network") }
            stack.append(o)
        }
        while let blob = stack.popLast() {
            let li = producer[blob]!
            if needed.insert(li).inserted { stack.append(contentsOf: definitions[li].bottoms) }
        }
        var uses: [String: Int] = [:]
        for li in needed { for b in definitions[li].bottoms { uses[b, default: 0] += 1 } }
        for o in outputs { uses[o, default: 0] += 1 }
        return (needed.sorted(), uses)
    }

    /// Convolution → PReLU/ReLU pairs where only the activation reads the convolution's output
    /// are run as one step (the activation is applied while the output is still in cache).
    private static func fuseActivations(definitions: [LayerDefinition], layers: [Layer]) {
        var consumers: [String: Int] = [:]
        for d in definitions { for b in d.bottoms { consumers[b, default: 0] += 1 } }
        var producer: [String: Int] = [:]
        for (i, d) in definitions.enumerated() { for t in d.tops { producer[t] = i } }
        for (i, d) in definitions.enumerated() where d.bottoms.count == 1 && d.tops.count == 1 {
            guard let act = layers[i] as? FusableActivation,
                  let pi = producer[d.bottoms[0]], consumers[d.bottoms[0]] == 1,
                  let conv = layers[pi] as? ConvolutionLayer, definitions[pi].tops.count == 1,
                  conv.activation.isNone else { continue }
            conv.activation = act.fusedActivation
            act.isFused = true
        }
        // Convolution → (fused activation) → Winograd convolution chains hand over packed tensors.
        consumers = [:]
        var consumerLayer: [String: Int] = [:]
        for (i, d) in definitions.enumerated() {
            for b in d.bottoms { consumers[b, default: 0] += 1; consumerLayer[b] = i }
        }
        for (i, d) in definitions.enumerated() {
            guard let conv = layers[i] as? ConvolutionLayer, conv.isWinogradCandidate, d.tops.count == 1 else { continue }
            var blob = d.tops[0]
            // Skip over a fused activation (it passes its input through).
            if consumers[blob] == 1, let ai = consumerLayer[blob], (layers[ai] as? FusableActivation)?.isFused == true {
                blob = definitions[ai].tops[0]
            }
            guard consumers[blob] == 1, let ni = consumerLayer[blob], let next = layers[ni] as? ConvolutionLayer,
                  next.isWinogradCandidate else { continue }
            conv.packedConsumerPadding = (next.padTop, next.padLeft, next.padBottom, next.padRight)
        }
    }

    static func readFile(_ url: URL, limit: Int) throws -> [UInt8] {
        let attrs: [FileAttributeKey: Any]
        do { attrs = try FileManager.default.attributesOfItem(atPath: url.path) } catch {
            throw InferenceError.unreadableFile(path: url.path, reason: "it does not exist or is not accessible")
        }
        let size = (attrs[.size] as? NSNumber)?.intValue ?? 0
        guard size <= limit else { throw InferenceError.unreadableFile(path: url.path, reason: "\(size) bytes exceeds the \(limit)-byte limit") }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw InferenceError.unreadableFile(path: url.path, reason: "read failed")
        }
        return [UInt8](data)
    }
}
