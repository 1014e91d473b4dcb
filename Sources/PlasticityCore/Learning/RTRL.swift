/// Real-time recurrent learning: exact forward-mode influence matrices M_t = dh_t/dθ,
/// including the coupling of neurons through W_rec. Per step and batch element:
///
/// M_t^{j,m} = Σ_n A_t^{j,mn} M_{t−1}^{j,n} + r_t^{j,m} dz_{t−1}^j/dθ
///           + b_t^{j,m} (Σ_l W_rec[j,l] dz_{t−1}^l/dθ + ∂I_t^j/∂θ|direct),
/// dz_t^j/dθ = Σ_m c_t^{j,m} M_t^{j,m}.
///
/// The W_rec term costs O(N²·Θ) = O(N⁴) per step; memory is independent of T.
final class RTRL<T: KernelScalar>: InfluenceRecursion {
    typealias Scalar = T
    let state: InfluenceState<T>
    /// Σ_l W_rec[j,l] dz_{t−1}^l/dθ for one batch element, [j][θ].
    private let coupling: ScalarBuffer<T>
    /// The new influence rows of one neuron (k × Θ) before they replace the old ones.
    private let newRows: ScalarBuffer<T>

    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions, deferred: Bool) throws {
        let layout = InfluenceLayout(shape: network.shape)
        coupling = ScalarBuffer(count: network.shape.recurrent ? network.shape.hidden * layout.count : 0)
        newRows = ScalarBuffer(count: network.neuron.stateCount * layout.count)
        state = try InfluenceState(network: network, parameters: parameters, batch: batch, options: options, deferred: deferred)
    }

    var temporaryBytes: Int { coupling.bytes + newRows.bytes }

    func updateInfluence() {
        let n = state.layout.hidden, theta = state.layout.count, k = state.stateCount
        let blocks = forward.blocks
        let recurrent = state.layout.recurrent
        for b in 0..<forward.batch {
            let sensitivityOfBatch = state.spikeSensitivity.pointer + b * n * theta
            if recurrent {
                forward.parameters.recurrentWeights.withUnsafeBufferPointer { w in
                    LinearAlgebra.multiply(w.baseAddress!, sensitivityOfBatch, into: coupling.pointer, rows: n, inner: n, columns: theta, accumulate: false)
                }
            }
            for j in 0..<n {
                let element = b * n + j
                let rows = state.influence.pointer + element * k * theta
                let spikeRow = sensitivityOfBatch + j * theta
                let couplingRow = coupling.pointer + j * theta
                // Row operations over θ (vectorisable): new_m = r_m·dz[t-1]/dθ + b_m·coupling + Σ_q A_mq·M_q.
                for m in 0..<k {
                    let target = newRows.pointer + m * theta
                    let own = blocks.ownSpikeGain[m][element], gain = blocks.currentGain[m][element]
                    for index in 0..<theta { target[index] = own * spikeRow[index] }
                    if recurrent, gain != 0 { for index in 0..<theta { target[index] += gain * couplingRow[index] } }
                    for q in 0..<k {
                        let coefficient = blocks.stateJacobian[m][q][element]
                        if coefficient == 0 { continue }
                        let source = rows + q * theta
                        for index in 0..<theta { target[index] += coefficient * source[index] }
                    }
                }
                rows.update(from: newRows.pointer, count: k * theta)
                let gains = (0..<k).map { blocks.currentGain[$0][element] }
                state.layout.forEachDirectInput(neuron: j, batch: b, presynaptic: forward.presynaptic.pointer, previousSpike: forward.previousSpike.pointer) { index, x in
                    for m in 0..<k { rows[m * theta + index] += gains[m] * x }
                }
                spikeRow.update(repeating: 0, count: theta)
                for m in 0..<k {
                    let c = blocks.spikeGradient[m][element]
                    if c == 0 { continue }
                    let source = rows + m * theta
                    for index in 0..<theta { spikeRow[index] += c * source[index] }
                }
            }
        }
    }
}
