import PlasticityBase

/// Real-time recurrent learning on a network graph: exact forward-mode influence of every
/// population's state on every weight, M_t^p = dh_t^p/dθ, including every coupling between
/// neurons. Per step, batch element and neuron j of population p:
///
/// M_t^{j,m} = Σ_n A_t^{j,mn} M_{t−1}^{j,n} + r_t^{j,m} dz_{t−1}^j/dθ + b_t^{j,m} (K^j + ∂I_t^j/∂θ|direct) + ∂F_m^j/∂θ|direct,
/// K = Σ_{q→p delayed} W_qp dz_{t−1}^q/dθ + Σ_{q→p within} W_qp dz_t^q/dθ,
/// dz_t^j/dθ = Σ_m c_t^{j,m} M_t^{j,m} + ∂z_t^j/∂θ|direct,
///
/// where the direct terms in F and z are those of the trained neuron parameters (θ holds
/// them after the weights, `InfluenceLayout`).
///
/// Populations advance in step order, so a within-step source's dz_t/dθ is ready; the delayed
/// couplings are taken first, from every population's dz_{t−1}/dθ. The coupling costs
/// O(N²·Θ) = O(N⁴) per step; memory is independent of T.
final class RTRL<T: KernelScalar>: InfluenceRecursion {
    typealias Scalar = T
    let state: InfluenceState<T>
    /// K of one batch element per population, [j][θ] (empty where nothing couples in).
    private let coupling: [ScalarBuffer<T>]
    /// The new influence rows of one neuron (k × Θ) before they replace the old ones.
    private let newRows: ScalarBuffer<T>

    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions, deferred: Bool) throws {
        let layout = InfluenceLayout(populations: network.layouts) { network.populations[$0] }
        state = try InfluenceState(network: network, parameters: parameters, batch: batch, options: options, deferred: deferred,
                                   layouts: { _ in layout }, deep: nil, ownParameterTraces: false)
        coupling = network.layouts.map { population in
            let coupled = (population.within + population.delayed).contains { if case .population = $0.source { return true } else { return false } }
            return ScalarBuffer(count: coupled ? population.size * layout.count : 0)
        }
        newRows = ScalarBuffer(count: (network.populations.map(\.neuron.stateCount).max() ?? 1) * layout.count)
    }

    var temporaryBytes: Int { coupling.map(\.bytes).reduce(0, +) + newRows.bytes }

    func updateInfluence() {
        let network = forward.network
        let theta = state.populations[0].layout.count
        for b in 0..<forward.batch {
            // K from dz_{t−1}/dθ of the delayed sources, before any population of this element advances.
            for (p, layout) in network.layouts.enumerated() where coupling[p].count > 0 {
                coupling[p].zero()
                addCoupling(of: layout, blocks: layout.delayed, batch: b, theta: theta, into: coupling[p].pointer)
            }
            for tracked in state.populations {
                let p = tracked.population, layout = network.layouts[p], population = forward.populations[p]
                let n = tracked.size, k = tracked.stateCount, blocks = population.blocks
                if coupling[p].count > 0 { addCoupling(of: layout, blocks: layout.within, batch: b, theta: theta, into: coupling[p].pointer) }
                let sensitivityOfBatch = tracked.spikeSensitivity.pointer + b * n * theta
                for j in 0..<n {
                    let element = b * n + j
                    let rows = tracked.influence.pointer + element * k * theta
                    let spikeRow = sensitivityOfBatch + j * theta
                    let couplingRow = coupling[p].count > 0 ? UnsafePointer(coupling[p].pointer + j * theta) : nil
                    // Row operations over θ (vectorisable): new_m = r_m·dz[t-1]/dθ + b_m·K + Σ_q A_mq·M_q.
                    for m in 0..<k {
                        let target = newRows.pointer + m * theta
                        let own = blocks.ownSpikeGain[m][element], gain = blocks.currentGain[m][element]
                        for index in 0..<theta { target[index] = own * spikeRow[index] }
                        if let couplingRow, gain != 0 { for index in 0..<theta { target[index] += gain * couplingRow[index] } }
                        for q in 0..<k {
                            let coefficient = blocks.stateJacobian[m][q][element]
                            if coefficient == 0 { continue }
                            let source = rows + q * theta
                            for index in 0..<theta { target[index] += coefficient * source[index] }
                        }
                    }
                    rows.update(from: newRows.pointer, count: k * theta)
                    let gains = (0..<k).map { blocks.currentGain[$0][element] }
                    tracked.layout.forEachDirectInput(population: p, neuron: j, batch: b, presynaptic: population.presynaptic.pointer,
                                                      delayed: population.delayedPresynaptic) { index, x in
                        for m in 0..<k { rows[m * theta + index] += gains[m] * x }
                    }
                    let parameterColumns = tracked.layout.parameterColumns(population: p, neuron: j)
                    for (q, column) in parameterColumns.enumerated() {
                        for m in 0..<k { rows[m * theta + column] += blocks.parameterGain[m][q][element] }
                    }
                    spikeRow.update(repeating: 0, count: theta)
                    for m in 0..<k {
                        let c = blocks.spikeGradient[m][element]
                        if c == 0 { continue }
                        let source = rows + m * theta
                        for index in 0..<theta { spikeRow[index] += c * source[index] }
                    }
                    for (q, column) in parameterColumns.enumerated() { spikeRow[column] += blocks.spikeParameterGain[q][element] }
                }
            }
        }
    }

    /// K += W_qp · dz^q/dθ (batch element b) for every projection in `blocks` from a population q.
    private func addCoupling(of layout: PopulationLayout, blocks: [PopulationLayout.Block], batch b: Int, theta: Int, into out: UnsafeMutablePointer<T>) {
        for block in blocks {
            guard case .population(let q) = block.source else { continue }
            let sensitivity = state.populations[q].spikeSensitivity.pointer + b * block.width * theta
            forward.projectionWeights[block.projection].withUnsafeBufferPointer { w in
                LinearAlgebra.multiply(w.baseAddress!, sensitivity, into: out, rows: layout.size, inner: block.width, columns: theta, accumulate: true)
            }
        }
    }
}
