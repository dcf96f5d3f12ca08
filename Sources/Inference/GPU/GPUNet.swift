import Foundation

/// A loaded `Net` run on a Vulkan device: the same `.param`/`.bin`, the same layers (their parsed parameters, weights
/// and activation fusion are taken from the CPU layers), the same `run` as `Net`. Blobs are fp32 or fp16
/// (`GPUPrecision`); inputs and outputs are fp32 tensors either way.
///
/// Weights are uploaded once, here. A run records one command buffer: the inputs' upload, every layer's dispatches
/// (a barrier after each), the outputs' download; one submission, one wait. The graph stays on the device between
/// layers; a blob's buffer goes back to the pool after its last reader and is reused by a later layer of the same run
/// (the barriers order the reuse) and by later runs (a tile-by-tile upscale allocates nothing after its first tile).
/// One instance is used by one thread at a time, like `Net`; several GPUNets may share a device.
public final class GPUNet: InferenceRunner {
    public let net: Net
    /// The device this network runs on.
    public let device: ComputeDeviceInfo
    /// How blobs are stored on the device.
    public let precision: GPUPrecision
    /// Whether the convolutions multiply-add in fp16 (`.fp16` on a device with shaderFloat16).
    public var fp16Arithmetic: Bool { precision == .fp16 && vulkan.hasFP16Arithmetic }
    public var inputNames: [String] { net.inputNames }
    /// Bytes of weights on the device.
    public let weightBytes: Int
    /// Bytes of blob and transfer buffers this network holds on the device and host (grows to the largest run's need).
    public var bufferBytes: Int { slots.map(\.pool.heldBytes).reduce(0, +) }
    /// Seconds the device spent on the last `run`: between the first command starting and the last finishing (timestamp
    /// queries), or from submission to the fence where the device writes no timestamps (`deviceTimeFromTimestamps`).
    /// The rest of a run's wall time is the CPU's part (recording, copying the inputs in and the outputs out), during
    /// which the device idles: a benchmark's "GPU busy %".
    public private(set) var lastRunDeviceSeconds: Double = 0
    /// Seconds the device has spent on this network's runs since it was made: the sum of `lastRunDeviceSeconds` over
    /// every `run` and `runOverlapped` that finished. A worker reads it before and after a segment for the segment's
    /// "GPU busy %" (`SegmentRenderer.Result.deviceSeconds`).
    public private(set) var totalDeviceSeconds: Double = 0
    public var deviceTimeFromTimestamps: Bool { slots[0].recorder.deviceTimeFromTimestamps }
    /// When set, `run` submits and waits after every layer and records each layer's device time in `lastLayerProfile`
    /// (for finding where the time goes; a run then costs one submission per layer, ~1 ms each on lavapipe).
    public var profileLayers = false
    /// Dispatches per shader variant (`conv3x3_r4x8_fp16a`, `conv3x3_coopmat_fp16a`, …) recorded by the last `run` or
    /// the last run of `runOverlapped`: which paths a network really took.
    public private(set) var lastRunDispatches: [String: Int] = [:]
    /// The last profiled run, in execution order: layer name, type, what it ran (`GPULayer.profileKind`), device seconds.
    public private(set) var lastLayerProfile: [(layer: String, type: String, kind: String, seconds: Double)] = []

    private let vulkan: VulkanDevice
    private let layers: [GPULayer?]   // nil for Input layers
    /// Mul → add (→ ReLU) chains run as one dispatch, by the mul's layer index (`GPUScaleResidual`).
    private let chains: [Int: GPUScaleResidual]
    private var slots: [Slot]

    /// Prepares `net` on device `index` of `ComputeDevices.list(loaderLibrary:)`. Throws `GPUError.unsupported` naming
    /// every layer type the GPU backend lacks (or for fp16 on a device without 16-bit storage buffers), and the other
    /// `GPUError`s when Vulkan or the shaders are missing.
    public init(net: Net, device index: Int = 0, precision: GPUPrecision = .fp32, loaderLibrary: String = "libvulkan.so.1") throws {
        guard ShaderLibrary.isAvailable else { throw GPUError.shader("this build has no GPU shaders: install glslang-tools and rebuild") }
        let infos = try ComputeDevices.list(loaderLibrary: loaderLibrary)
        guard infos.indices.contains(index) else {
            throw GPUError.noDevice("there is no gpu:\(index) (\(infos.count) Vulkan device(s): \(infos.map(\.name).joined(separator: ", ")))")
        }
        let vulkan = try VulkanDevice.shared(index: index, loader: loaderLibrary)
        guard precision == .fp32 || vulkan.has16BitStorage else {
            throw GPUError.unsupported("fp16 blobs on \(vulkan.name), which has no 16-bit storage buffers (storageBuffer16BitAccess): use fp32")
        }
        let unsupported = net.definitions.filter { $0.type != "Input" && GPULayers.makers[$0.type] == nil }
        guard unsupported.isEmpty else {
            let types = Set(unsupported.map(\.type)).sorted()
            throw GPUError.unsupported("layer type(s) \(types.joined(separator: ", ")) (first: layer '\(unsupported[0].name)') have no GPU shader yet")
        }
        let uploads = GPUUploadBatch(device: vulkan, options: net.options, precision: precision)
        var layers: [GPULayer?] = []
        for (definition, layer) in zip(net.definitions, net.layers) {
            layers.append(definition.type == "Input" ? nil : try GPULayers.makers[definition.type]!(layer, definition, uploads))
        }
        let chains = try GPUScaleResidual.chains(net, uploads: uploads)
        try uploads.submit()
        self.net = net
        self.chains = chains
        self.device = infos[index]
        self.precision = precision
        self.vulkan = vulkan
        self.layers = layers
        self.weightBytes = uploads.bytes
        self.slots = [Slot(recorder: try CommandRecorder(device: vulkan), pool: GPUBufferPool(device: vulkan))]
    }

    /// Runs the network on the device: `inputs` by Input blob name, returns the requested blobs.
    public func run(inputs: [String: Tensor], outputs: [String]) throws -> [String: Tensor] {
        let result = try finish(try submit(inputs: inputs, outputs: outputs, on: slots[0]))
        totalDeviceSeconds += lastRunDeviceSeconds
        return result
    }

    /// Runs the network on `count` inputs in order with two runs in flight: while the device computes run i, the host
    /// records run i + 1 and copies its inputs in (and then reads run i's outputs while the device computes i + 1).
    /// Each in-flight run has its own command buffer and buffer pool, so no buffer is shared between them (twice the
    /// blob memory of `run`). `deliver` gets each run's outputs, in order. `lastRunDeviceSeconds` then holds the
    /// device's busy time over all of them, intervals that overlap counted once (timestamps; with fences, their sum).
    public func runOverlapped(count: Int, inputs: (Int) throws -> [String: Tensor], outputs: [String],
                              deliver: (Int, [String: Tensor]) throws -> Void) throws {
        if slots.count < 2 { slots.append(Slot(recorder: try CommandRecorder(device: vulkan), pool: GPUBufferPool(device: vulkan))) }
        var inFlight: [(index: Int, run: PendingRun)] = []
        // Whatever fails, nothing leaves while the device may still use it.
        defer { for p in inFlight { _ = try? finish(p.run) } }
        var busy = BusyTime()
        for i in 0..<count {
            inFlight.append((i, try submit(inputs: try inputs(i), outputs: outputs, on: slots[i % 2])))
            if inFlight.count == 2 {
                let done = inFlight.removeFirst()
                let result = try finish(done.run)
                busy.add(lastRunDeviceSeconds, done.run.slot.recorder.lastDeviceInterval)
                try deliver(done.index, result)
            }
        }
        if let last = inFlight.popLast() {
            let result = try finish(last.run)
            busy.add(lastRunDeviceSeconds, last.run.slot.recorder.lastDeviceInterval)
            try deliver(last.index, result)
        }
        lastRunDeviceSeconds = busy.seconds
        totalDeviceSeconds += busy.seconds
    }

    /// One command buffer and the buffers its runs use. `run` uses the first; `runOverlapped` alternates two.
    private struct Slot {
        let recorder: CommandRecorder
        let pool: GPUBufferPool
    }

    /// A submitted run: what `finish` waits for, reads and gives back.
    private struct PendingRun {
        let slot: Slot
        let staging: [VulkanBuffer]
        let downloads: [(name: String, tensor: GPUTensor, host: VulkanBuffer)]
        let live: [VulkanBuffer]
    }

    /// The device's busy time over several runs: the union of their timestamp intervals, or the sum of fence times.
    private struct BusyTime {
        private var intervals: [(start: Double, end: Double)] = []
        private var sum = 0.0
        mutating func add(_ seconds: Double, _ interval: (start: Double, end: Double)?) {
            sum += seconds
            if let interval { intervals.append(interval) }
        }
        var seconds: Double {
            guard !intervals.isEmpty else { return sum }
            var total = 0.0, end = -Double.infinity
            for i in intervals.sorted(by: { $0.start < $1.start }) {
                total += max(0, i.end - max(i.start, end))
                end = max(end, i.end)
            }
            return total
        }
    }

    /// Records a run on `slot` (inputs copied in, every layer, outputs copied out) and submits it without waiting.
    private func submit(inputs: [String: Tensor], outputs: [String], on slot: Slot) throws -> PendingRun {
        let plan = try net.plan(inputs: Array(inputs.keys), outputs: outputs)
        var uses = plan.uses
        let recorder = slot.recorder, pool = slot.pool
        try recorder.begin()
        let encoder = GPUEncoder(device: vulkan, recorder: recorder, pool: pool, precision: precision)
        var blobs: [String: GPUTensor] = [:]
        var submitted = false
        if profileLayers { lastLayerProfile = [] }
        defer {
            // Recording failed: nothing reached the device, so every buffer goes back to the pool now (the live blobs
            // too, so that `releaseCachedBuffers` can free them before a retry with smaller tiles).
            if !submitted {
                for b in encoder.staging { pool.give(b) }
                for t in uniqueBuffers(blobs.values) { pool.give(t) }
            }
        }
        var absorbed = Set<Int>()   // layers a fused chain ran in this run
        for li in plan.order where !absorbed.contains(li) {
            let def = net.definitions[li]
            let produced: [GPUTensor]
            var bottoms = def.bottoms, tops = def.tops, kind = { def.type == "Input" ? "upload" : self.layers[li]!.profileKind }
            if def.type == "Input" {
                guard let t = inputs[def.tops[0]] else { throw InferenceError.invalidInput("input '\(def.tops[0])' was not given") }
                produced = [try encoder.uploadBlob(t.planar())]
            } else {
                if let chain = chains[li], let out = try chain.encode(blobs, outputs: outputs, encoder) {
                    produced = [out]
                    bottoms = chain.bottoms; tops = [chain.top]; kind = { chain.profileKind }
                    absorbed.formUnion(chain.absorbed)
                } else {
                    produced = try layers[li]!.encode(def.bottoms.map { blobs[$0]! }, encoder)
                }
                for b in bottoms {
                    uses[b]! -= 1
                    if uses[b]! == 0, let t = blobs.removeValue(forKey: b), !produced.contains(where: { $0.buffer === t.buffer }) {
                        release(t, keeping: blobs, to: pool)
                    }
                }
            }
            if profileLayers {
                try recorder.submit(what: "profiling layer '\(def.name)' on \(device.name)")
                try recorder.wait(what: "profiling layer '\(def.name)' on \(device.name)")
                lastLayerProfile.append((def.name, def.type, kind(), recorder.lastDeviceSeconds))
                try recorder.begin()
            }
            guard produced.count == tops.count else {
                throw InferenceError.shapeMismatch(layer: def.name, reason: "produced \(produced.count) blobs, expected \(tops.count)")
            }
            for (name, t) in zip(tops, produced) {
                if (uses[name] ?? 0) > 0 {
                    blobs[name] = t
                } else if !produced.contains(where: { $0 !== t && $0.buffer === t.buffer }) {
                    release(t, keeping: blobs, to: pool)  // an output nobody reads
                }
            }
        }
        var downloads: [(name: String, tensor: GPUTensor, host: VulkanBuffer)] = []
        for o in outputs where !downloads.contains(where: { $0.name == o }) {
            let t = blobs[o]!
            downloads.append((o, t, try encoder.download(t)))
        }
        recorder.hostBarrier()
        lastRunDispatches = encoder.dispatches
        try recorder.submit(what: "running the network on \(device.name)")
        submitted = true
        return PendingRun(slot: slot, staging: encoder.staging, downloads: downloads, live: uniqueBuffers(blobs.values))
    }

    /// Waits for `run`, copies its outputs out and gives its buffers back to its pool (also when the wait fails).
    private func finish(_ run: PendingRun) throws -> [String: Tensor] {
        defer {
            for b in run.staging { run.slot.pool.give(b) }
            for b in run.live { run.slot.pool.give(b) }
        }
        try run.slot.recorder.wait(what: "running the network on \(device.name)")
        lastRunDeviceSeconds = run.slot.recorder.lastDeviceSeconds + (profileLayers ? lastLayerProfile.map(\.seconds).reduce(0, +) : 0)
        var result: [String: Tensor] = [:]
        for (name, t, host) in run.downloads {
            let out = Tensor(dims: t.dims, channels: t.channels, height: t.height, width: t.width, zeroed: false)
            out.withUnsafeMutableValues { v in
                if let base = v.baseAddress { base.update(from: host.mapped!.assumingMemoryBound(to: Float.self), count: t.count) }
            }
            result[name] = out
        }
        return result
    }

    /// Frees the blob and transfer buffers kept for later runs (they are made again as needed). `TiledUpscaler` calls
    /// it after running out of device memory, before it retries with smaller tiles.
    public func releaseCachedBuffers() { for slot in slots { slot.pool.drain() } }

    /// Returns `t`'s buffer to the pool unless a live blob still uses it (Split, an Interp that passes its input
    /// through, a fused activation share buffers); the callers skip the blobs the current layer hands on.
    private func release(_ t: GPUTensor, keeping live: [String: GPUTensor], to pool: GPUBufferPool) {
        if live.values.contains(where: { $0.buffer === t.buffer }) { return }
        pool.give(t.buffer)
    }

    private func uniqueBuffers(_ tensors: Dictionary<String, GPUTensor>.Values) -> [VulkanBuffer] {
        var seen = Set<ObjectIdentifier>(), list: [VulkanBuffer] = []
        for t in tensors where seen.insert(ObjectIdentifier(t.buffer)).inserted { list.append(t.buffer) }
        return list
    }
}
