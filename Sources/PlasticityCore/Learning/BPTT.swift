/// Backpropagation through time over the model's blocks: exact reverse mode.
///
/// The forward pass records, per step, the varying block entries, the spikes and δ_t. The
/// backward pass runs t = T … 1 with the state adjoint λ_t (k per neuron):
///
/// δ̃_t = δ_t + κ δ̃_{t+1}
/// ∂E/∂z_t = W_outᵀ δ̃_t + Σ_m r_{t+1}^m λ_{t+1}^m + W_recᵀ g_{t+1}
/// λ_t^n = (∂E/∂z_t) c_t^n + Σ_m A_{t+1}^{mn} λ_{t+1}^m,   g_t = Σ_m b_t^m λ_t^m = ∂E/∂I_t
///
/// and gradients g_tᵀ x̂_t, g_tᵀ z_{t−1}, δ̃_tᵀ z_t. With a checkpoint interval K only every
/// K-th state is kept; each segment is recomputed from its checkpoint during the backward
/// pass, so memory is O(T/K + K) steps instead of O(T).
final class BPTT<T: KernelScalar> {
    let forward: ForwardPass<T>
    let checkpointInterval: Int?

    /// One recorded step.
    private struct Record {
        let entries: [ScalarBuffer<T>]
        let spike: ScalarBuffer<T>
        let delta: ScalarBuffer<T>
        var bytes: Int { (entries + [spike, delta]).map(\.bytes).reduce(0, +) }
    }

    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions) throws {
        forward = try ForwardPass(network: network, parameters: parameters, batch: batch, spikes: options.spikes)
        if let interval = options.checkpointInterval, interval < 1 {
            throw PlasticityError.invalidConfiguration("the checkpoint interval must be at least 1, got \(interval)")
        }
        checkpointInterval = options.checkpointInterval
        spikeError = options.spikeError
    }

    /// ∂E/∂z_t^j added directly at every step (N values).
    private let spikeError: [Double]?

    func run(inputs: [T], steps: Int, loss: Loss<T>, recordReadouts: Bool) throws -> GradientResult<T> {
        let shape = forward.shape, batch = forward.batch
        let inputStride = batch * shape.inputs
        let interval = checkpointInterval ?? steps
        let segmentStarts = Array(stride(from: 0, to: steps, by: interval))
        let driver = SequenceDriver(forward: forward, loss: loss)
        var snapshots: [Int: ForwardPass<T>.Snapshot] = [:]
        var records: [Record] = []
        func storedBytes() -> Int { records.map(\.bytes).reduce(0, +) + snapshots.values.map(\.bytes).reduce(0, +) }

        // Forward: the loss, a snapshot at each segment start, and the last segment's records.
        forward.reset()
        let outcome = try inputs.withUnsafeBufferPointer { x in
            try driver.run(inputs: x.baseAddress!, steps: 0..<steps, recordReadouts: recordReadouts,
                           beforeStep: { t in if t % interval == 0 { snapshots[t] = forward.snapshot() } },
                           afterStep: { t, delta in if t >= segmentStarts.last! { records.append(record(delta: delta)) } })
        }
        let finalDelta = loss.isDeferred ? driver.delta.array : []
        var peakBytes = storedBytes()

        // Backward, segment by segment from the end; earlier segments are recomputed from
        // their snapshots.
        let adjoint = Adjoint<T>(stateCount: forward.neuron.stateCount, batch: batch, shape: shape, spikeError: spikeError)
        try inputs.withUnsafeBufferPointer { x in
            try finalDelta.withUnsafeBufferPointer { deferredDelta in
                for (segmentIndex, start) in segmentStarts.enumerated().reversed() {
                    let end = Swift.min(start + interval, steps)
                    if segmentIndex != segmentStarts.count - 1 {
                        records = []
                        forward.restore(snapshots[start]!)
                        _ = try driver.run(inputs: x.baseAddress!, steps: start..<end) { _, delta in records.append(record(delta: delta)) }
                        peakBytes = Swift.max(peakBytes, storedBytes())
                    }
                    let segmentStartSpike = snapshots[start]!.spike
                    for t in stride(from: end - 1, through: start, by: -1) {
                        let record = records[t - start]
                        adjoint.backwardStep(
                            blocks: forward.blocks(from: record.entries, previousSpikeGradient: record.entries),
                            spike: record.spike.pointer,
                            previousSpike: t > start ? UnsafePointer(records[t - start - 1].spike.pointer) : nil,
                            segmentStartSpike: segmentStartSpike,
                            delta: loss.isDeferred ? deferredDelta.baseAddress! : UnsafePointer(record.delta.pointer),
                            input: x.baseAddress! + t * inputStride,
                            parameters: forward.parameters)
                    }
                }
            }
        }
        return GradientResult(loss: outcome.loss, gradients: adjoint.gradients, spikeCount: outcome.spikes,
                              storageBytes: peakBytes + adjoint.bytes + forward.bytes + forward.parameters.bytes, readouts: outcome.readouts,
                              neuronSpikes: outcome.neuronSpikes)
    }

    /// Copies the step just taken: its varying blocks, its spikes and δ_t.
    private func record(delta: UnsafePointer<T>) -> Record {
        let size = forward.batch * forward.shape.hidden
        let record = Record(entries: forward.entries.map { _ in ScalarBuffer(count: size) }, spike: ScalarBuffer(count: size),
                            delta: ScalarBuffer(count: forward.batch * forward.shape.outputs))
        for (target, source) in zip(record.entries, forward.entryBuffers) { target.pointer.update(from: source.pointer, count: source.count) }
        record.spike.pointer.update(from: forward.spike.pointer, count: forward.spike.count)
        record.delta.pointer.update(from: delta, count: record.delta.count)
        return record
    }
}

/// The state adjoint carried backwards through time, and the gradients it produces.
private final class Adjoint<T: KernelScalar> {
    let stateCount: Int, batch: Int
    let shape: NetworkShape
    private let lambda: [ScalarBuffer<T>]           // λ_t^m, [b][j]
    private let stateCarry: [ScalarBuffer<T>]       // Σ_m A_{t+1}^{mn} λ_{t+1}^m
    private let ownCarry: ScalarBuffer<T>           // Σ_m r_{t+1}^m λ_{t+1}^m
    private let recurrentCarry: ScalarBuffer<T>     // W_recᵀ g_{t+1}
    private let filteredDelta: ScalarBuffer<T>      // δ̃
    private let spikeAdjoint: ScalarBuffer<T>       // ∂E/∂z_t
    private let currentAdjoint: ScalarBuffer<T>     // g_t
    private let presynaptic: ScalarBuffer<T>        // x̂_t
    // The weight gradients are accumulated transposed ([presynaptic][postsynaptic]), so that
    // each spike or spiking input adds one contiguous row and the zeros cost nothing.
    private let inputGradient: ScalarBuffer<T>          // [i][j], bias column last
    private let recurrentGradient: ScalarBuffer<T>      // [l][j]
    private let outputWeightGradient: ScalarBuffer<T>   // [j][c]
    private let outputBiasGradient: ScalarBuffer<T>

    /// ∂E/∂z_t directly on the spikes (B×N), if any.
    private let spikeError: ScalarBuffer<T>?

    init(stateCount: Int, batch: Int, shape: NetworkShape, spikeError: [Double]?) {
        self.spikeError = spikeError.map { ScalarBuffer(repeating: $0, times: batch) }
        self.stateCount = stateCount
        self.batch = batch
        self.shape = shape
        let size = batch * shape.hidden
        lambda = (0..<stateCount).map { _ in ScalarBuffer(count: size) }
        stateCarry = (0..<stateCount).map { _ in ScalarBuffer(count: size) }
        ownCarry = ScalarBuffer(count: size)
        recurrentCarry = ScalarBuffer(count: size)
        filteredDelta = ScalarBuffer(count: batch * shape.outputs)
        spikeAdjoint = ScalarBuffer(count: size)
        currentAdjoint = ScalarBuffer(count: size)
        presynaptic = ScalarBuffer(count: batch * shape.inputColumns)
        inputGradient = ScalarBuffer(count: shape.hidden * shape.inputColumns)
        recurrentGradient = ScalarBuffer(count: shape.recurrent ? shape.hidden * shape.hidden : 0)
        outputWeightGradient = ScalarBuffer(count: shape.outputs * shape.hidden)
        outputBiasGradient = ScalarBuffer(count: shape.outputs)
    }

    var bytes: Int {
        (lambda + stateCarry + [ownCarry, recurrentCarry, filteredDelta, spikeAdjoint, currentAdjoint, presynaptic,
                                inputGradient, recurrentGradient, outputWeightGradient, outputBiasGradient]).map(\.bytes).reduce(0, +)
    }

    func backwardStep(blocks: BlockValues<T>, spike: UnsafePointer<T>, previousSpike: UnsafePointer<T>?, segmentStartSpike: [T],
                      delta: UnsafePointer<T>, input: UnsafePointer<T>, parameters: ParameterSet<T>) {
        let n = shape.hidden, outputs = shape.outputs, k = stateCount, size = batch * n
        let decay = T(shape.readoutDecay)
        for index in 0..<(batch * outputs) { filteredDelta[index] = delta[index] + decay * filteredDelta[index] }
        parameters.outputWeights.withUnsafeBufferPointer { w in
            LinearAlgebra.transposedProduct(into: spikeAdjoint.pointer, weights: w.baseAddress!, input: filteredDelta.pointer, batch: batch, rows: outputs, columns: n)
        }
        // ∂E/∂z_t, in place of the readout's part; then, one vectorisable loop per block entry:
        // λ_m = dz·c_m + Σ_q A_qm λ'_q (carried), g = Σ_m b_m λ_m, and the carries to step t−1.
        let dz = spikeAdjoint.pointer
        for element in 0..<size { dz[element] += ownCarry[element] + recurrentCarry[element] }
        if let spikeError { for element in 0..<size { dz[element] += spikeError[element] } }
        currentAdjoint.zero()
        ownCarry.zero()
        for m in 0..<k {
            lambda[m].pointer.update(from: stateCarry[m].pointer, count: size)
            blocks.spikeGradient[m].accumulateProduct(into: lambda[m].pointer, with: dz, count: size)
            blocks.currentGain[m].accumulateProduct(into: currentAdjoint.pointer, with: lambda[m].pointer, count: size)
            blocks.ownSpikeGain[m].accumulateProduct(into: ownCarry.pointer, with: lambda[m].pointer, count: size)
        }
        for q in 0..<k {
            stateCarry[q].zero()
            for m in 0..<k { blocks.stateJacobian[m][q].accumulateProduct(into: stateCarry[q].pointer, with: lambda[m].pointer, count: size) }
        }
        let columns = shape.inputColumns
        for b in 0..<batch {
            (presynaptic.pointer + b * columns).update(from: input + b * shape.inputs, count: shape.inputs)
            if shape.bias { presynaptic[b * columns + shape.inputs] = 1 }
        }
        LinearAlgebra.accumulateSparseOuterProducts(intoTransposed: inputGradient.pointer, left: currentAdjoint.pointer, right: presynaptic.pointer,
                                                    batch: batch, rows: n, columns: columns)
        if shape.recurrent {
            segmentStartSpike.withUnsafeBufferPointer { start in
                LinearAlgebra.accumulateSparseOuterProducts(intoTransposed: recurrentGradient.pointer, left: currentAdjoint.pointer,
                                                            right: previousSpike ?? start.baseAddress!, batch: batch, rows: n, columns: n)
            }
            parameters.recurrentWeights.withUnsafeBufferPointer { w in
                LinearAlgebra.transposedProduct(into: recurrentCarry.pointer, weights: w.baseAddress!, input: currentAdjoint.pointer, batch: batch, rows: n, columns: n)
            }
        }
        LinearAlgebra.accumulateSparseOuterProducts(intoTransposed: outputWeightGradient.pointer, left: filteredDelta.pointer, right: spike,
                                                    batch: batch, rows: outputs, columns: n)
        for b in 0..<batch {
            for c in 0..<outputs { outputBiasGradient[c] += filteredDelta[b * outputs + c] }
        }
    }

    var gradients: ParameterSet<T> {
        let n = shape.hidden
        let input = LinearAlgebra.transposed(inputGradient.pointer, rows: shape.inputColumns, columns: n)
        let recurrent = shape.recurrent ? LinearAlgebra.transposed(recurrentGradient.pointer, rows: n, columns: n) : []
        let output = LinearAlgebra.transposed(outputWeightGradient.pointer, rows: n, columns: shape.outputs)
        return GradientAssembly.assemble(shape: shape, inputColumns: input, recurrent: shape.recurrent ? recurrent : nil,
                                         outputWeights: output, outputBias: outputBiasGradient.pointer)
    }
}
