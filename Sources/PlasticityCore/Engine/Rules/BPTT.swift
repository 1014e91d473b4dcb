import PlasticityBase

/// Backpropagation through time over the populations' blocks: exact reverse mode on any graph.
///
/// The forward pass records, per step, each population's varying block entries and spikes,
/// and δ_t. The backward pass runs t = T … 1, and within a step the populations in reverse
/// step order, with each population's state adjoint λ_t (k per neuron):
///
/// δ̃_t = δ_t + κ δ̃_{t+1}
/// ∂E/∂z_t^q = W_out^qᵀ δ̃_t + Σ_m r_{t+1}^m λ_{t+1}^m + Σ_{q→p delayed} W_qpᵀ g_{t+1}^p + Σ_{q→p within} W_qpᵀ g_t^p
/// λ_t^n = (∂E/∂z_t) c_t^n + Σ_m A_{t+1}^{mn} λ_{t+1}^m,   g_t = Σ_m b_t^m λ_t^m = ∂E/∂I_t
///
/// and gradients g_tᵀ x̂_t, g_tᵀ ẑ_t per population, δ̃_tᵀ z_t for the readout. With a checkpoint interval K only every
/// K-th state is kept; each segment is recomputed from its checkpoint during the backward
/// pass, so memory is O(T/K + K) steps instead of O(T).
final class BPTT<T: KernelScalar> {
    let forward: ForwardPass<T>
    let checkpointInterval: Int?

    /// One recorded step.
    private struct Record {
        /// Per population.
        let entries: [[ScalarBuffer<T>]]
        let spikes: [ScalarBuffer<T>]
        let delta: ScalarBuffer<T>
        var bytes: Int { (entries.joined() + spikes + [delta]).map(\.bytes).reduce(0, +) }
    }

    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions) throws {
        forward = try ForwardPass(network: network, parameters: parameters, batch: batch, spikes: options.spikes)
        if let interval = options.checkpointInterval, interval < 1 {
            throw PlasticityError.invalidConfiguration("the checkpoint interval must be at least 1, got \(interval)")
        }
        checkpointInterval = options.checkpointInterval
        spikeErrors = try options.spikeError.map { try SpikeErrors.split($0, network: network, batch: batch) }
    }

    /// ∂E/∂z_t added directly at every step, per population (B × N_p).
    let spikeErrors: [ScalarBuffer<T>]?
    /// Records of earlier runs, reused (in step order) by the next: a reused BPTT allocates
    /// them once, not per batch (`GradientWorkspace`).
    private var recordPool: [Record] = []

    func run(inputs: [T], steps: Int, loss: Loss<T>, recordReadouts: Bool) throws -> GradientResult<T> {
        let batch = forward.batch
        let inputStride = batch * forward.inputs
        let interval = checkpointInterval ?? steps
        let segmentStarts = Array(stride(from: 0, to: steps, by: interval))
        let driver = SequenceDriver(forward: forward, loss: loss)
        var snapshots: [Int: ForwardPass<T>.Snapshot] = [:]
        // recordPool[0..<recorded] hold the steps of the segment at hand.
        var recorded = 0
        func storedBytes() -> Int { recordPool.prefix(recorded).map(\.bytes).reduce(0, +) + snapshots.values.map(\.bytes).reduce(0, +) }
        func record(delta: UnsafePointer<T>) {
            if recorded == recordPool.count { recordPool.append(newRecord()) }
            fill(recordPool[recorded], delta: delta)
            recorded += 1
        }

        // Forward: the loss, a snapshot at each segment start, and the last segment's records.
        forward.reset()
        let outcome = try inputs.withUnsafeBufferPointer { x in
            try driver.run(inputs: x.baseAddress!, steps: 0..<steps, recordReadouts: recordReadouts,
                           beforeStep: { t in if t % interval == 0 { snapshots[t] = forward.snapshot() } },
                           afterStep: { t, delta in if t >= segmentStarts.last! { record(delta: delta) } })
        }
        let finalDelta = loss.isDeferred ? driver.delta.array : []
        var peakBytes = storedBytes()

        // Backward, segment by segment from the end; earlier segments are recomputed from
        // their snapshots.
        let adjoint = NetworkAdjoint<T>(forward: forward, spikeErrors: spikeErrors)
        try inputs.withUnsafeBufferPointer { x in
            try finalDelta.withUnsafeBufferPointer { deferredDelta in
                for (segmentIndex, start) in segmentStarts.enumerated().reversed() {
                    let end = Swift.min(start + interval, steps)
                    if segmentIndex != segmentStarts.count - 1 {
                        recorded = 0
                        forward.restore(snapshots[start]!)
                        _ = try driver.run(inputs: x.baseAddress!, steps: start..<end) { _, delta in record(delta: delta) }
                        peakBytes = Swift.max(peakBytes, storedBytes())
                    }
                    let segmentStartSpikes = snapshots[start]!.spike.map { ScalarBuffer($0) }
                    for t in stride(from: end - 1, through: start, by: -1) {
                        let record = recordPool[t - start]
                        let previous = t > start ? recordPool[t - start - 1] : nil
                        adjoint.backwardStep(
                            blocks: { forward.populations[$0].blocks(from: record.entries[$0], previousSpikeGradient: record.entries[$0]) },
                            spikes: { UnsafePointer(record.spikes[$0].pointer) },
                            previousSpikes: { UnsafePointer((previous?.spikes[$0] ?? segmentStartSpikes[$0]).pointer) },
                            delta: loss.isDeferred ? deferredDelta.baseAddress! : UnsafePointer(record.delta.pointer),
                            input: x.baseAddress! + t * inputStride)
                    }
                }
            }
        }
        return GradientResult(loss: outcome.loss, gradients: adjoint.gradients, spikeCount: outcome.spikes,
                              storageBytes: peakBytes + adjoint.bytes + forward.bytes + forward.parameters.bytes, readouts: outcome.readouts,
                              neuronSpikes: outcome.neuronSpikes)
    }

    /// Buffers for one step's record.
    private func newRecord() -> Record {
        Record(entries: forward.populations.map { population in population.entries.map { _ in ScalarBuffer(count: forward.batch * population.size) } },
               spikes: forward.populations.map { ScalarBuffer(count: forward.batch * $0.size) },
               delta: ScalarBuffer(count: forward.batch * forward.outputs))
    }

    /// Copies the step just taken into `record`: its varying blocks, its spikes and δ_t.
    private func fill(_ record: Record, delta: UnsafePointer<T>) {
        for (population, (entries, spikes)) in zip(forward.populations, zip(record.entries, record.spikes)) {
            for (target, source) in zip(entries, population.entryBuffers) { target.pointer.update(from: source.pointer, count: source.count) }
            spikes.pointer.update(from: population.spike.pointer, count: spikes.count)
        }
        record.delta.pointer.update(from: delta, count: record.delta.count)
    }
}
