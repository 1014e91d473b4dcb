import PlasticityBase

/// One sequence's non-zero presynaptic values over a chunk of steps, listed by value: for each
/// input i the steps τ at which x̂_τ^i ≠ 0 (ascending) and x̂ there. The steps' `NonZeroEntries`
/// list the values step by step; turned around like this, e-prop's per-synapse row of i takes
/// all of its chunk's additions in one visit, held in registers, instead of one visit per step
/// to a row that the steps between have pushed out of the cache.
final class ActiveSteps<T: KernelScalar> {
    /// Presynaptic values per step, and steps a chunk holds at most.
    let width: Int, capacity: Int
    private let steps: UnsafeMutablePointer<Int32>   // [i][·], the first counts[i] valid
    private let counts: UnsafeMutablePointer<Int>
    /// x̂ [i][τ], set where τ is listed for i.
    private let values: ScalarBuffer<T>

    init(width: Int, capacity: Int) {
        precondition(capacity <= Int(Int32.max), "chunks of more than 2³¹ steps")
        self.width = width
        self.capacity = capacity
        steps = .allocate(capacity: Swift.max(1, width * capacity))
        counts = .allocate(capacity: Swift.max(1, width))
        counts.initialize(repeating: 0, count: Swift.max(1, width))
        values = ScalarBuffer(count: width * capacity)
    }

    deinit {
        steps.deallocate()
        counts.deallocate()
    }

    /// Lists sequence b's non-zero values over the first `stepCount` steps of a chunk, where
    /// `entries[τ]` found them in the B×width values at `inputs + τ·stepStride`.
    func collect(sequence b: Int, stepCount: Int, entries: [NonZeroEntries<T>], inputs: UnsafePointer<T>, stepStride: Int) {
        precondition(stepCount <= capacity && stepCount <= entries.count, "more steps than the chunk holds")
        counts.update(repeating: 0, count: width)
        for step in 0..<stepCount {
            let row = inputs + step * stepStride + b * width
            for position in entries[step].positions(inRow: b) {
                let i = Int(position)
                steps[i * capacity + counts[i]] = Int32(step)
                values[i * capacity + step] = row[i]
                counts[i] += 1
            }
        }
    }

    /// The steps at which input i is non-zero, ascending.
    @inline(__always)
    func steps(of i: Int) -> UnsafeBufferPointer<Int32> { UnsafeBufferPointer(start: steps + i * capacity, count: counts[i]) }

    /// Input i's values by step (read only at its listed steps).
    @inline(__always)
    func values(of i: Int) -> UnsafePointer<T> { UnsafePointer(values.pointer + i * capacity) }

    var bytes: Int { width * capacity * MemoryLayout<Int32>.stride + width * MemoryLayout<Int>.stride + values.bytes }
}
