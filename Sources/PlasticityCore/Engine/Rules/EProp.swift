import PlasticityBase

/// Eligibility propagation (Bellec et al. 2020) on a network graph, with traces stored as the
/// model's block annotations allow. Traces are kept per population and presynaptic vector —
/// x̂ (within-step projections and bias) and ẑ (delayed ones) — from the population's own
/// blocks; each population's learning signal comes from `LearningSignals`. Online; its memory
/// does not depend on the sequence length. Exact (equal to BPTT) where `Exactness` says so.
final class EProp<T: KernelScalar>: OnlineRule {
    let forward: ForwardPass<T>
    /// Per population: traces on x̂ (nil without within-step columns) and on ẑ (nil without delayed ones).
    private let withinTraces: [EligibilityTraces<T>?]
    private let delayedTraces: [EligibilityTraces<T>?]
    /// Per population: traces of its trained neuron parameters (nil: none trained).
    private let parameterTraces: [ParameterTraces<T>?]
    private let readoutGradient: ReadoutGradient<T>
    private let learningSignals: LearningSignals<T>
    /// ∂E/∂z_t directly on each population's spikes (B×N_p), if any.
    let spikeErrors: [ScalarBuffer<T>]?

    /// - Parameter deferredSteps: T when the loss is deferred (its error signal known only after
    ///   the last step), nil otherwise.
    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions, deferredSteps: Int?) throws {
        forward = try ForwardPass(network: network, parameters: parameters, batch: batch, spikes: options.spikes)
        func traces(_ columns: Int, _ p: Int) -> EligibilityTraces<T>? {
            columns == 0 ? nil : EligibilityTraces(structure: network.populations[p].neuron.structure, batch: batch, hidden: network.populations[p].size,
                                                   presynapticCount: columns, readoutDecay: network.readoutDecay, deferredSteps: deferredSteps)
        }
        withinTraces = network.layouts.enumerated().map { traces($1.withinColumns, $0) }
        delayedTraces = network.layouts.enumerated().map { traces($1.delayedColumns, $0) }
        parameterTraces = network.populations.map { ParameterTraces(population: $0, batch: batch, readoutDecay: network.readoutDecay, deferred: deferredSteps != nil) }
        readoutGradient = ReadoutGradient(network: network, batch: batch, deferred: deferredSteps != nil)
        learningSignals = try LearningSignals(network: network, batch: batch, feedback: options.feedback, deep: options.deepFeedback, deferred: deferredSteps != nil)
        spikeErrors = try options.spikeError.map { try SpikeErrors.split($0, network: network, batch: batch) }
    }

    func resetTraces() {
        (withinTraces + delayedTraces).forEach { $0?.reset() }
        parameterTraces.forEach { $0?.reset() }
        readoutGradient.reset()
    }

    func learn(delta: UnsafePointer<T>) {
        learningSignals.compute(delta: delta, forward: forward)
        for (p, population) in forward.populations.enumerated() {
            let signal = UnsafePointer(learningSignals.values[p].pointer), direct = spikeErrors.map { UnsafePointer($0[p].pointer) }
            withinTraces[p]?.step(presynaptic: population.presynaptic.pointer, nonZero: population.activePresynaptic, blocks: population.blocks,
                                  signal: signal, spikeError: direct)
            delayedTraces[p]?.step(presynaptic: population.delayedPresynaptic, nonZero: population.activeDelayed, blocks: population.blocks,
                                   signal: signal, spikeError: direct)
            parameterTraces[p]?.step(blocks: population.blocks, signal: signal, spikeError: direct)
        }
        readoutGradient.learn(spikes: forward.readSpikes, activeSpikes: forward.activeReadSpikes, delta: delta)
    }

    func finishDeferred(delta: UnsafePointer<T>) {
        learningSignals.compute(delta: delta, forward: forward)
        for p in forward.populations.indices {
            let signal = UnsafePointer(learningSignals.values[p].pointer)
            withinTraces[p]?.finishDeferred(signal: signal)
            delayedTraces[p]?.finishDeferred(signal: signal)
            parameterTraces[p]?.finishDeferred(signal: signal)
        }
        readoutGradient.finishDeferred(delta: delta)
    }

    func takeGradients() -> ParameterSet<T> {
        (withinTraces + delayedTraces).forEach { $0?.collectGradient() }
        readoutGradient.collectGradient()
        let none = ScalarBuffer<T>(count: 0)
        let gradients = GradientAssembly.assemble(network: forward.network, within: withinTraces.map { $0?.gradient ?? none },
                                                  delayed: delayedTraces.map { $0?.gradient ?? none },
                                                  readoutWeights: readoutGradient.weightGradient, readoutBias: readoutGradient.biasGradient,
                                                  neuronParameters: parameterTraces.map { $0?.takeGradients() ?? [] })
        ((withinTraces + delayedTraces).compactMap { $0?.gradient } + [readoutGradient.weightGradient, readoutGradient.biasGradient]).forEach { $0.zero() }
        return gradients
    }

    var storageBytes: Int {
        (withinTraces + delayedTraces).reduce(0) { $0 + ($1?.bytes ?? 0) } + parameterTraces.reduce(0) { $0 + ($1?.bytes ?? 0) } + readoutGradient.bytes + learningSignals.bytes
            + (spikeErrors?.map(\.bytes).reduce(0, +) ?? 0)
    }
}

/// The direct spike error of `RuleOptions` (one value per neuron of every population) split
/// per population and broadcast over the batch (B × N_p each).
enum SpikeErrors {
    static func split<T>(_ errors: [Double], network: Network, batch: Int) throws -> [ScalarBuffer<T>] {
        let buffers = network.populations.map { ScalarBuffer<T>(count: batch * $0.size) }
        try write(errors, into: buffers, network: network)
        return buffers
    }

    /// Writes new errors into buffers made by `split` (a reused rule's).
    static func write<T>(_ errors: [Double], into buffers: [ScalarBuffer<T>], network: Network) throws {
        guard errors.count == network.neuronCount else {
            throw PlasticityError.shapeMismatch(name: "spike error", expected: "\(network.neuronCount) values (one per neuron)", found: "\(errors.count) values")
        }
        for (p, buffer) in buffers.enumerated() {
            let offset = network.neuronOffset(of: p), size = network.populations[p].size
            for index in 0..<buffer.count { buffer[index] = T(errors[offset + index % size]) }
        }
    }
}
