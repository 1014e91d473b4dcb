import PlasticityBase

/// One population's influence as RTRL and dense e-prop keep it: per batch element and neuron,
/// the influence of every tracked weight on the neuron's state (B × N × k × Θ, independent
/// of T) and the spike sensitivity dz_t/dθ derived from it, contracted with the population's
/// learning signal.
final class PopulationInfluence<T: KernelScalar> {
    let population: Int
    let layout: InfluenceLayout
    let size: Int, stateCount: Int
    /// [b][j][m][θ].
    let influence: ScalarBuffer<T>
    /// dz_t/dθ, [b][j][θ].
    let spikeSensitivity: ScalarBuffer<T>
    let sensitivityGradient: SensitivityGradient<T>

    init(population: PopulationPass<T>, layout: InfluenceLayout, readoutDecay: Double, deferred: Bool) {
        self.population = population.index
        self.layout = layout
        size = population.size
        stateCount = population.neuron.stateCount
        influence = ScalarBuffer(count: population.batch * size * stateCount * layout.count)
        spikeSensitivity = ScalarBuffer(count: population.batch * size * layout.count)
        sensitivityGradient = SensitivityGradient(parameterCount: layout.count, hidden: size, batch: population.batch, readoutDecay: readoutDecay, deferred: deferred)
    }

    func reset() {
        influence.zero()
        spikeSensitivity.zero()
        sensitivityGradient.reset()
    }

    var bytes: Int { influence.bytes + spikeSensitivity.bytes + sensitivityGradient.bytes }
}

/// What RTRL and dense e-prop share: the forward pass, each tracked population's influence,
/// the learning signals and the readout's gradient.
final class InfluenceState<T: KernelScalar> {
    let forward: ForwardPass<T>
    /// In step order, one per population.
    let populations: [PopulationInfluence<T>]
    let readoutGradient: ReadoutGradient<T>
    let learningSignals: LearningSignals<T>
    /// ∂E/∂z_t directly on each population's spikes (B×N_p), if any.
    let spikeErrors: [ScalarBuffer<T>]?
    /// Per population, e-prop's traces of its own trained parameters, when the layouts do not
    /// track them (dense e-prop).
    let parameterTraces: [ParameterTraces<T>?]

    /// - Parameters:
    ///   - layouts: the θ each population's influence is taken over (by population).
    ///   - deep: the learning signal of populations the readout does not read (nil: none).
    ///   - ownParameterTraces: trace trained neuron parameters as e-prop does, outside θ.
    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions, deferred: Bool,
         layouts: (Int) -> InfluenceLayout, deep: DeepFeedback?, ownParameterTraces: Bool) throws {
        forward = try ForwardPass(network: network, parameters: parameters, batch: batch, spikes: options.spikes)
        populations = forward.populations.map { PopulationInfluence(population: $0, layout: layouts($0.index), readoutDecay: network.readoutDecay, deferred: deferred) }
        readoutGradient = ReadoutGradient(network: network, batch: batch, deferred: deferred)
        learningSignals = try LearningSignals(network: network, batch: batch, feedback: options.feedback, deep: deep, deferred: deferred)
        spikeErrors = try options.spikeError.map { try SpikeErrors.split($0, network: network, batch: batch) }
        parameterTraces = network.populations.map { population in
            ownParameterTraces ? ParameterTraces(population: population, batch: batch, readoutDecay: network.readoutDecay, deferred: deferred) : nil
        }
    }

    var bytes: Int {
        populations.map(\.bytes).reduce(0, +) + readoutGradient.bytes + learningSignals.bytes + (spikeErrors?.map(\.bytes).reduce(0, +) ?? 0)
            + parameterTraces.reduce(0) { $0 + ($1?.bytes ?? 0) }
    }
}

/// A rule defined by how it advances the influence: the rest of `OnlineRule` is shared.
/// (A protocol rather than a base class: calls through a generic class's vtable are never
/// specialised, and these loops must run as Float code.)
protocol InfluenceRecursion: OnlineRule {
    var state: InfluenceState<Scalar> { get }
    /// Advances every population's influence by one step and writes its spike sensitivity.
    func updateInfluence()
    /// Bytes of the rule's own temporaries.
    var temporaryBytes: Int { get }
}

extension InfluenceRecursion {
    var forward: ForwardPass<Scalar> { state.forward }

    func resetTraces() {
        state.populations.forEach { $0.reset() }
        state.parameterTraces.forEach { $0?.reset() }
        state.readoutGradient.reset()
    }

    func learn(delta: UnsafePointer<Scalar>) {
        updateInfluence()
        state.learningSignals.compute(delta: delta, forward: forward)
        for tracked in state.populations {
            let p = tracked.population
            let signal = UnsafePointer(state.learningSignals.values[p].pointer), spikeError = state.spikeErrors.map { UnsafePointer($0[p].pointer) }
            tracked.sensitivityGradient.accumulate(sensitivity: tracked.spikeSensitivity.pointer, signal: signal, spikeError: spikeError)
            state.parameterTraces[p]?.step(blocks: forward.populations[p].blocks, signal: signal, spikeError: spikeError)
        }
        state.readoutGradient.learn(spikes: forward.readSpikes, activeSpikes: forward.activeReadSpikes, delta: delta)
    }

    func finishDeferred(delta: UnsafePointer<Scalar>) {
        state.learningSignals.compute(delta: delta, forward: forward)
        for tracked in state.populations {
            let signal = UnsafePointer(state.learningSignals.values[tracked.population].pointer)
            tracked.sensitivityGradient.finishDeferred(signal: signal)
            state.parameterTraces[tracked.population]?.finishDeferred(signal: signal)
        }
        state.readoutGradient.finishDeferred(delta: delta)
    }

    func takeGradients() -> ParameterSet<Scalar> {
        let network = forward.network
        let within = network.layouts.map { ScalarBuffer<Scalar>(count: $0.size * $0.withinColumns) }
        let delayed = network.layouts.map { ScalarBuffer<Scalar>(count: $0.size * $0.delayedColumns) }
        let parameters = network.populations.indices.map { p in
            state.parameterTraces[p]?.takeGradients() ?? network.populations[p].trainedParameters.map { _ in ScalarBuffer<Scalar>(count: network.populations[p].size) }
        }
        for tracked in state.populations {
            tracked.layout.add(tracked.sensitivityGradient.gradient.pointer, within: within, delayed: delayed, parameters: parameters)
            tracked.sensitivityGradient.gradient.zero()
        }
        let readout = state.readoutGradient
        readout.collectGradient()
        let result = GradientAssembly.assemble(network: network, within: within, delayed: delayed,
                                               readoutWeights: readout.weightGradient, readoutBias: readout.biasGradient, neuronParameters: parameters)
        [readout.weightGradient, readout.biasGradient].forEach { $0.zero() }
        return result
    }

    var storageBytes: Int { state.bytes + temporaryBytes }
}
