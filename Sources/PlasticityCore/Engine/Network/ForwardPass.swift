import PlasticityBase

/// Runs a network forward one time step at a time for a batch, and exposes what every
/// learning rule reads: each population's presynaptic values, previous and new spikes and
/// annotated blocks (`populations`), and the readout.
///
/// Per step: every population's z_t becomes z_{t−1}; then, in step order, each population
/// gathers x̂_t (the input, and z_t of populations already stepped) and ẑ_t (z_{t−1} of its
/// delayed sources) and advances; then y_t = κ y_{t−1} + Σ_p W_out^p z_t^p + b_out.
public final class ForwardPass<T: KernelScalar> {
    public let network: Network
    public let batch: Int
    /// Masked, as every rule must see them.
    public private(set) var parameters: ParameterSet<T>
    /// The parameters the weights were last set from (before masking), kept so that their
    /// storage identifies them (`ParameterSet.sharesStorage`).
    private var setFrom: ParameterSet<T>?
    /// Each projection's weights (target × source) and the readout's weights per read
    /// population (C × N_p), from `parameters`: what the rules read every step, looked up once
    /// per update rather than by name every step.
    private(set) var projectionWeights: [[T]] = []
    private(set) var readoutWeights: [Int: [T]] = [:]
    /// In step order.
    public let populations: [PopulationPass<T>]
    /// y_t (B×C).
    public let readout: ScalarBuffer<T>
    /// z_t of the populations the readout reads, concatenated (B × ΣN_read): the readout's
    /// presynaptic values. Set each step.
    public private(set) var readSpikes: UnsafeMutablePointer<T>
    private(set) var activeReadSpikes: NonZeroEntries<T>
    /// The concatenation, when the readout reads several populations.
    private let gatheredReadSpikes: ScalarBuffer<T>
    private let activeGatheredReadSpikes: NonZeroEntries<T>
    /// W_out transposed (ΣN_read × C), and b_out.
    private let readoutWeightsTransposed: ScalarBuffer<T>
    private let readoutBias: ScalarBuffer<T>

    public init(network: Network, parameters: ParameterSet<T>, batch: Int, spikes: ExpressionGraph.SpikeMode = .heaviside) throws {
        guard batch > 0 else { throw PlasticityError.invalidConfiguration("the batch must hold at least one sequence") }
        self.network = network
        self.batch = batch
        populations = network.populations.indices.map { PopulationPass(index: $0, network: network, batch: batch, spikes: spikes) }
        readout = ScalarBuffer(count: batch * network.outputs)
        let several = network.readout.sources.count > 1
        gatheredReadSpikes = ScalarBuffer(count: several ? batch * network.readNeuronCount : 0)
        activeGatheredReadSpikes = NonZeroEntries(batch: batch, width: several ? network.readNeuronCount : 0)
        readSpikes = gatheredReadSpikes.pointer
        activeReadSpikes = activeGatheredReadSpikes
        readoutWeightsTransposed = ScalarBuffer(count: network.readNeuronCount * network.outputs)
        readoutBias = ScalarBuffer(count: network.outputs)
        self.parameters = parameters
        try setParameters(parameters)
        reset()
    }

    public var outputs: Int { network.outputs }
    public var inputs: Int { network.inputs }

    /// Replaces the weights (names and sizes must match the network; masked entries are zeroed).
    public func setParameters(_ parameters: ParameterSet<T>) throws {
        // A worker's rule takes the batch's shards one after another with the same weights:
        // masking and transposing them again for each cost ~0.4 ms a shard at SHD's size.
        if let setFrom, setFrom.sharesStorage(with: parameters) { return }
        try parameters.check(against: network)
        self.parameters = network.masked(parameters)
        projectionWeights = network.projections.map { self.parameters[$0.name] }
        readoutWeights = Dictionary(uniqueKeysWithValues: network.readout.sources.map { ($0, self.parameters[network.readoutWeightName($0)]) })
        populations.forEach { $0.setWeights(self.parameters, network: network) }
        var column = 0
        let outputs = network.outputs
        readoutBias.pointer.update(from: self.parameters[Network.readoutBiasName], count: outputs)
        for source in network.readout.sources {
            let n = network.populations[source].size
            readoutWeights[source]!.withUnsafeBufferPointer { weights in
                guard let weights = weights.baseAddress else { return }
                LinearAlgebra.transpose(weights, rows: outputs, columns: n, sourceStride: n,
                                        into: readoutWeightsTransposed.pointer + column * outputs, outStride: outputs)
            }
            column += n
        }
        setFrom = parameters
    }

    /// Starts new sequences: initial state, no spikes, zero readout.
    public func reset() {
        populations.forEach { $0.reset() }
        readout.zero()
        pointAtReadSpikes()
    }

    /// Advances every sequence by one step with inputs x_t (B×I).
    public func step(input: UnsafePointer<T>) {
        populations.forEach { $0.shiftSpikes() }
        for population in populations {
            gatherPresynaptic(of: population, input: input, spikes: { UnsafePointer(self.populations[$0].spike.pointer) })
            pointAtDelayed(of: population)
            population.advance()
        }
        pointAtReadSpikes()
        let decay = T(network.readoutDecay), outputs = network.outputs
        for b in 0..<batch {
            let row = readout.pointer + b * outputs
            for c in 0..<outputs { row[c] = decay * row[c] + readoutBias[c] }
        }
        LinearAlgebra.accumulateSparseProduct(into: readout.pointer, weights: readoutWeightsTransposed.pointer, input: readSpikes,
                                              nonZero: activeReadSpikes, rows: network.readNeuronCount, columns: outputs)
    }

    /// The first state value that is NaN or infinite, named by model, population, state
    /// variable, neuron and batch element; nil if every state is finite. A model whose state
    /// breaks down would otherwise go silent (a NaN never crosses threshold) and train on.
    /// Cheap enough for every step: a vectorised test of the exponent bits, and the search only
    /// on failure.
    public func firstNonFiniteState() -> (description: String, value: Double)? {
        for population in populations {
            for (variable, buffer) in population.state.enumerated() {
                let values = buffer.pointer
                guard !ScalarLoops.allFinite(UnsafeBufferPointer(start: values, count: buffer.count)), let bad = (0..<buffer.count).first(where: { !values[$0].isFinite }) else { continue }
                let n = population.size
                return ("state \(population.neuron.stateNames[variable]) of neuron \(bad % n) (batch element \(bad / n)) in population '\(population.population.name)' (model \(population.neuron.name))",
                        Double(values[bad]))
            }
        }
        return nil
    }

    /// x̂_t of `population` from the input and `spikes(q)`, z_t of each within-step source q.
    func gatherPresynaptic(of population: PopulationPass<T>, input: UnsafePointer<T>, spikes: (Int) -> UnsafePointer<T>) {
        let layout = population.layout
        layout.gather(layout.within, columns: layout.withinColumns, into: population.presynaptic.pointer, batch: batch,
                      input: input, spikes: spikes, bias: true)
    }

    /// ẑ_t: a sole delayed source's z_{t−1} itself, or several gathered.
    private func pointAtDelayed(of population: PopulationPass<T>) {
        let layout = population.layout
        if let source = layout.soleDelayedSource {
            population.delayedPresynaptic = populations[source].previousSpike.pointer
            population.activeDelayed = populations[source].previousActiveSpikes
        } else if layout.delayedColumns > 0 {
            gatherDelayed(of: population, into: population.gatheredDelayed.pointer) { UnsafePointer(self.populations[$0].previousSpike.pointer) }
            population.activeGatheredDelayed.find(in: population.gatheredDelayed.pointer)
        }
    }

    /// ẑ of `population` (B × delayedColumns) from `previousSpikes(q)`, z_{t−1} of each delayed source q.
    func gatherDelayed(of population: PopulationPass<T>, into out: UnsafeMutablePointer<T>, previousSpikes: (Int) -> UnsafePointer<T>) {
        let layout = population.layout
        layout.gather(layout.delayed, columns: layout.delayedColumns, into: out, batch: batch,
                      input: nil, spikes: previousSpikes, bias: false)
    }

    private func pointAtReadSpikes() {
        let sources = network.readout.sources
        if sources.count == 1 {
            readSpikes = populations[sources[0]].spike.pointer
            activeReadSpikes = populations[sources[0]].activeSpikes
            return
        }
        gatherReadSpikes(into: gatheredReadSpikes.pointer) { UnsafePointer(self.populations[$0].spike.pointer) }
        activeGatheredReadSpikes.find(in: gatheredReadSpikes.pointer)
    }

    /// The read populations' spikes `spikes(p)` concatenated into `out` (B × ΣN_read).
    func gatherReadSpikes(into out: UnsafeMutablePointer<T>, spikes: (Int) -> UnsafePointer<T>) {
        let width = network.readNeuronCount
        var column = 0
        for source in network.readout.sources {
            let n = network.populations[source].size, values = spikes(source)
            for b in 0..<batch { (out + b * width + column).update(from: values + b * n, count: n) }
            column += n
        }
    }

    /// What `restore` needs to continue from this point: state, last spikes and readout.
    struct Snapshot {
        let state: [[[T]]]
        let spike: [[T]]
        let readout: [T]
        var bytes: Int {
            (state.joined().map(\.count).reduce(0, +) + spike.map(\.count).reduce(0, +) + readout.count) * MemoryLayout<T>.stride
        }
    }

    func snapshot() -> Snapshot {
        Snapshot(state: populations.map { $0.state.map(\.array) }, spike: populations.map(\.spike.array), readout: readout.array)
    }

    func restore(_ snapshot: Snapshot) {
        for (population, (state, spike)) in zip(populations, zip(snapshot.state, snapshot.spike)) {
            for (buffer, values) in zip(population.state, state) { buffer.pointer.update(from: values, count: values.count) }
            population.spike.pointer.update(from: spike, count: spike.count)
            population.activeSpikes.find(in: population.spike.pointer)
        }
        readout.pointer.update(from: snapshot.readout, count: snapshot.readout.count)
        pointAtReadSpikes()
    }

    /// Bytes held by the forward pass (state, spikes, blocks, weights copies).
    public var bytes: Int {
        populations.map(\.bytes).reduce(0, +) + readout.bytes + gatheredReadSpikes.bytes + activeGatheredReadSpikes.bytes + readoutWeightsTransposed.bytes
            + readoutBias.bytes
    }
}
