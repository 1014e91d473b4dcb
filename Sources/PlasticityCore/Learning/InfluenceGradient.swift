/// The parameters that influence matrices are taken with respect to, flattened:
/// θ = [input weights with bias column (N × P, row j at j·P)] ++ [recurrent weights (N × N)].
struct InfluenceLayout {
    let hidden: Int
    let inputColumns: Int
    let recurrent: Bool

    init(shape: NetworkShape) {
        hidden = shape.hidden
        inputColumns = shape.inputColumns
        recurrent = shape.recurrent
    }

    var count: Int { hidden * inputColumns + (recurrent ? hidden * hidden : 0) }
    func inputOffset(neuron j: Int) -> Int { j * inputColumns }
    func recurrentOffset(neuron j: Int) -> Int { hidden * inputColumns + j * hidden }

    /// Calls `body(θ, x̂)` for every parameter of neuron j's own row: ∂I_j/∂θ = x̂ there.
    @inline(__always)
    func forEachDirectInput<T>(neuron j: Int, batch b: Int, presynaptic: UnsafePointer<T>, previousSpike: UnsafePointer<T>, _ body: (Int, T) -> Void) {
        let inputBase = inputOffset(neuron: j)
        for p in 0..<inputColumns { body(inputBase + p, presynaptic[b * inputColumns + p]) }
        if recurrent {
            let recurrentBase = recurrentOffset(neuron: j)
            for l in 0..<hidden { body(recurrentBase + l, previousSpike[b * hidden + l]) }
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

    init(layout: InfluenceLayout, batch: Int, readoutDecay: Double, deferred: Bool) {
        self.batch = batch
        hidden = layout.hidden
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
