/// What RTRL and dense e-prop share: each keeps, per batch element and neuron, the influence
/// of every parameter on the neuron's state (B × N × k × Θ, independent of T), derives the
/// spike sensitivity dz_t/dθ from it and contracts that with the learning signal.
final class InfluenceState<T: KernelScalar> {
    let forward: ForwardPass<T>
    let layout: InfluenceLayout
    let stateCount: Int
    /// [b][j][m][θ].
    let influence: ScalarBuffer<T>
    /// dz_t/dθ, [b][j][θ].
    let spikeSensitivity: ScalarBuffer<T>
    let sensitivityGradient: SensitivityGradient<T>
    let readoutGradient: ReadoutGradient<T>
    let learningSignal: LearningSignal<T>

    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions, deferred: Bool) throws {
        forward = try ForwardPass(network: network, parameters: parameters, batch: batch, spikes: options.spikes)
        let shape = network.shape
        layout = InfluenceLayout(shape: shape)
        stateCount = network.neuron.stateCount
        influence = ScalarBuffer(count: batch * shape.hidden * stateCount * layout.count)
        spikeSensitivity = ScalarBuffer(count: batch * shape.hidden * layout.count)
        sensitivityGradient = SensitivityGradient(layout: layout, batch: batch, readoutDecay: shape.readoutDecay, deferred: deferred)
        readoutGradient = ReadoutGradient(shape: shape, batch: batch, deferred: deferred)
        learningSignal = LearningSignal(shape: shape, batch: batch, feedback: options.feedback)
        spikeError = options.spikeError.map { ScalarBuffer(repeating: $0, times: batch) }
    }

    /// ∂E/∂z_t directly on the spikes (B×N), if any.
    let spikeError: ScalarBuffer<T>?

    var bytes: Int {
        influence.bytes + spikeSensitivity.bytes + sensitivityGradient.bytes + readoutGradient.bytes + learningSignal.values.bytes
    }
}

/// A rule defined by how it advances the influence: the rest of `OnlineRule` is shared.
/// (A protocol rather than a base class: calls through a generic class's vtable are never
/// specialised, and these loops must run as Float code.)
protocol InfluenceRecursion: OnlineRule {
    var state: InfluenceState<Scalar> { get }
    /// Advances `state.influence` by one step and writes `state.spikeSensitivity`.
    func updateInfluence()
    /// Bytes of the rule's own temporaries.
    var temporaryBytes: Int { get }
}

extension InfluenceRecursion {
    var forward: ForwardPass<Scalar> { state.forward }

    func resetTraces() {
        state.influence.zero()
        state.spikeSensitivity.zero()
        state.sensitivityGradient.reset()
        state.readoutGradient.reset()
    }

    func learn(delta: UnsafePointer<Scalar>) {
        updateInfluence()
        state.learningSignal.compute(delta: delta, outputWeights: forward.parameters.outputWeights, batch: forward.batch)
        state.sensitivityGradient.accumulate(sensitivity: state.spikeSensitivity.pointer, signal: state.learningSignal.values.pointer,
                                             spikeError: state.spikeError.map { UnsafePointer($0.pointer) })
        state.readoutGradient.learn(spikes: forward.spike.pointer, activeSpikes: forward.activeSpikes, delta: delta)
    }

    func finishDeferred(delta: UnsafePointer<Scalar>) {
        state.learningSignal.compute(delta: delta, outputWeights: forward.parameters.outputWeights, batch: forward.batch)
        state.sensitivityGradient.finishDeferred(signal: state.learningSignal.values.pointer)
        state.readoutGradient.finishDeferred(delta: delta)
    }

    func takeGradients() -> ParameterSet<Scalar> {
        let shape = forward.shape
        let gradient = state.sensitivityGradient.gradient.pointer, readout = state.readoutGradient
        readout.collectGradient()
        let result = GradientAssembly.assemble(shape: shape, inputColumns: gradient,
                                               recurrent: shape.recurrent ? gradient + state.layout.recurrentOffset(neuron: 0) : nil,
                                               outputWeights: readout.weightGradient.pointer, outputBias: readout.biasGradient.pointer)
        [state.sensitivityGradient.gradient, readout.weightGradient, readout.biasGradient].forEach { $0.zero() }
        return result
    }

    var storageBytes: Int { state.bytes + temporaryBytes }
}
