import PlasticityBase

/// Drives a forward pass through whole sequences with a loss: the one step loop that
/// gradient rules, BPTT's recording pass and evaluation share.
struct SequenceDriver<T: KernelScalar> {
    let forward: ForwardPass<T>
    let loss: Loss<T>
    /// δ_t of the current step (B×C); after `run`, for deferred losses, the final δ.
    let delta: ScalarBuffer<T>
    private let summedReadout: ScalarBuffer<T>

    init(forward: ForwardPass<T>, loss: Loss<T>) {
        self.forward = forward
        self.loss = loss
        delta = ScalarBuffer(count: forward.batch * forward.outputs)
        summedReadout = ScalarBuffer(count: loss.isDeferred ? forward.batch * forward.outputs : 0)
    }

    /// What a run produced.
    struct Outcome {
        var loss = 0.0
        /// Spikes per neuron, over all populations in step order.
        var neuronSpikes: [Int] = []
        var spikes: Int { neuronSpikes.reduce(0, +) }
        /// y_t for every step (T×B×C), when asked for.
        var readouts: [T] = []
    }

    /// Runs steps `range` of `inputs` (T×B×I). `afterStep(t, δ_t)` sees the forward pass
    /// after step t. Deferred losses add their final term (and leave the final δ in `delta`)
    /// when the range ends at the last step.
    func run(inputs: UnsafePointer<T>, steps range: Range<Int>, recordReadouts: Bool = false,
             beforeStep: (Int) -> Void = { _ in }, afterStep: (Int, UnsafePointer<T>) throws -> Void) throws -> Outcome {
        var outcome = Outcome()
        let stride = forward.batch * forward.inputs
        if recordReadouts { outcome.readouts.reserveCapacity(range.count * forward.readout.count) }
        var neuronSpikes = [Int](repeating: 0, count: forward.network.neuronCount)
        for t in range {
            beforeStep(t)
            forward.step(input: inputs + t * stride)
            if let (state, value) = forward.firstNonFiniteState() {
                throw PlasticityError.nonFinite(quantity: state, value: "\(value)", location: "time step \(t)")
            }
            neuronSpikes.withUnsafeMutableBufferPointer { counts in
                var offset = 0
                for population in forward.populations {
                    for b in 0..<forward.batch {
                        for j in population.activeSpikes.positions(inRow: b) { counts[offset + Int(j)] += 1 }
                    }
                    offset += population.size
                }
            }
            outcome.loss += loss.stepSignal(t: t, readout: forward.readout.pointer, delta: delta.pointer)
            if let bad = (0..<forward.readout.count).first(where: { !forward.readout[$0].isFinite }) {
                throw PlasticityError.nonFinite(quantity: "the readout", value: "\(forward.readout[bad])", location: "time step \(t)")
            }
            if loss.isDeferred { for index in 0..<summedReadout.count { summedReadout[index] += forward.readout[index] } }
            if recordReadouts { outcome.readouts.append(contentsOf: UnsafeBufferPointer(start: forward.readout.pointer, count: forward.readout.count)) }
            try afterStep(t, delta.pointer)
        }
        outcome.neuronSpikes = neuronSpikes
        if loss.isDeferred, range.upperBound == loss.steps {
            outcome.loss += loss.finalSignal(summedReadout: summedReadout.pointer, delta: delta.pointer)
        }
        return outcome
    }
}
