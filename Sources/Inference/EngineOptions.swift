import CLumiereKernels
import COpenBLAS
import Dispatch

/// How the engine runs: thread count and convolution algorithm.
public struct EngineOptions: Sendable, Equatable {
    public enum ConvolutionAlgorithm: String, Sendable, CaseIterable {
        /// Winograd F(6,3) for 3×3 stride-1 convolutions with enough channels, a direct kernel for 3×3 stride-2 ones, GEMM otherwise.
        /// On the GPU (GPUNet): the tiled 3×3 shader for 3×3 stride-1 convolutions, the reference shader otherwise.
        case auto
        /// im2col + OpenBLAS sgemm for every convolution, and sgemm + col2im for every deconvolution (the reference path in tests).
        /// On the GPU: the reference shader for every convolution.
        case gemm
    }
    public enum InstructionSet: String, Sendable, CaseIterable {
        case best, avx512, avx2, portable
    }

    /// Worker threads used by every backend (our kernels, and our tiles of OpenBLAS GEMMs); at least 1.
    public var threads: Int
    public var convolution: ConvolutionAlgorithm
    /// Force a kernel instruction set (for testing the portable path on an AVX-512 machine);
    /// `.best` picks the best one the CPU supports. A set the CPU lacks falls back to `.best`.
    public var instructionSet: InstructionSet
    /// Winograd tiles processed per block (cache blocking), a multiple of 6.
    public var winogradTileBlock: Int
    /// Fold activations into convolutions and hand packed tensors between convolutions. Off only
    /// for debugging, when every intermediate blob must hold exactly what ncnn's does.
    public var fuseLayers = true

    public init(threads: Int = 1, convolution: ConvolutionAlgorithm = .auto, instructionSet: InstructionSet = .best,
                winogradTileBlock: Int = 36) {
        self.threads = max(1, threads)
        self.convolution = convolution
        self.instructionSet = instructionSet
        self.winogradTileBlock = max(6, winogradTileBlock / 6 * 6)
    }
}

/// Per-run state handed to layers.
public final class ExecutionContext: @unchecked Sendable {
    public let options: EngineOptions
    /// The kernel ISA in use (`LK_ISA_*`).
    let isa: Int32

    public init(options: EngineOptions) {
        self.options = options
        let best = Backend.bestISA
        switch options.instructionSet {
        case .best: isa = best
        case .avx512: isa = best >= Int32(LK_ISA_AVX512) ? Int32(LK_ISA_AVX512) : best
        case .avx2: isa = best >= Int32(LK_ISA_AVX2) ? Int32(LK_ISA_AVX2) : best
        case .portable: isa = Int32(LK_ISA_PORTABLE)
        }
    }

    public var threads: Int { options.threads }
    public var instructionSetName: String { String(cString: lk_isa_name(isa)) }

    /// Runs `body(chunk)` for `chunks` chunks on up to `threads` threads.
    func parallel(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || threads <= 1 {
            for i in 0..<chunks { body(i) }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }

    /// Splits `0..<total` into at most `threads` contiguous ranges and runs them in parallel
    /// (for custom layers too, so they honour the thread setting).
    public func parallelRanges(_ total: Int, _ body: (Range<Int>) -> Void) {
        let n = max(1, min(threads, total))
        parallel(n) { i in
            let lo = total * i / n, hi = total * (i + 1) / n
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(worker, range)` over `0..<total` in chunks of `grain`, handed out dynamically to
    /// up to `threads` workers (a core busy with other work then takes fewer chunks).
    func parallelChunks(_ total: Int, grain: Int, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
        let chunks = (total + grain - 1) / grain
        let workers = max(1, min(threads, chunks))
        let counter = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        counter.initialize(to: 0)
        defer { counter.deallocate() }
        parallel(workers) { worker in
            while true {
                let chunk = Int(lk_atomic_fetch_add(counter, 1))
                if chunk >= chunks { break }
                body(worker, (chunk * grain)..<min(total, (chunk + 1) * grain))
            }
        }
    }

    /// Single-precision GEMM, row-major: C[m×n] = A[m×k] · B[k×n] (+ C when accumulate).
    ///
    /// The result must not depend on the thread count (the farm's film is byte-identical whichever
    /// worker renders a segment). OpenBLAS's own threading does not give that: its threaded driver
    /// (level3_thread.c) cuts M and N into one range per thread, so an element's C tile, and with it
    /// the micro-kernel and packing it goes through, depends on the thread count; it also halves a
    /// K remainder between GEMM_Q and 2·GEMM_Q differently from level3.c, and on AVX-512 the
    /// small-matrix sgemm_direct kernel is only taken with one thread. Measured (OpenBLAS 0.3.21,
    /// core Zen): 1 against 2 threads differ in 4–60 % of the values for every shape tried, k 27 to
    /// 1728. Every shipped model's first GEMM convolution differed (ThreadCountDeterminismTests),
    /// RIFE v4.0 on pens.mp4 (12×10-pixel 3×3 convolutions of its coarsest flow block: m 192,
    /// n 120, k 1728) gave another film at 1 and 2 threads.
    /// So OpenBLAS always runs single-threaded, and we split C into tiles whose shape depends only on
    /// (m, n) (`Self.gemmTiles`): every element is computed by one single-threaded OpenBLAS call on
    /// the same tile whatever the thread count, and the tiles are handed out to our threads.
    func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
        Backend.prepareBLAS()
        let (mb, nb) = Self.gemmTiles(m: m, n: n)
        let mTiles = (m + mb - 1) / mb, nTiles = (n + nb - 1) / nb
        parallelChunks(mTiles * nTiles, grain: 1) { _, range in
            for tile in range {
                let m0 = tile / nTiles * mb, n0 = tile % nTiles * nb
                let tm = min(mb, m - m0), tn = min(nb, n - n0)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(tm), Int32(tn), Int32(k), 1,
                            a + m0 * lda, Int32(lda), b + n0, Int32(ldb), accumulate ? 1 : 0, c + m0 * ldc + n0, Int32(ldc))
            }
        }
    }

    /// The tile shape of `sgemm`, from the matrix shape alone (never the thread count): 8 tiles where
    /// the matrix allows, for up to 8 threads. Columns in 8 blocks of at least 256 (a single-threaded
    /// OpenBLAS call per tile re-packs its rows of A; measured on this Zen host, CPU time of one
    /// thread, tiles against one whole call: m 64 n 8192 k 27 (the first convolution of the
    /// super-resolution models) +2 %, m 64 n 30720 k 576 +4 %, and +7 % with 256-column tiles).
    /// Small-n GEMMs (RIFE's coarsest flow block: n 30 or 120, m 192, k 1728) are split by rows
    /// instead, in blocks of at least 48 (3–4 tiles): +1 % and +7 %, where blocks of 32 cost +19 %
    /// and +10 % (B is re-packed for every row block).
    static func gemmTiles(m: Int, n: Int) -> (rows: Int, columns: Int) {
        let nb = max(1, min(n, max(256, ((n + 7) / 8 + 15) / 16 * 16)))
        let nTiles = (n + nb - 1) / nb
        let mWanted = max(1, (8 + nTiles - 1) / nTiles)
        let mb = max(1, min(m, max(48, ((m + mWanted - 1) / mWanted + 15) / 16 * 16)))
        return (mb, nb)
    }
}

/// Process-wide backend facts.
public enum Backend {
    /// OpenBLAS picks its kernels when the library loads (an ELF constructor), before any of our
    /// code runs, so OPENBLAS_CORETYPE only has an effect when set in the environment that starts
    /// the process; `lk_prepare_openblas_environment` covers the case where OpenBLAS is loaded later.
    static let openBLASPrepared: Bool = { lk_prepare_openblas_environment() != 0 }()
    public static let bestISA: Int32 = lk_best_isa()
    /// The OpenBLAS kernel family in use (e.g. "Cooperlake", "SkylakeX", "Haswell").
    public static var blasCoreName: String { String(cString: openblas_get_corename()) }
    public static var bestInstructionSetName: String { String(cString: lk_isa_name(bestISA)) }
    /// OpenBLAS runs on one thread, always: `ExecutionContext.sgemm` parallelises over tiles of C
    /// itself, so that results do not depend on the thread count.
    static let blasSingleThreaded: Bool = {
        _ = openBLASPrepared
        openblas_set_num_threads(1)
        return true
    }()

    static func prepareBLAS() { _ = blasSingleThreaded }

    /// Call before anything else touches OpenBLAS in the process (the engine does it on first use).
    public static func prepare() { _ = openBLASPrepared }
}
