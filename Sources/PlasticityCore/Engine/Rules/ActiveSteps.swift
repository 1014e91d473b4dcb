import PlasticityBase

/// One sequence's non-zero presynaptic values over a chunk of steps, listed by value: for each
/// input i the steps τ at which x̂_τ^i ≠ 0 (ascending) and x̂ there. The steps' `NonZeroEntries`
/// list the values step by step; turned around like this, e-prop's per-synapse row of i takes
/// all of its chunk's additions in one visit, held in registers, instead of one visit per step
/// to a row that the steps between have pushed out of the cache.
final class ActiveSteps<T: KernelScalar> {
    /// Per input (a row each), the steps at which it is non-zero.
    private let stepLists: NonZeroEntries<T>
    /// x̂ [i][τ], set where τ is listed for i.
    private let values: ScalarBuffer<T>

    /// For `width` presynaptic values and chunks of at most `capacity` steps.
    init(width: Int, capacity: Int) {
        stepLists = NonZeroEntries(batch: width, width: capacity)
        values = ScalarBuffer(count: width * capacity)
    }

    /// Lists sequence b's non-zero values over the first `stepCount` steps of a chunk, where
    /// `entries[τ]` found them in the B×width values at `inputs + τ·stepStride`.
    func collect(sequence b: Int, stepCount: Int, entries: [NonZeroEntries<T>], inputs: UnsafePointer<T>, stepStride: Int) {
        let width = stepLists.batch, capacity = stepLists.width
        precondition(stepCount <= capacity && stepCount <= entries.count, "more steps than the chunk holds")
        stepLists.removeAll()
        for step in 0..<stepCount {
            let row = inputs + step * stepStride + b * width
            for position in entries[step].positions(inRow: b) {
                let i = Int(position)
                stepLists.append(Int32(step), toRow: i)
                values[i * capacity + step] = row[i]
            }
        }
    }

    /// The steps at which input i is non-zero, ascending.
    @inline(__always)
    func steps(of i: Int) -> UnsafeBufferPointer<Int32> { stepLists.positions(inRow: i) }

    /// Input i's values by step (read only at its listed steps).
    @inline(__always)
    func values(of i: Int) -> UnsafePointer<T> { UnsafePointer(values.pointer + i * stepLists.width) }

    var bytes: Int { stepLists.bytes + values.bytes }
}
