import PlasticityBase

/// e-prop's eligibility for a population's trained neuron parameters: per batch element and
/// neuron j, the influence of j's own parameters on its own state, e_t = dh_t^j/dθ^j (k × P),
///
/// e_t^m = Σ_n A_t^{mn} e_{t−1}^n + r_t^m S_{t−1} + ∂F_m/∂θ,   S_t = Σ_m c_t^m e_t^m + ∂z_t/∂θ,
///
/// with S_t = dz_t^j/dθ^j the spike sensitivity, contracted with the population's learning
/// signal like the weights' traces. This is RTRL restricted to each neuron's own parameters:
/// it drops only what reaches neuron j through other neurons (W_rec), so without recurrent
/// projections into or before the population it is exact, and with them it is e-prop's
/// approximation, exactly as for the weights. O(B·N·k²·P) per step and memory independent of T.
/// A shared parameter is traced per neuron as well (its influence on neuron j differs per
/// j) and its gradient summed over the neurons.
final class ParameterTraces<T: KernelScalar> {
    let stateCount: Int, size: Int, batch: Int, count: Int
    /// [b][j][m][q].
    private let influence: ScalarBuffer<T>
    /// S_t, [b][j][q].
    private let sensitivity: ScalarBuffer<T>
    private let newRows: ScalarBuffer<T>
    let sensitivityGradient: SensitivityGradient<T>

    /// Nil when the population trains no parameter.
    init?(population: Network.Population, batch: Int, readoutDecay: Double, deferred: Bool) {
        count = population.trainedParameters.count
        guard count > 0 else { return nil }
        stateCount = population.neuron.stateCount
        size = population.size
        self.batch = batch
        influence = ScalarBuffer(count: batch * size * stateCount * count)
        sensitivity = ScalarBuffer(count: batch * size * count)
        newRows = ScalarBuffer(count: stateCount * count)
        sensitivityGradient = SensitivityGradient(parameterCount: count, hidden: size, batch: batch, readoutDecay: readoutDecay, deferred: deferred, perNeuron: true)
    }

    func reset() {
        influence.zero()
        sensitivity.zero()
        sensitivityGradient.reset()
    }

    /// Advances the influence by the step's blocks and accumulates its contraction with the
    /// learning signal L (B×N) and a direct spike error R (B×N).
    func step(blocks: BlockValues<T>, signal: UnsafePointer<T>, spikeError: UnsafePointer<T>?) {
        let k = stateCount, p = count
        for element in 0..<(batch * size) {
            let rows = influence.pointer + element * k * p
            let spikeRow = sensitivity.pointer + element * p
            for m in 0..<k {
                let target = newRows.pointer + m * p
                let own = blocks.ownSpikeGain[m][element]
                for q in 0..<p { target[q] = own * spikeRow[q] + blocks.parameterGain[m][q][element] }
                for n in 0..<k {
                    let coefficient = blocks.stateJacobian[m][n][element]
                    if coefficient == 0 { continue }
                    for q in 0..<p { target[q] += coefficient * rows[n * p + q] }
                }
            }
            rows.update(from: newRows.pointer, count: k * p)
            for q in 0..<p {
                var total = blocks.spikeParameterGain[q][element]
                for m in 0..<k { total += blocks.spikeGradient[m][element] * rows[m * p + q] }
                spikeRow[q] = total
            }
        }
        sensitivityGradient.accumulate(sensitivity: sensitivity.pointer, signal: signal, spikeError: spikeError)
    }

    func finishDeferred(signal: UnsafePointer<T>) { sensitivityGradient.finishDeferred(signal: signal) }

    /// The gradient per trained parameter, N values each (a shared one's still per neuron),
    /// zeroed for the next batch.
    func takeGradients() -> [ScalarBuffer<T>] {
        let gradient = sensitivityGradient.gradient
        let result = (0..<count).map { q in ScalarBuffer<T>((0..<size).map { gradient[$0 * count + q] }) }
        gradient.zero()
        return result
    }

    var bytes: Int { influence.bytes + sensitivity.bytes + newRows.bytes + sensitivityGradient.bytes }
}
