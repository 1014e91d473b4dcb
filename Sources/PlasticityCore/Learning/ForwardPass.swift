/// Runs a network forward one time step at a time for a batch, and exposes what every
/// learning rule reads: the presynaptic values, the previous and new spikes, the readout and
/// the step's annotated blocks.
///
/// Per step: I_t = W_in x_t + W_rec z_{t−1} + bias; (h_t, z_t, blocks) = kernel(h_{t−1}, z_{t−1}, I_t);
/// y_t = κ y_{t−1} + W_out z_t + b_out. Layouts are [batch][neuron].
public final class ForwardPass<T: KernelScalar> {
    public let shape: NetworkShape
    public let batch: Int
    public let neuron: CompiledNeuron
    public private(set) var parameters: ParameterSet<T>
    /// x̂ for the input weights: x_t, plus a 1 in the last column when the network has a bias.
    public let presynaptic: ScalarBuffer<T>
    /// z_{t−1} and z_t.
    public private(set) var previousSpike: ScalarBuffer<T>
    public private(set) var spike: ScalarBuffer<T>
    /// Where x̂_t, z_{t−1} and z_t are non-zero.
    let activeInputs: NonZeroEntries<T>
    private(set) var previousActiveSpikes: NonZeroEntries<T>
    private(set) var activeSpikes: NonZeroEntries<T>
    /// h_t, one array per state variable (updated in place).
    public let state: [ScalarBuffer<T>]
    public let current: ScalarBuffer<T>
    /// y_t (B×C).
    public let readout: ScalarBuffer<T>
    /// The blocks of the step just taken.
    public private(set) var blocks: BlockValues<T>

    private let kernel: NeuronStepKernel<T>
    /// W_in with the bias as a last column, transposed (inputColumns × N), and W_rec and
    /// W_out transposed: presynaptic-major, so a zero presynaptic value skips a whole row.
    private let inputWeightsTransposed: ScalarBuffer<T>
    private let recurrentWeightsTransposed: ScalarBuffer<T>
    private let outputWeightsTransposed: ScalarBuffer<T>
    /// The varying block entries of the step just taken, in `entries` order.
    private(set) var entryBuffers: [ScalarBuffer<T>]
    /// Where each block entry's value comes from, resolved once from the model's expressions
    /// so that building a step's `BlockValues` consults none of them.
    private let sources: EntrySources
    private var previousSpikeGradientBuffers: [ScalarBuffer<T>]

    public init(network: Network, parameters: ParameterSet<T>, batch: Int, spikes: ExpressionGraph.SpikeMode = .heaviside) throws {
        shape = network.shape
        neuron = network.neuron
        self.batch = batch
        guard batch > 0 else { throw PlasticityError.invalidConfiguration("the batch must hold at least one sequence") }
        let size = batch * shape.hidden
        kernel = neuron.makeStepKernel(T.self, spikes: spikes)
        presynaptic = ScalarBuffer(count: batch * shape.inputColumns)
        previousSpike = ScalarBuffer(count: size)
        spike = ScalarBuffer(count: size)
        activeInputs = NonZeroEntries(batch: batch, width: shape.inputColumns)
        previousActiveSpikes = NonZeroEntries(batch: batch, width: shape.hidden)
        activeSpikes = NonZeroEntries(batch: batch, width: shape.hidden)
        state = (0..<neuron.stateCount).map { _ in ScalarBuffer(count: size) }
        current = ScalarBuffer(count: size)
        readout = ScalarBuffer(count: batch * shape.outputs)
        inputWeightsTransposed = ScalarBuffer(count: shape.hidden * shape.inputColumns)
        recurrentWeightsTransposed = ScalarBuffer(count: shape.recurrent ? shape.hidden * shape.hidden : 0)
        outputWeightsTransposed = ScalarBuffer(count: shape.outputs * shape.hidden)
        entryBuffers = kernel.entries.map { _ in ScalarBuffer(count: size) }
        sources = EntrySources(neuron: neuron, kernel: kernel)
        previousSpikeGradientBuffers = kernel.entries.map { _ in ScalarBuffer(count: size) }
        self.parameters = parameters
        blocks = BlockValues(stateJacobian: [], ownSpikeGain: [], currentGain: [], spikeGradient: [], previousSpikeGradient: [])
        try setParameters(parameters)
        reset()
    }

    /// Replaces the weights (shapes must match the network).
    public func setParameters(_ parameters: ParameterSet<T>) throws {
        let zeros = ParameterSet<T>(zerosFor: shape)
        for (given, expected) in zip(parameters.named, zeros.named) where given.values.count != expected.values.count {
            throw PlasticityError.shapeMismatch(name: given.name, expected: "\(expected.values.count) values", found: "\(given.values.count) values")
        }
        self.parameters = parameters
        let n = shape.hidden
        for j in 0..<n {
            for i in 0..<shape.inputs { inputWeightsTransposed[i * n + j] = parameters.inputWeights[j * shape.inputs + i] }
            if shape.bias { inputWeightsTransposed[shape.inputs * n + j] = parameters.bias[j] }
            if shape.recurrent {
                for l in 0..<n { recurrentWeightsTransposed[l * n + j] = parameters.recurrentWeights[j * n + l] }
            }
            for c in 0..<shape.outputs { outputWeightsTransposed[j * shape.outputs + c] = parameters.outputWeights[c * n + j] }
        }
    }

    /// Starts new sequences: initial state, no spikes, zero readout.
    public func reset() {
        for (buffer, initial) in zip(state, neuron.initialState) {
            buffer.pointer.update(repeating: T(initial), count: buffer.count)
        }
        spike.zero()
        previousSpike.zero()
        activeSpikes.find(in: spike.pointer)
        readout.zero()
        previousSpikeGradientBuffers.forEach { $0.zero() }
        entryBuffers.forEach { $0.zero() }
        blocks = makeBlocks()
    }

    /// Advances every sequence by one step with inputs x_t (B×I).
    public func step(input: UnsafePointer<T>) {
        let n = shape.hidden, columns = shape.inputColumns
        swap(&spike, &previousSpike)
        swap(&activeSpikes, &previousActiveSpikes)
        // Keep c_{t−1}: the kernel overwrites the entry buffers.
        for (index, entry) in kernel.entries.enumerated() {
            if case .spikeGradient = entry { swap(&entryBuffers[index], &previousSpikeGradientBuffers[index]) }
        }
        for b in 0..<batch {
            (presynaptic.pointer + b * columns).update(from: input + b * shape.inputs, count: shape.inputs)
            if shape.bias { presynaptic[b * columns + shape.inputs] = 1 }
        }
        activeInputs.find(in: presynaptic.pointer)
        current.zero()
        LinearAlgebra.accumulateSparseProduct(into: current.pointer, weights: inputWeightsTransposed.pointer, input: presynaptic.pointer,
                                              nonZero: activeInputs, rows: columns, columns: n)
        if shape.recurrent {
            LinearAlgebra.accumulateSparseProduct(into: current.pointer, weights: recurrentWeightsTransposed.pointer, input: previousSpike.pointer,
                                                  nonZero: previousActiveSpikes, rows: n, columns: n)
        }
        let statePointers = state.map(\.pointer)
        kernel.run(previousState: statePointers.map { UnsafePointer($0) }, previousSpike: previousSpike.pointer, current: current.pointer,
                   newState: statePointers, spike: spike.pointer, entryOutputs: entryBuffers.map(\.pointer), count: batch * n)
        let decay = T(shape.readoutDecay), outputs = shape.outputs
        for index in 0..<(batch * outputs) { readout[index] = decay * readout[index] + parameters.outputBias[index % outputs] }
        activeSpikes.find(in: spike.pointer)
        LinearAlgebra.accumulateSparseProduct(into: readout.pointer, weights: outputWeightsTransposed.pointer, input: spike.pointer,
                                              nonZero: activeSpikes, rows: n, columns: outputs)
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
                    previousSpikeGradient: sources.spikeGradient.map { $0.value(previousSpikeGradient) })
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

        init(neuron: CompiledNeuron, kernel: NeuronStepKernel<T>) {
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
        }
    }

    /// What `restore` needs to continue from this point: state, last spikes and readout.
    struct Snapshot {
        let state: [[T]]
        let spike: [T]
        let readout: [T]
        var bytes: Int { (state.map(\.count).reduce(0, +) + spike.count + readout.count) * MemoryLayout<T>.stride }
    }

    func snapshot() -> Snapshot { Snapshot(state: state.map(\.array), spike: spike.array, readout: readout.array) }

    func restore(_ snapshot: Snapshot) {
        for (buffer, values) in zip(state, snapshot.state) { buffer.pointer.update(from: values, count: values.count) }
        spike.pointer.update(from: snapshot.spike, count: snapshot.spike.count)
        activeSpikes.find(in: spike.pointer)
        readout.pointer.update(from: snapshot.readout, count: snapshot.readout.count)
    }

    /// Bytes held by the forward pass (state, spikes, blocks, weights copy).
    public var bytes: Int {
        ([presynaptic, previousSpike, spike, current, readout, inputWeightsTransposed, recurrentWeightsTransposed, outputWeightsTransposed] + state + entryBuffers + previousSpikeGradientBuffers).map(\.bytes).reduce(0, +)
            + activeInputs.bytes + activeSpikes.bytes + previousActiveSpikes.bytes
    }
}
