import PlasticityBase

/// e-prop without sparsity: the same rule as `EProp` (each population's traces from its own
/// blocks, no coupling between neurons, the same learning signals), but every block is
/// materialised as a dense tensor over the population's neurons and contracted with matrix
/// products, per population and batch element:
///
/// ε_t = 𝐃_t ε_{t−1} + 𝐁_t 𝐗_t,  dz_t/dθ = 𝐂_t ε_t,
///
/// with 𝐃 (Nk × Nk), 𝐁 (Nk × N), 𝐂 (N × Nk) block-diagonal and 𝐗 (N × Θ_p) the direct input
/// term over the population's own weights. O(N²k²·Θ) = O(N³·(N+I)) per step: the baseline
/// that shows what the annotations buy. Trained neuron parameters are traced as `EProp`
/// traces them (`ParameterTraces`): per neuron, they have no sparsity to forgo.
final class DenseEProp<T: KernelScalar>: InfluenceRecursion {
    typealias Scalar = T
    let state: InfluenceState<T>
    /// Per population: 𝐃, 𝐁, 𝐂, 𝐗 and ε_t of one batch element.
    private let recurrence: [ScalarBuffer<T>]
    private let gains: [ScalarBuffer<T>]
    private let readouts: [ScalarBuffer<T>]
    private let direct: [ScalarBuffer<T>]
    private let next: [ScalarBuffer<T>]

    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions, deferred: Bool) throws {
        state = try InfluenceState(network: network, parameters: parameters, batch: batch, options: options, deferred: deferred,
                                   layouts: { InfluenceLayout(populations: [network.layouts[$0]]) }, deep: options.deepFeedback, ownParameterTraces: true)
        let shapes = state.populations.map { (n: $0.size, k: $0.stateCount, theta: $0.layout.count) }
        recurrence = shapes.map { ScalarBuffer(count: $0.n * $0.k * $0.n * $0.k) }
        gains = shapes.map { ScalarBuffer(count: $0.n * $0.k * $0.n) }
        readouts = shapes.map { ScalarBuffer(count: $0.n * $0.n * $0.k) }
        direct = shapes.map { ScalarBuffer(count: $0.n * $0.theta) }
        next = shapes.map { ScalarBuffer(count: $0.n * $0.k * $0.theta) }
    }

    var temporaryBytes: Int { (recurrence + gains + readouts + direct + next).map(\.bytes).reduce(0, +) }

    func updateInfluence() {
        for tracked in state.populations {
            let p = tracked.population, population = forward.populations[p]
            let n = tracked.size, k = tracked.stateCount, theta = tracked.layout.count, nk = n * k
            let blocks = population.blocks
            let recurrence = recurrence[p], gains = gains[p], readouts = readouts[p], direct = direct[p], next = next[p]
            for b in 0..<forward.batch {
                recurrence.zero()
                gains.zero()
                readouts.zero()
                direct.zero()
                for j in 0..<n {
                    let element = b * n + j
                    for m in 0..<k {
                        for q in 0..<k { recurrence[(j * k + m) * nk + j * k + q] = blocks.total(m, q, element) }
                        gains[(j * k + m) * n + j] = blocks.currentGain[m][element]
                        readouts[j * nk + j * k + m] = blocks.spikeGradient[m][element]
                    }
                    tracked.layout.forEachDirectInput(population: p, neuron: j, batch: b, presynaptic: population.presynaptic.pointer,
                                                      delayed: population.delayedPresynaptic) { index, x in
                        direct[j * theta + index] = x
                    }
                }
                let influence = tracked.influence.pointer + b * nk * theta
                LinearAlgebra.multiply(recurrence.pointer, influence, into: next.pointer, rows: nk, inner: nk, columns: theta, accumulate: false)
                LinearAlgebra.multiply(gains.pointer, direct.pointer, into: next.pointer, rows: nk, inner: n, columns: theta, accumulate: true)
                influence.update(from: next.pointer, count: nk * theta)
                LinearAlgebra.multiply(readouts.pointer, influence, into: tracked.spikeSensitivity.pointer + b * n * theta, rows: n, inner: nk, columns: theta, accumulate: false)
            }
        }
    }
}
