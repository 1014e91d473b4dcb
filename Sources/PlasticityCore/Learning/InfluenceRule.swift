/// What RTRL and dense e-prop share: each keeps, per batch element and neuron, the influence
/// of every parameter on the neuron's state (B × N × k × Θ, independent of T), derives the
/// spike sensitivity dz_t/dθ from it and contracts that with the learning signal.
class InfluenceRule<T: KernelScalar>: OnlineRule {
    let forward: ForwardPass<T>
    let layout: InfluenceLayout
    let stateCount: Int
    /// [b][j][m][θ].
    let influence: ScalarBuffer<T>
    /// dz_t/dθ, [b][j][θ].
    let spikeSensitivity: ScalarBuffer<T>
    private let sensitivityGradient: SensitivityGradient<T>
    private let readoutGradient: ReadoutGradient<T>
    private let learningSignal: LearningSignal<T>

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
    }

    /// Advances `influence` by one step and writes `spikeSensitivity`; rules override it.
    func updateInfluence() { fatalError("subclasses implement the influence recursion") }

    /// Bytes of the rule's own temporaries, added by subclasses.
    var temporaryBytes: Int { 0 }

    func resetTraces() {
        influence.zero()
        spikeSensitivity.zero()
        sensitivityGradient.reset()
        readoutGradient.reset()
    }

    func learn(delta: UnsafePointer<T>) {
        updateInfluence()
        learningSignal.compute(delta: delta, outputWeights: forward.parameters.outputWeights, batch: forward.batch)
        sensitivityGradient.accumulate(sensitivity: spikeSensitivity.pointer, signal: learningSignal.values.pointer)
        readoutGradient.learn(spikes: forward.spike.pointer, delta: delta)
    }

    func finishDeferred(delta: UnsafePointer<T>) {
        learningSignal.compute(delta: delta, outputWeights: forward.parameters.outputWeights, batch: forward.batch)
        sensitivityGradient.finishDeferred(signal: learningSignal.values.pointer)
        readoutGradient.finishDeferred(delta: delta)
    }

    func takeGradients() -> ParameterSet<T> {
        let shape = forward.shape
        let gradient = sensitivityGradient.gradient.pointer
        let result = GradientAssembly.assemble(shape: shape, inputColumns: gradient,
                                               recurrent: shape.recurrent ? gradient + layout.recurrentOffset(neuron: 0) : nil,
                                               outputWeights: readoutGradient.weightGradient.pointer, outputBias: readoutGradient.biasGradient.pointer)
        [sensitivityGradient.gradient, readoutGradient.weightGradient, readoutGradient.biasGradient].forEach { $0.zero() }
        return result
    }

    var storageBytes: Int {
        influence.bytes + spikeSensitivity.bytes + sensitivityGradient.bytes + readoutGradient.bytes + learningSignal.values.bytes + temporaryBytes
    }
}
