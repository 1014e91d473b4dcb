import PlasticityBase

/// The weights that influence matrices are taken with respect to, flattened: for each
/// tracked population p in order, θ holds W_in^p (within-step projections with the bias
/// column, N_p × withinColumns, row j at base_p + j·withinColumns), then W_rec^p (delayed
/// projections, N_p × delayedColumns), then — when neuron parameters are tracked too — each
/// trained parameter's N_p columns (one per neuron) or one (shared). RTRL tracks every
/// population and its parameters; dense e-prop one population's weights.
struct InfluenceLayout {
    /// One tracked population's place in θ.
    private struct Tracked {
        let layout: PopulationLayout
        let base: Int
        /// Per trained parameter: its first column and whether it has one per neuron.
        let parameters: [(column: Int, perNeuron: Bool)]
    }

    /// By population index.
    private let tracked: [Int: Tracked]
    /// The tracked populations in θ order.
    private let order: [Int]
    let count: Int

    /// - Parameter parametersOf: the population of each layout, when its trained parameters
    ///   are tracked (nil: weights only).
    init(populations: [PopulationLayout], parametersOf population: ((Int) -> Network.Population)? = nil) {
        var tracked: [Int: Tracked] = [:], next = 0
        for layout in populations {
            let base = next
            next += layout.size * (layout.withinColumns + layout.delayedColumns)
            var columns: [(column: Int, perNeuron: Bool)] = []
            if let population = population?(layout.population) {
                for q in population.trainedParameters {
                    let perNeuron = population.parameters[q].isPerNeuron
                    columns.append((next, perNeuron))
                    next += perNeuron ? layout.size : 1
                }
            }
            tracked[layout.population] = Tracked(layout: layout, base: base, parameters: columns)
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
        let entry = tracked[p]!, layout = entry.layout
        let columns = layout.withinColumns, delayedColumns = layout.delayedColumns
        let withinBase = entry.base + j * columns, delayedBase = entry.base + layout.size * columns + j * delayedColumns
        for column in 0..<columns { body(withinBase + column, presynaptic[b * columns + column]) }
        for column in 0..<delayedColumns { body(delayedBase + column, delayed[b * delayedColumns + column]) }
    }

    /// The θ column of neuron j's trained parameter q (its own, or the shared one), for every
    /// tracked parameter of population p: where ∂F/∂θ and ∂z/∂θ enter directly.
    func parameterColumns(population p: Int, neuron j: Int) -> [Int] {
        tracked[p]!.parameters.map { $0.perNeuron ? $0.column + j : $0.column }
    }

    /// Adds a gradient over θ into per-population gradients in the layouts `GradientAssembly`
    /// reads (N × columns, row-major; per trained parameter N values, a shared one's total
    /// in the first).
    func add<T>(_ gradient: UnsafePointer<T>, within: [ScalarBuffer<T>], delayed: [ScalarBuffer<T>], parameters: [[ScalarBuffer<T>]]) {
        for p in order {
            let entry = tracked[p]!, layout = entry.layout, base = entry.base
            let withinCount = layout.size * layout.withinColumns
            for index in 0..<withinCount { within[p][index] += gradient[base + index] }
            for index in 0..<(layout.size * layout.delayedColumns) { delayed[p][index] += gradient[base + withinCount + index] }
            for (q, column) in entry.parameters.enumerated() {
                for j in 0..<(column.perNeuron ? layout.size : 1) { parameters[p][q][j] += gradient[column.column + j] }
            }
        }
    }
}

/// Turns per-step spike sensitivities S_t = dz_t/dθ (B × N × Θ) into gradients: with
/// S̄_t = κ S̄_{t−1} + S_t, ∂E/∂θ += Σ_b Σ_j L_t^{bj} S̄_t^{bj}; for deferred losses Σ_t S̄_t is
/// kept and the signal applied at the end. Shared by RTRL, dense e-prop (Θ: every tracked
/// weight) and e-prop's neuron parameters (`perNeuron`: Θ of neuron j's own parameters, its
/// gradient kept per neuron, N × Θ).
final class SensitivityGradient<T: KernelScalar> {
    let batch: Int, hidden: Int, parameterCount: Int
    let decay: T
    let deferred: Bool
    let perNeuron: Bool
    private let filtered: ScalarBuffer<T>
    private let accumulated: ScalarBuffer<T>
    /// [θ], or [j][θ] per neuron.
    let gradient: ScalarBuffer<T>

    init(parameterCount: Int, hidden: Int, batch: Int, readoutDecay: Double, deferred: Bool, perNeuron: Bool = false) {
        self.batch = batch
        self.hidden = hidden
        self.parameterCount = parameterCount
        decay = T(readoutDecay)
        self.deferred = deferred
        self.perNeuron = perNeuron
        let size = batch * hidden * parameterCount
        filtered = ScalarBuffer(count: readoutDecay != 0 || deferred ? size : 0)
        accumulated = ScalarBuffer(count: deferred ? size : 0)
        gradient = ScalarBuffer(count: perNeuron ? hidden * parameterCount : parameterCount)
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
            let target = perNeuron ? gradient.pointer + (element % hidden) * parameterCount : gradient.pointer
            for theta in 0..<parameterCount { target[theta] += l * row[theta] }
        }
    }

    var bytes: Int { filtered.bytes + accumulated.bytes + gradient.bytes }
}
