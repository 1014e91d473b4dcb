import PlasticityBase

/// The exact gradient of the readout weights, shared by the online rules: with
/// y_t = κ y_{t−1} + W_out z_t + b_out (z: the read populations' spikes concatenated), ∂E/∂W_out = Σ_t δ_tᵀ z̄_t where z̄_t = κ z̄_{t−1} + z_t.
/// For a deferred loss (δ the same at every step, known at the end) Σ_t z̄_t is accumulated.
/// With a non-leaky readout z̄_t = z_t, mostly zero, and each spike adds its δ row (C values)
/// to a transposed accumulator instead of every step touching all C×N weights.
final class ReadoutGradient<T: KernelScalar> {
    let batch: Int, hidden: Int, outputs: Int
    let decay: T
    let deferred: Bool
    private let filteredSpikes: ScalarBuffer<T>
    private let summedSpikes: ScalarBuffer<T>
    private var filteredOne: T = 0
    private var summedOne: T = 0
    /// C×N; complete after `collectGradient()`.
    let weightGradient: ScalarBuffer<T>
    let biasGradient: ScalarBuffer<T>
    /// N×C, for spikes added one by one (non-leaky readout, loss at every step).
    private let sparseTransposedGradient: ScalarBuffer<T>
    private var addsSpikesSparsely: Bool { decay == 0 && !deferred }

    /// For the readout of `network`, whose presynaptic values are the read populations'
    /// spikes concatenated (`ForwardPass.readSpikes`).
    init(network: Network, batch: Int, deferred: Bool) {
        self.batch = batch
        hidden = network.readNeuronCount
        outputs = network.outputs
        decay = T(network.readoutDecay)
        self.deferred = deferred
        let sparse = decay == 0 && !deferred
        filteredSpikes = ScalarBuffer(count: sparse ? 0 : batch * hidden)
        summedSpikes = ScalarBuffer(count: deferred ? batch * hidden : 0)
        weightGradient = ScalarBuffer(count: outputs * hidden)
        biasGradient = ScalarBuffer(count: outputs)
        sparseTransposedGradient = ScalarBuffer(count: sparse ? outputs * hidden : 0)
    }

    func reset() {
        filteredSpikes.zero()
        summedSpikes.zero()
        filteredOne = 0
        summedOne = 0
    }

    /// One step: z_t (B×N), where it is non-zero, and δ_t (B×C).
    func learn(spikes: UnsafePointer<T>, activeSpikes: NonZeroEntries<T>, delta: UnsafePointer<T>) {
        if addsSpikesSparsely {
            LinearAlgebra.accumulateSparseOuterProducts(intoTransposed: sparseTransposedGradient.pointer, left: delta, right: spikes,
                                                        nonZero: activeSpikes, rows: outputs, columns: hidden)
            for b in 0..<batch {
                for c in 0..<outputs { biasGradient[c] += delta[b * outputs + c] }
            }
            return
        }
        for index in 0..<(batch * hidden) { filteredSpikes[index] = decay * filteredSpikes[index] + spikes[index] }
        filteredOne = decay * filteredOne + 1
        if deferred {
            for index in 0..<(batch * hidden) { summedSpikes[index] += filteredSpikes[index] }
            summedOne += filteredOne
        } else {
            apply(delta: delta, spikes: filteredSpikes.pointer, one: filteredOne)
        }
    }

    func finishDeferred(delta: UnsafePointer<T>) {
        apply(delta: delta, spikes: summedSpikes.pointer, one: summedOne)
    }

    private func apply(delta: UnsafePointer<T>, spikes: UnsafePointer<T>, one: T) {
        LinearAlgebra.accumulateOuterProducts(into: weightGradient.pointer, left: delta, right: spikes, batch: batch, rows: outputs, columns: hidden)
        for b in 0..<batch {
            for c in 0..<outputs { biasGradient[c] += delta[b * outputs + c] * one }
        }
    }

    /// Completes `weightGradient` with the spikes added sparsely.
    func collectGradient() {
        guard addsSpikesSparsely else { return }
        LinearAlgebra.moveTransposed(sparseTransposedGradient, rows: hidden, columns: outputs, addingInto: weightGradient)
    }

    var bytes: Int { filteredSpikes.bytes + summedSpikes.bytes + weightGradient.bytes + biasGradient.bytes + sparseTransposedGradient.bytes }
}
