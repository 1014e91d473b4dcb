/// Eligibility propagation (Bellec et al. 2020) with traces stored as the model's block
/// annotations allow. Online; its memory does not depend on the sequence length. Exact
/// (equal to BPTT) when no block couples neurons: no recurrent weights.
final class EProp<T: KernelScalar>: OnlineRule {
    let forward: ForwardPass<T>
    private let inputTraces: EligibilityTraces<T>
    private let recurrentTraces: EligibilityTraces<T>?
    private let readoutGradient: ReadoutGradient<T>
    private let learningSignal: LearningSignal<T>

    /// - Parameter deferredSteps: T when the loss is deferred (its error signal known only after
    ///   the last step), nil otherwise.
    init(network: Network, parameters: ParameterSet<T>, batch: Int, options: RuleOptions, deferredSteps: Int?) throws {
        forward = try ForwardPass(network: network, parameters: parameters, batch: batch, spikes: options.spikes)
        let shape = network.shape
        let structure = network.neuron.structure
        inputTraces = EligibilityTraces(structure: structure, batch: batch, hidden: shape.hidden, presynapticCount: shape.inputColumns,
                                        readoutDecay: shape.readoutDecay, deferredSteps: deferredSteps)
        recurrentTraces = shape.recurrent
            ? EligibilityTraces(structure: structure, batch: batch, hidden: shape.hidden, presynapticCount: shape.hidden,
                                readoutDecay: shape.readoutDecay, deferredSteps: deferredSteps)
            : nil
        readoutGradient = ReadoutGradient(shape: shape, batch: batch, deferred: deferredSteps != nil)
        learningSignal = LearningSignal(shape: shape, batch: batch, feedback: options.feedback)
        spikeError = options.spikeError.map { ScalarBuffer(repeating: $0, times: batch) }
    }

    /// ∂E/∂z_t directly on the spikes (B×N), if any.
    private let spikeError: ScalarBuffer<T>?

    func resetTraces() {
        inputTraces.reset()
        recurrentTraces?.reset()
        readoutGradient.reset()
    }

    func learn(delta: UnsafePointer<T>) {
        learningSignal.compute(delta: delta, outputWeights: forward.parameters.outputWeights, batch: forward.batch)
        let direct = spikeError.map { UnsafePointer($0.pointer) }
        inputTraces.step(presynaptic: forward.presynaptic.pointer, blocks: forward.blocks, signal: learningSignal.values.pointer, spikeError: direct)
        recurrentTraces?.step(presynaptic: forward.previousSpike.pointer, blocks: forward.blocks, signal: learningSignal.values.pointer, spikeError: direct)
        readoutGradient.learn(spikes: forward.spike.pointer, activeSpikes: forward.activeSpikes, delta: delta)
    }

    func finishDeferred(delta: UnsafePointer<T>) {
        learningSignal.compute(delta: delta, outputWeights: forward.parameters.outputWeights, batch: forward.batch)
        inputTraces.finishDeferred(signal: learningSignal.values.pointer)
        recurrentTraces?.finishDeferred(signal: learningSignal.values.pointer)
        readoutGradient.finishDeferred(delta: delta)
    }

    func takeGradients() -> ParameterSet<T> {
        inputTraces.collectGradient()
        recurrentTraces?.collectGradient()
        readoutGradient.collectGradient()
        let gradients = GradientAssembly.assemble(shape: forward.shape, inputColumns: inputTraces.gradient.pointer,
                                                  recurrent: recurrentTraces?.gradient.pointer,
                                                  outputWeights: readoutGradient.weightGradient.pointer, outputBias: readoutGradient.biasGradient.pointer)
        ([inputTraces.gradient, readoutGradient.weightGradient, readoutGradient.biasGradient] + [recurrentTraces?.gradient].compactMap { $0 }).forEach { $0.zero() }
        return gradients
    }

    var storageBytes: Int { inputTraces.bytes + (recurrentTraces?.bytes ?? 0) + readoutGradient.bytes + learningSignal.values.bytes }
}
