import PlasticityBase

/// One population's part of the forward pass, and what the rules read of it: its presynaptic
/// vectors x̂ (within-step sources and bias) and ẑ (delayed sources), its previous and new
/// spikes, its state and the step's annotated blocks. Layouts are [batch][neuron].
public final class PopulationPass<T: KernelScalar> {
    public let index: Int
    public let population: Network.Population
    let layout: PopulationLayout
    public let batch: Int
    public var neuron: CompiledNeuron { population.neuron }
    public var size: Int { population.size }

    /// x̂_t: the within-step sources' values, and a 1 in the last column with a bias (B × withinColumns).
    public let presynaptic: ScalarBuffer<T>
    let activePresynaptic: NonZeroEntries<T>
    /// ẑ_t: the delayed sources' z_{t−1} (B × delayedColumns); set by the forward pass each step.
    public internal(set) var delayedPresynaptic: UnsafeMutablePointer<T>
    var activeDelayed: NonZeroEntries<T>
    /// ẑ when it is gathered from several populations (empty when it is one population's spikes).
    let gatheredDelayed: ScalarBuffer<T>
    let activeGatheredDelayed: NonZeroEntries<T>
    /// z_{t−1} and z_t.
    public internal(set) var previousSpike: ScalarBuffer<T>
    public internal(set) var spike: ScalarBuffer<T>
    var previousActiveSpikes: NonZeroEntries<T>
    var activeSpikes: NonZeroEntries<T>
    /// h_t, one array per state variable (updated in place).
    public let state: [ScalarBuffer<T>]
    public let current: ScalarBuffer<T>
    /// The blocks of the step just taken.
    public internal(set) var blocks: BlockValues<T>

    let kernel: NeuronStepKernel<T>
    /// W_in (the within-step projections, bias as the last column) and W_rec (the delayed
    /// ones) transposed: presynaptic-major, so a zero presynaptic value skips a whole row.
    let withinWeightsTransposed: ScalarBuffer<T>
    let delayedWeightsTransposed: ScalarBuffer<T>
    /// The varying block entries of the step just taken, in `entries` order.
    var entryBuffers: [ScalarBuffer<T>]
    /// Where each block entry's value comes from, resolved once from the model's expressions
    /// so that building a step's `BlockValues` consults none of them.
    private let sources: EntrySources
    var previousSpikeGradientBuffers: [ScalarBuffer<T>]
    /// Each parameter input's values, repeated per batch element (B × N).
    let parameterBuffers: [ScalarBuffer<T>]
    /// The trained parameters (indices into `population.parameters`), whose ∂F/∂θ and ∂z/∂θ
    /// the kernel computes.
    let trainedParameters: [Int]

    init(index: Int, network: Network, batch: Int, spikes: ExpressionGraph.SpikeMode) {
        self.index = index
        population = network.populations[index]
        layout = network.layouts[index]
        self.batch = batch
        let size = batch * population.size
        trainedParameters = population.trainedParameters
        let neuron = population.neuron
        kernel = neuron.makeStepKernel(T.self, entries: neuron.varyingEntries + trainedParameters.flatMap(neuron.varyingParameterEntries), spikes: spikes)
        parameterBuffers = population.parameters.map { _ in ScalarBuffer(count: size) }
        presynaptic = ScalarBuffer(count: batch * layout.withinColumns)
        activePresynaptic = NonZeroEntries(batch: batch, width: layout.withinColumns)
        let gathers = layout.soleDelayedSource == nil
        gatheredDelayed = ScalarBuffer(count: gathers ? batch * layout.delayedColumns : 0)
        activeGatheredDelayed = NonZeroEntries(batch: batch, width: gathers ? layout.delayedColumns : 0)
        delayedPresynaptic = gatheredDelayed.pointer
        activeDelayed = activeGatheredDelayed
        previousSpike = ScalarBuffer(count: size)
        spike = ScalarBuffer(count: size)
        previousActiveSpikes = NonZeroEntries(batch: batch, width: population.size)
        activeSpikes = NonZeroEntries(batch: batch, width: population.size)
        state = (0..<population.neuron.stateCount).map { _ in ScalarBuffer(count: size) }
        current = ScalarBuffer(count: size)
        withinWeightsTransposed = ScalarBuffer(count: population.size * layout.withinColumns)
        delayedWeightsTransposed = ScalarBuffer(count: population.size * layout.delayedColumns)
        entryBuffers = kernel.entries.map { _ in ScalarBuffer(count: size) }
        sources = EntrySources(neuron: population.neuron, kernel: kernel, trained: trainedParameters)
        previousSpikeGradientBuffers = kernel.entries.map { _ in ScalarBuffer(count: size) }
        blocks = BlockValues(stateJacobian: [], ownSpikeGain: [], currentGain: [], spikeGradient: [], previousSpikeGradient: [])
    }

    /// Copies the weights into the transposed layouts the step reads.
    func setWeights(_ parameters: ParameterSet<T>, network: Network) {
        let n = population.size
        func transpose(_ blocks: [PopulationLayout.Block], into out: ScalarBuffer<T>) {
            for block in blocks {
                parameters[network.projections[block.projection].name].withUnsafeBufferPointer { weights in
                    guard let weights = weights.baseAddress else { return }
                    LinearAlgebra.transpose(weights, rows: n, columns: block.width, sourceStride: block.width,
                                            into: out.pointer + block.offset * n, outStride: n)
                }
            }
        }
        transpose(layout.within, into: withinWeightsTransposed)
        transpose(layout.delayed, into: delayedWeightsTransposed)
        if let column = layout.biasColumn {
            let bias = parameters[network.biasName(index)]
            for j in 0..<n { withinWeightsTransposed[column * n + j] = bias[j] }
        }
        for (parameter, buffer) in zip(population.parameters, parameterBuffers) {
            let values = parameter.trainable ? parameters[Network.parameterTensorName(population: population.name, parameter: parameter.name)] : parameter.values.map { T($0) }
            for b in 0..<batch {
                for j in 0..<n { buffer[b * n + j] = values[values.count == 1 ? 0 : j] }
            }
        }
    }

    /// Initial state, no spikes.
    func reset() {
        for (buffer, initial) in zip(state, neuron.initialState) {
            buffer.pointer.update(repeating: T(initial), count: buffer.count)
        }
        spike.zero()
        previousSpike.zero()
        activeSpikes.find(in: spike.pointer)
        previousSpikeGradientBuffers.forEach { $0.zero() }
        entryBuffers.forEach { $0.zero() }
        blocks = makeBlocks()
    }

    /// z_t becomes z_{t−1} (and c_t becomes c_{t−1}): the first half of a step, taken by every
    /// population before any of them advances.
    func shiftSpikes() {
        swap(&spike, &previousSpike)
        swap(&activeSpikes, &previousActiveSpikes)
        // Keep c_{t−1}: the kernel overwrites the entry buffers.
        for (index, entry) in kernel.entries.enumerated() {
            if case .spikeGradient = entry { swap(&entryBuffers[index], &previousSpikeGradientBuffers[index]) }
        }
    }

    /// The second half: I_t = W_in x̂_t + W_rec ẑ_t, then the kernel. x̂ and ẑ are in place.
    func advance() {
        let n = population.size
        activePresynaptic.find(in: presynaptic.pointer)
        current.zero()
        LinearAlgebra.accumulateSparseProduct(into: current.pointer, weights: withinWeightsTransposed.pointer, input: presynaptic.pointer,
                                              nonZero: activePresynaptic, rows: layout.withinColumns, columns: n)
        if layout.delayedColumns > 0 {
            LinearAlgebra.accumulateSparseProduct(into: current.pointer, weights: delayedWeightsTransposed.pointer, input: delayedPresynaptic,
                                                  nonZero: activeDelayed, rows: layout.delayedColumns, columns: n)
        }
        let statePointers = state.map(\.pointer)
        kernel.run(previousState: statePointers.map { UnsafePointer($0) }, previousSpike: previousSpike.pointer, current: current.pointer,
                   newState: statePointers, spike: spike.pointer, entryOutputs: entryBuffers.map(\.pointer),
                   parameters: parameterBuffers.map { UnsafePointer($0.pointer) }, count: batch * n)
        activeSpikes.find(in: spike.pointer)
        blocks = makeBlocks()
    }

    /// The varying entries the kernel writes, in `entryBuffers` order.
    var entries: [CompiledNeuron.BlockEntry] { kernel.entries }

    private func makeBlocks() -> BlockValues<T> {
        blocks(from: entryBuffers, previousSpikeGradient: previousSpikeGradientBuffers)
    }

    /// Blocks whose varying entries are read from `buffers` (laid out as `entryBuffers`).
    func blocks(from buffers: [ScalarBuffer<T>], previousSpikeGradient: [ScalarBuffer<T>]) -> BlockValues<T> {
        BlockValues(stateJacobian: sources.stateJacobian.map { $0.map { $0.value(buffers) } },
                    ownSpikeGain: sources.ownSpikeGain.map { $0.value(buffers) },
                    currentGain: sources.currentGain.map { $0.value(buffers) },
                    spikeGradient: sources.spikeGradient.map { $0.value(buffers) },
                    previousSpikeGradient: sources.spikeGradient.map { $0.value(previousSpikeGradient) },
                    parameterGain: sources.parameterGain.map { $0.map { $0.value(buffers) } },
                    spikeParameterGain: sources.spikeParameterGain.map { $0.value(buffers) })
    }

    /// Each block entry as zero, a folded constant, or the index of the kernel output holding it.
    struct EntrySources {
        enum Source {
            case zero, constant(T), output(Int)

            func value(_ buffers: [ScalarBuffer<T>]) -> EntryValue<T> {
                switch self {
                case .zero: return .zero
                case .constant(let value): return .constant(value)
                case .output(let index): return .varying(buffers[index].pointer)
                }
            }
        }

        let stateJacobian: [[Source]]
        let ownSpikeGain: [Source]
        let currentGain: [Source]
        let spikeGradient: [Source]
        /// [m][trained q] and [trained q] (empty without trained parameters).
        let parameterGain: [[Source]]
        let spikeParameterGain: [Source]

        init(neuron: CompiledNeuron, kernel: NeuronStepKernel<T>, trained: [Int]) {
            func source(_ entry: CompiledNeuron.BlockEntry) -> Source {
                if let constant = neuron.expression(of: entry).constantValue {
                    return constant == 0 ? .zero : .constant(T(constant))
                }
                return .output(kernel.index(of: entry)!)
            }
            let k = neuron.stateCount
            stateJacobian = (0..<k).map { i in (0..<k).map { source(.stateJacobian(row: i, column: $0)) } }
            ownSpikeGain = (0..<k).map { source(.ownSpikeGain($0)) }
            currentGain = (0..<k).map { source(.currentGain($0)) }
            spikeGradient = (0..<k).map { source(.spikeGradient($0)) }
            // Empty without trained parameters, so that building a step's blocks allocates nothing for them.
            parameterGain = trained.isEmpty ? [] : (0..<k).map { m in trained.map { source(.parameterGain(state: m, parameter: $0)) } }
            spikeParameterGain = trained.map { source(.spikeParameterGain($0)) }
        }
    }

    /// Bytes held (presynaptic vectors, state, spikes, blocks, weights copy).
    var bytes: Int {
        ([presynaptic, gatheredDelayed, previousSpike, spike, current, withinWeightsTransposed, delayedWeightsTransposed] + state + entryBuffers
            + previousSpikeGradientBuffers + parameterBuffers).map(\.bytes).reduce(0, +)
            + activePresynaptic.bytes + activeGatheredDelayed.bytes + activeSpikes.bytes + previousActiveSpikes.bytes
    }
}
