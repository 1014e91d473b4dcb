/// e-prop without sparsity: the same recursion as `EProp` (no coupling through W_rec), but
/// every block is materialised as a dense tensor over all neurons and contracted with matrix
/// products, per batch element:
///
/// ε_t = 𝐃_t ε_{t−1} + 𝐁_t 𝐗_t,  dz_t/dθ = 𝐂_t ε_t,
///
/// with 𝐃 (Nk × Nk), 𝐁 (Nk × N), 𝐂 (N × Nk) block-diagonal and 𝐗 (N × Θ) the direct input
/// term. O(N²k²·Θ) = O(N³·(N+I)) per step: the baseline that shows what the annotations buy.
final class DenseEProp<T: KernelScalar>: InfluenceRecursion {
    typealias Scalar = T
    let state: InfluenceState<T>
    private let recurrence: ScalarBuffer<T>   // 𝐃
    private let gains: ScalarBuffer<T>        // 𝐁
    private let readouts: ScalarBuffer<T>     // 𝐂
    private let direct: ScalarBuffer<T>       // 𝐗
    private let next: ScalarBuffer<T>         // ε_t of one batch element

    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions, deferred: Bool) throws {
        let n = network.shape.hidden, k = network.neuron.stateCount, theta = InfluenceLayout(shape: network.shape).count
        recurrence = ScalarBuffer(count: n * k * n * k)
        gains = ScalarBuffer(count: n * k * n)
        readouts = ScalarBuffer(count: n * n * k)
        direct = ScalarBuffer(count: n * theta)
        next = ScalarBuffer(count: n * k * theta)
        state = try InfluenceState(network: network, parameters: parameters, batch: batch, options: options, deferred: deferred)
    }

    var temporaryBytes: Int { [recurrence, gains, readouts, direct, next].map(\.bytes).reduce(0, +) }

    func updateInfluence() {
        let n = state.layout.hidden, k = state.stateCount, theta = state.layout.count, nk = n * k
        let blocks = forward.blocks
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
                state.layout.forEachDirectInput(neuron: j, batch: b, presynaptic: forward.presynaptic.pointer, previousSpike: forward.previousSpike.pointer) { index, x in
                    direct[j * theta + index] = x
                }
            }
            let influence = state.influence.pointer + b * nk * theta
            LinearAlgebra.multiply(recurrence.pointer, influence, into: next.pointer, rows: nk, inner: nk, columns: theta, accumulate: false)
            LinearAlgebra.multiply(gains.pointer, direct.pointer, into: next.pointer, rows: nk, inner: n, columns: theta, accumulate: true)
            influence.update(from: next.pointer, count: nk * theta)
            LinearAlgebra.multiply(readouts.pointer, influence, into: state.spikeSensitivity.pointer + b * n * theta, rows: n, inner: nk, columns: theta, accumulate: false)
        }
    }
}
