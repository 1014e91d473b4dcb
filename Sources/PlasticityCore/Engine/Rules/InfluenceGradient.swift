import PlasticityBase

/// The weights that influence matrices are taken with respect to, flattened: for each
/// tracked population p in order, θ holds W_in^p (within-step projections with the bias
/// column, N_p × withinColumns, row j at base_p + j·withinColumns), then W_rec^p (delayed
/// projections, N_p × delayedColumns). RTRL tracks every population; dense e-prop one.
struct InfluenceLayout {
    /// Each tracked population's layout and the θ index where its weights start, by population index.
    private let tracked: [Int: (layout: PopulationLayout, base: Int)]
    /// The tracked populations in θ order.
    private let order: [Int]
    let count: Int

    init(populations: [PopulationLayout]) {
        var tracked: [Int: (layout: PopulationLayout, base: Int)] = [:], next = 0
        for layout in populations {
            tracked[layout.population] = (layout, next)
            next += layout.size * (layout.withinColumns + layout.delayedColumns)
        }
        self.tracked = tracked
        order = populations.map(\.population)
        count = next
    }

    /// Calls `body(θ, x̂)` for every weight of neuron j's own rows in population p: ∂I_j/∂θ =
    /// x̂ (or ẑ) there.
    @inline(__always)
    func forEachDirectInput<T>(population p: Int, neuron j: Int, batch b: Int, presynaptic: UnsafePointer<T>, delayed: UnsafePointer<T>,
                               _ body: (Int, T) -> Void) {
        let (layout, base) = tracked[p]!
        let columns = layout.withinColumns, delayedColumns = layout.delayedColumns
        let withinBase = base + j * columns, delayedBase = base + layout.size * columns + j * delayedColumns
        for column in 0..<columns { body(withinBase + column, presynaptic[b * columns + column]) }
        for column in 0..<delayedColumns { body(delayedBase + column, delayed[b * delayedColumns + column]) }
    }

    /// Adds a gradient over θ into per-population gradients in the layouts `GradientAssembly`
    /// reads (N × columns, row-major).
    func add<T>(_ gradient: UnsafePointer<T>, within: [ScalarBuffer<T>], delayed: [ScalarBuffer<T>]) {
        for p in order {
            let (layout, base) = tracked[p]!
            let withinCount = layout.size * layout.withinColumns
            for index in 0..<withinCount { within[p][index] += gradient[base + index] }
            for index in 0..<(layout.size * layout.delayedColumns) { delayed[p][index] += gradient[base + withinCount + index] }
        }
    }
}

/// Turns per-step spike sensitivities S_t = dz_t/dθ (B × N × Θ) into gradients: with
/// S̄_t = κ S̄_{t−1} + S_t, ∂E/∂θ += Σ_b Σ_j L_t^{bj} S̄_t^{bj}; for deferred losses Σ_t S̄_t is
/// kept and the signal applied at the end. Shared by RTRL and dense e-prop.
final class SensitivityGradient<T: KernelScalar> {
    let batch: Int, hidden: Int, parameterCount: Int
    let decay: T
    let deferred: Bool
    private let filtered: ScalarBuffer<T>
    private let accumulated: ScalarBuffer<T>
    let gradient: ScalarBuffer<T>

    init(layout: InfluenceLayout, hidden: Int, batch: Int, readoutDecay: Double, deferred: Bool) {
        self.batch = batch
        self.hidden = hidden
        parameterCount = layout.count
        decay = T(readoutDecay)
        self.deferred = deferred
        let size = batch * hidden * parameterCount
        filtered = ScalarBuffer(count: readoutDecay != 0 || deferred ? size : 0)
        accumulated = ScalarBuffer(count: deferred ? size : 0)
        gradient = ScalarBuffer(count: parameterCount)
    }

    func reset() {
        filtered.zero()
        accumulated.zero()
    }

    /// `spikeError` (B×N), an error directly on the spikes, meets the unfiltered sensitivity.
    func accumulate(sensitivity: UnsafePointer<T>, signal: UnsafePointer<T>, spikeError: UnsafePointer<T>?) {
        if let spikeError { contract(sensitivity, spikeError) }
        let size = batch * hidden * parameterCount
        var source = sensitivity
        if filtered.count > 0 {
            for index in 0..<size { filtered[index] = decay * filtered[index] + sensitivity[index] }
            source = UnsafePointer(filtered.pointer)
        }
        if deferred {
            for index in 0..<size { accumulated[index] += source[index] }
        } else {
            contract(source, signal)
        }
    }

    func finishDeferred(signal: UnsafePointer<T>) { contract(accumulated.pointer, signal) }

    private func contract(_ values: UnsafePointer<T>, _ signal: UnsafePointer<T>) {
        for element in 0..<(batch * hidden) {
            let l = signal[element]
            if l == 0 { continue }
            let row = values + element * parameterCount
            for theta in 0..<parameterCount { gradient[theta] += l * row[theta] }
        }
    }

    var bytes: Int { filtered.bytes + accumulated.bytes + gradient.bytes }
}
