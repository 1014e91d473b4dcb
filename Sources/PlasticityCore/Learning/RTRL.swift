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
    private let newValues: ScalarBuffer<T>

    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions, deferred: Bool) throws {
        let layout = InfluenceLayout(shape: network.shape)
        coupling = ScalarBuffer(count: network.shape.recurrent ? network.shape.hidden * layout.count : 0)
        newValues = ScalarBuffer(count: network.neuron.stateCount)
        state = try InfluenceState(network: network, parameters: parameters, batch: batch, options: options, deferred: deferred)
    }

    var temporaryBytes: Int { coupling.bytes + newValues.bytes }

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
                let a = (0..<k).map { i in (0..<k).map { blocks.stateJacobian[i][$0][element] } }
                let r = (0..<k).map { blocks.ownSpikeGain[$0][element] }
                let gain = (0..<k).map { blocks.currentGain[$0][element] }
                let c = (0..<k).map { blocks.spikeGradient[$0][element] }
                let rows = state.influence.pointer + element * k * theta
                let spikeRow = sensitivityOfBatch + j * theta
                let couplingRow = coupling.pointer + j * theta
                for index in 0..<theta {
                    let previousSpike = spikeRow[index]
                    let coupled = recurrent ? couplingRow[index] : 0
                    for m in 0..<k {
                        var value = r[m] * previousSpike + gain[m] * coupled
                        for q in 0..<k { value += a[m][q] * rows[q * theta + index] }
                        newValues[m] = value
                    }
                    for m in 0..<k { rows[m * theta + index] = newValues[m] }
                }
                state.layout.forEachDirectInput(neuron: j, batch: b, presynaptic: forward.presynaptic.pointer, previousSpike: forward.previousSpike.pointer) { index, x in
                    for m in 0..<k { rows[m * theta + index] += gain[m] * x }
                }
                for index in 0..<theta {
                    var value: T = 0
                    for m in 0..<k { value += c[m] * rows[m * theta + index] }
                    spikeRow[index] = value
                }
            }
        }
    }
}
