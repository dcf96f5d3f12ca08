/// Integer block motion from one frame to a neighbour, two levels: 16-px blocks searched ±`coarseRange`×2 px on
/// half-size planes, then 8-px blocks refined ±2 px at full size around their parent's vector. Costs are sums of
/// absolute differences capped per pixel (`cap`), so a speck or scratch inside a block cannot drag its vector.
struct BlockMotion {
    static let block = 8
    let width: Int
    let height: Int
    let columns: Int
    let rows: Int
    /// Per block: where its pixels are found in the neighbour (x + vx, y + vy).
    private(set) var vx: [Int]
    private(set) var vy: [Int]

    static let cap: Float = 0.08

    /// `prior`: the motion to a nearer frame on the same side and how many times farther this neighbour is; the coarse
    /// search then centres on the prior's vector times that (a car crossing at 10 px a frame is 20 px away two frames
    /// on, beyond ±16).
    init(from current: Plane, to neighbour: Plane, currentHalf: Plane, neighbourHalf: Plane, coarseRange: Int = 8,
         prior: (motion: BlockMotion, factor: Int)? = nil) {
        width = current.width
        height = current.height
        columns = (width + Self.block - 1) / Self.block
        rows = (height + Self.block - 1) / Self.block
        vx = [Int](repeating: 0, count: columns * rows)
        vy = vx
        // Coarse: 8x8 blocks of the half planes (16x16 at full size).
        let hc = (currentHalf.width + Self.block - 1) / Self.block, hr = (currentHalf.height + Self.block - 1) / Self.block
        var cvx = [Int](repeating: 0, count: hc * hr), cvy = cvx
        for by in 0..<hr {
            for bx in 0..<hc {
                var around = (0, 0)
                if let prior {
                    // The prior's full-size vector at this block's centre, scaled, in half-size pixels.
                    let (px, py) = prior.motion.vector(x: min(prior.motion.width - 1, bx * 2 * Self.block + Self.block),
                                                       y: min(prior.motion.height - 1, by * 2 * Self.block + Self.block))
                    around = (px * prior.factor / 2, py * prior.factor / 2)
                }
                let v = Self.search(currentHalf, neighbourHalf, x0: bx * Self.block, y0: by * Self.block,
                                    around: around, range: coarseRange)
                cvx[by * hc + bx] = v.0
                cvy[by * hc + bx] = v.1
            }
        }
        for by in 0..<rows {
            for bx in 0..<columns {
                let parent = min(hr - 1, by / 2) * hc + min(hc - 1, bx / 2)
                let v = Self.search(current, neighbour, x0: bx * Self.block, y0: by * Self.block,
                                    around: (2 * cvx[parent], 2 * cvy[parent]), range: 2)
                vx[by * columns + bx] = v.0
                vy[by * columns + bx] = v.1
            }
        }
    }

    @inline(__always) func vector(x: Int, y: Int) -> (Int, Int) {
        let i = (y / Self.block) * columns + x / Self.block
        return (vx[i], vy[i])
    }

    /// The neighbour's pixel that matches (x, y) of the current frame, edges clamped.
    @inline(__always) func source(x: Int, y: Int) -> Int {
        let (dx, dy) = vector(x: x, y: y)
        return min(height - 1, max(0, y + dy)) * width + min(width - 1, max(0, x + dx))
    }

    /// The matches of (x, y) under its own block's vector and those of the four adjacent blocks: at an object's
    /// edge the block's one vector fits only one side, and the neighbour's fits the other.
    func candidateSources(x: Int, y: Int) -> [Int] {
        let bx = x / Self.block, by = y / Self.block
        var out: [Int] = []
        for (ox, oy) in [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)] {
            let cx = bx + ox, cy = by + oy
            guard cx >= 0, cx < columns, cy >= 0, cy < rows else { continue }
            let i = cy * columns + cx
            let s = min(height - 1, max(0, y + vy[i])) * width + min(width - 1, max(0, x + vx[i]))
            if !out.contains(s) { out.append(s) }
        }
        return out
    }

    private static func search(_ a: Plane, _ b: Plane, x0: Int, y0: Int, around: (Int, Int), range: Int) -> (Int, Int) {
        let x1 = min(a.width, x0 + block), y1 = min(a.height, y0 + block)
        var best = (cost: Float.infinity, dx: around.0, dy: around.1)
        for dy in (around.1 - range)...(around.1 + range) {
            for dx in (around.0 - range)...(around.0 + range) {
                var cost: Float = 0
                for y in y0..<y1 {
                    let sy = min(b.height - 1, max(0, y + dy))
                    for x in x0..<x1 {
                        let sx = min(b.width - 1, max(0, x + dx))
                        cost += min(cap, abs(a[x, y] - b[sx, sy]))
                    }
                }
                // Ties and near-ties go to the shorter vector (flat areas then do not wander).
                cost += 0.002 * Float(abs(dx) + abs(dy))
                if cost < best.cost { best = (cost, dx, dy) }
            }
        }
        return (best.dx, best.dy)
    }
}
