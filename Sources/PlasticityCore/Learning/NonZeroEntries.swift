/// Where a batch of rows (B×W: spikes, spiking inputs) is non-zero, found once per step. The
/// products that skip zeros then walk these positions instead of each rescanning the rows, and
/// finding them is branch-free: a scan that branches on every value mispredicts on spikes,
/// whose positions are unpredictable, and several such scans cost more than the products.
final class NonZeroEntries<T: KernelScalar> {
    let batch: Int, width: Int
    private let positions: UnsafeMutablePointer<Int32>   // [b][·], the first counts[b] valid
    private let counts: UnsafeMutablePointer<Int>

    init(batch: Int, width: Int) {
        precondition(width <= Int(Int32.max), "rows of more than 2³¹ values")
        self.batch = batch
        self.width = width
        positions = .allocate(capacity: Swift.max(1, batch * width))
        counts = .allocate(capacity: Swift.max(1, batch))
        counts.initialize(repeating: 0, count: Swift.max(1, batch))
    }

    deinit {
        positions.deallocate()
        counts.deallocate()
    }

    /// Finds the non-zero values of `values` (B×W).
    func find(in values: UnsafePointer<T>) {
        for b in 0..<batch {
            let row = values + b * width, out = positions + b * width
            var count = 0
            for j in 0..<width {
                out[count] = Int32(truncatingIfNeeded: j)
                count &+= row[j] != 0 ? 1 : 0
            }
            counts[b] = count
        }
    }

    /// Positions of the non-zero values of row `b`, ascending.
    @inline(__always)
    func positions(inRow b: Int) -> UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(start: positions + b * width, count: counts[b])
    }

    /// Non-zero values in all rows.
    var total: Int { (0..<batch).reduce(0) { $0 + counts[$1] } }

    var bytes: Int { batch * width * MemoryLayout<Int32>.stride + batch * MemoryLayout<Int>.stride }
}
