import CKernels
import PlasticityBase

/// Where a batch of rows (B×W: spikes, spiking inputs) is non-zero, found once per step. The
/// products that skip zeros then walk these positions instead of each rescanning the rows (a
/// scan that branches on every value mispredicts at the unpredictable positions of spikes,
/// and several such scans cost more than the products), and a C kernel finds them a vector of
/// values at a time.
public final class NonZeroEntries<T: KernelScalar> {
    public let batch: Int, width: Int
    private let positions: UnsafeMutablePointer<Int32>   // [b][·], the first counts[b] valid
    private let counts: UnsafeMutablePointer<Int>

    public init(batch: Int, width: Int) {
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
    public func find(in values: UnsafePointer<T>) {
        for b in 0..<batch { counts[b] = Self.find(in: values + b * width, count: width, into: positions + b * width) }
    }

    /// Writes the positions of the non-zero values of `row[0..<count]` to `positions`
    /// (ascending) and returns how many there are.
    @inline(__always)
    static func find(in row: UnsafePointer<T>, count: Int, into positions: UnsafeMutablePointer<Int32>) -> Int {
        let raw = UnsafeRawPointer(row)
        // Resolved at specialisation: KernelScalar is Float or Double.
        if T.self == Float.self { return plasticity_find_nonzero_float(raw.assumingMemoryBound(to: Float.self), count, positions) }
        if T.self == Double.self { return plasticity_find_nonzero_double(raw.assumingMemoryBound(to: Double.self), count, positions) }
        fatalError("no kernel for \(T.self)")
    }

    /// Takes the positions `other` found (same batch and width), for a copy of the values it
    /// searched: cheaper than searching them again.
    func copy(from other: NonZeroEntries<T>) {
        precondition(other.batch == batch && other.width == width, "positions of rows of another shape")
        counts.update(from: other.counts, count: batch)
        for b in 0..<batch { (positions + b * width).update(from: other.positions + b * width, count: counts[b]) }
    }

    /// Empties every row, for positions to be `append`ed.
    func removeAll() { counts.update(repeating: 0, count: batch) }

    /// Adds `position` to row `b`, past the ones it holds: callers append in ascending order.
    @inline(__always)
    func append(_ position: Int32, toRow b: Int) {
        positions[b * width + counts[b]] = position
        counts[b] += 1
    }

    /// Positions of the non-zero values of row `b`, ascending.
    @inline(__always)
    public func positions(inRow b: Int) -> UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(start: positions + b * width, count: counts[b])
    }

    /// Non-zero values in all rows.
    public var total: Int { (0..<batch).reduce(0) { $0 + counts[$1] } }

    var bytes: Int { batch * width * MemoryLayout<Int32>.stride + batch * MemoryLayout<Int>.stride }
}
