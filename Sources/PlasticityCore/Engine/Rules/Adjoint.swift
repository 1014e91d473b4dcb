import PlasticityBase

/// BPTT's adjoints carried backwards through time over a network graph, and the gradients
/// they produce (the recursion is written out on `BPTT`).
final class NetworkAdjoint<T: KernelScalar> {
    let network: Network
    let batch: Int
    private let populations: [PopulationAdjoint<T>]
    private let filteredDelta: ScalarBuffer<T>      // δ̃
    /// The read populations' spikes concatenated, when there are several (B × ΣN_read).
    private let readSpikes: ScalarBuffer<T>
    // Accumulated transposed ([presynaptic][postsynaptic]) so that each spike adds one
    // contiguous row and the zeros cost nothing.
    private let readoutWeightGradient: ScalarBuffer<T>  // [ΣN_read][c]
    private let readoutBiasGradient: ScalarBuffer<T>
    /// The forward pass: its weights, and its buffers to gather presynaptic values into.
    private let gatherer: ForwardPass<T>

    init(forward: ForwardPass<T>, spikeErrors: [ScalarBuffer<T>]?) {
        network = forward.network
        batch = forward.batch
        let network = forward.network
        gatherer = forward
        populations = forward.populations.map { population in
            let outgoing = network.projections.filter { $0.source == .population(population.index) }
            return PopulationAdjoint(population: population, network: network, spikeError: spikeErrors?[population.index],
                                     feedsWithinStep: outgoing.contains { !$0.delayed }, feedsDelayed: outgoing.contains(where: \.delayed))
        }
        filteredDelta = ScalarBuffer(count: batch * network.outputs)
        readSpikes = ScalarBuffer(count: network.readout.sources.count > 1 ? batch * network.readNeuronCount : 0)
        readoutWeightGradient = ScalarBuffer(count: network.readNeuronCount * network.outputs)
        readoutBiasGradient = ScalarBuffer(count: network.outputs)
    }

    var bytes: Int {
        populations.map(\.bytes).reduce(0, +) + [filteredDelta, readSpikes, readoutWeightGradient, readoutBiasGradient].map(\.bytes).reduce(0, +)
    }

    /// One step back: `blocks(p)` of population p, `spikes(q)` = z_t^q, `previousSpikes(q)` = z_{t−1}^q,
    /// δ_t and x_t.
    func backwardStep(blocks: (Int) -> BlockValues<T>, spikes: (Int) -> UnsafePointer<T>, previousSpikes: (Int) -> UnsafePointer<T>,
                      delta: UnsafePointer<T>, input: UnsafePointer<T>) {
        let outputs = network.outputs
        let decay = T(network.readoutDecay)
        for index in 0..<(batch * outputs) { filteredDelta[index] = delta[index] + decay * filteredDelta[index] }
        // The readout: ∂E/∂z_t of each read population, and its own gradients.
        for adjoint in populations where !adjoint.isRead { adjoint.spikeAdjoint.zero() }
        for source in network.readout.sources {
            gatherer.readoutWeights[source]!.withUnsafeBufferPointer { w in
                LinearAlgebra.transposedProduct(into: populations[source].spikeAdjoint.pointer, weights: w.baseAddress!, input: filteredDelta.pointer,
                                                batch: batch, rows: outputs, columns: network.populations[source].size)
            }
        }
        var read = spikes(network.readout.sources[0])
        if network.readout.sources.count > 1 {
            gatherer.gatherReadSpikes(into: readSpikes.pointer, spikes: spikes)
            read = UnsafePointer(readSpikes.pointer)
        }
        LinearAlgebra.accumulateSparseOuterProducts(intoTransposed: readoutWeightGradient.pointer, left: filteredDelta.pointer, right: read,
                                                    batch: batch, rows: outputs, columns: network.readNeuronCount)
        for b in 0..<batch {
            for c in 0..<outputs { readoutBiasGradient[c] += filteredDelta[b * outputs + c] }
        }
        // Downstream before upstream: a within-step source receives W_qpᵀ g_t^p before its own step.
        for adjoint in populations.reversed() {
            let p = adjoint.index, population = gatherer.populations[p]
            adjoint.backward(blocks: blocks(p))
            gatherer.gatherPresynaptic(of: population, input: input, spikes: spikes)
            adjoint.accumulateGradients(within: population.presynaptic.pointer)
            if let source = adjoint.layout.soleDelayedSource {
                adjoint.accumulateGradients(delayed: previousSpikes(source))
            } else if adjoint.layout.delayedColumns > 0 {
                gatherer.gatherDelayed(of: population, into: adjoint.delayedPresynaptic.pointer, previousSpikes: previousSpikes)
                adjoint.accumulateGradients(delayed: adjoint.delayedPresynaptic.pointer)
            }
            for carry in adjoint.carries {
                let target = carry.delayed ? populations[carry.source].delayedCarryNext : populations[carry.source].sameStepCarry
                gatherer.projectionWeights[carry.projection].withUnsafeBufferPointer { w in
                    LinearAlgebra.accumulateSparseProduct(into: target.pointer, weights: w.baseAddress!, input: adjoint.currentAdjoint.pointer,
                                                          batch: batch, rows: adjoint.layout.size, columns: carry.width)
                }
            }
        }
        populations.forEach { $0.endStep() }
    }

    var gradients: ParameterSet<T> {
        let within = populations.map { LinearAlgebra.transposed($0.withinGradient.pointer, rows: $0.layout.withinColumns, columns: $0.layout.size) }
        let delayed = populations.map { LinearAlgebra.transposed($0.delayedGradient.pointer, rows: $0.layout.delayedColumns, columns: $0.layout.size) }
        let readout = LinearAlgebra.transposed(readoutWeightGradient.pointer, rows: network.readNeuronCount, columns: network.outputs)
        return GradientAssembly.assemble(network: network, within: within.map { ScalarBuffer($0) }, delayed: delayed.map { ScalarBuffer($0) },
                                         readoutWeights: ScalarBuffer(readout), readoutBias: readoutBiasGradient,
                                         neuronParameters: populations.map(\.parameterGradient))
    }
}

/// One population's adjoints and weight gradients.
private final class PopulationAdjoint<T: KernelScalar> {
    let index: Int
    let layout: PopulationLayout
    let stateCount: Int, batch: Int
    private let lambda: [ScalarBuffer<T>]           // λ_t^m, [b][j]
    private let stateCarry: [ScalarBuffer<T>]       // Σ_m A_{t+1}^{mn} λ_{t+1}^m
    private let ownCarry: ScalarBuffer<T>           // Σ_m r_{t+1}^m λ_{t+1}^m
    /// Σ W_pqᵀ g^q over delayed projections out of this population: written at step t+1
    /// (`delayedCarryNext`), read at step t (`delayedCarry`).
    private(set) var delayedCarry: ScalarBuffer<T>
    private(set) var delayedCarryNext: ScalarBuffer<T>
    /// Σ W_pqᵀ g_t^q over within-step projections out of this population, at this step.
    let sameStepCarry: ScalarBuffer<T>
    /// ∂E/∂z_t: the readout's part is written before `backward`.
    let spikeAdjoint: ScalarBuffer<T>
    let currentAdjoint: ScalarBuffer<T>             // g_t
    let delayedPresynaptic: ScalarBuffer<T>         // ẑ_t, when gathered from several populations
    let withinGradient: ScalarBuffer<T>             // [column][j], bias column last
    let delayedGradient: ScalarBuffer<T>            // [column][j]
    /// Per trained neuron parameter, Σ_t Σ_b (λ_t·∂F/∂θ + ∂E/∂z_t·∂z_t/∂θ) per neuron [j].
    let parameterGradient: [ScalarBuffer<T>]
    private let parameterScratch: ScalarBuffer<T>    // [b][j]
    /// ∂E/∂z_t directly on the spikes (B×N), if any.
    private let spikeError: ScalarBuffer<T>?
    /// Whether projections out of this population carry adjoints back to it: within the step
    /// (`sameStepCarry`) or from the next step (`delayedCarry`).
    private let feedsWithinStep: Bool, feedsDelayed: Bool

    /// A projection from a population into this one, through which g_t^p is carried back.
    struct Carry {
        let projection: Int
        let source: Int
        let delayed: Bool
        let width: Int
    }

    /// The projections from populations into this one.
    let carries: [Carry]
    /// Whether the readout reads this population.
    let isRead: Bool

    init(population: PopulationPass<T>, network: Network, spikeError: ScalarBuffer<T>?, feedsWithinStep: Bool, feedsDelayed: Bool) {
        index = population.index
        carries = (population.layout.within + population.layout.delayed).compactMap { block in
            guard case .population(let source) = block.source else { return nil }
            return Carry(projection: block.projection, source: source, delayed: network.projections[block.projection].delayed, width: block.width)
        }
        isRead = network.readout.sources.contains(population.index)
        self.feedsWithinStep = feedsWithinStep
        self.feedsDelayed = feedsDelayed
        layout = population.layout
        stateCount = population.neuron.stateCount
        batch = population.batch
        self.spikeError = spikeError
        let size = batch * layout.size
        lambda = (0..<stateCount).map { _ in ScalarBuffer(count: size) }
        stateCarry = (0..<stateCount).map { _ in ScalarBuffer(count: size) }
        ownCarry = ScalarBuffer(count: size)
        delayedCarry = ScalarBuffer(count: size)
        delayedCarryNext = ScalarBuffer(count: size)
        sameStepCarry = ScalarBuffer(count: size)
        spikeAdjoint = ScalarBuffer(count: size)
        currentAdjoint = ScalarBuffer(count: size)
        delayedPresynaptic = ScalarBuffer(count: layout.soleDelayedSource == nil ? batch * layout.delayedColumns : 0)
        withinGradient = ScalarBuffer(count: layout.size * layout.withinColumns)
        delayedGradient = ScalarBuffer(count: layout.size * layout.delayedColumns)
        parameterGradient = population.trainedParameters.map { _ in ScalarBuffer(count: population.size) }
        parameterScratch = ScalarBuffer(count: population.trainedParameters.isEmpty ? 0 : size)
    }

    var bytes: Int {
        (lambda + stateCarry + [ownCarry, delayedCarry, delayedCarryNext, sameStepCarry, spikeAdjoint, currentAdjoint, delayedPresynaptic,
                                withinGradient, delayedGradient, parameterScratch] + parameterGradient).map(\.bytes).reduce(0, +)
    }

    /// ∂E/∂z_t in full, then, one vectorisable loop per block entry: λ_m = dz·c_m + Σ_q A_qm λ'_q
    /// (carried), g = Σ_m b_m λ_m, and the carries to step t−1.
    func backward(blocks: BlockValues<T>) {
        let k = stateCount, size = batch * layout.size
        let dz = spikeAdjoint.pointer
        for element in 0..<size { dz[element] += ownCarry[element] }
        if feedsDelayed { for element in 0..<size { dz[element] += delayedCarry[element] } }
        if feedsWithinStep { for element in 0..<size { dz[element] += sameStepCarry[element] } }
        if let spikeError { for element in 0..<size { dz[element] += spikeError[element] } }
        currentAdjoint.zero()
        ownCarry.zero()
        for m in 0..<k {
            lambda[m].pointer.update(from: stateCarry[m].pointer, count: size)
            blocks.spikeGradient[m].accumulateProduct(into: lambda[m].pointer, with: dz, count: size)
            blocks.currentGain[m].accumulateProduct(into: currentAdjoint.pointer, with: lambda[m].pointer, count: size)
            blocks.ownSpikeGain[m].accumulateProduct(into: ownCarry.pointer, with: lambda[m].pointer, count: size)
        }
        for q in 0..<k {
            stateCarry[q].zero()
            for m in 0..<k { blocks.stateJacobian[m][q].accumulateProduct(into: stateCarry[q].pointer, with: lambda[m].pointer, count: size) }
        }
        accumulateParameterGradients(blocks: blocks)
    }

    /// dE/dθ_j += Σ_b Σ_m λ_t^m ∂F_m/∂θ + ∂E/∂z_t ∂z_t/∂θ: the step's direct use of each
    /// trained parameter, weighted by the adjoints of what it produced.
    private func accumulateParameterGradients(blocks: BlockValues<T>) {
        let n = layout.size, size = batch * n
        for (q, gradient) in parameterGradient.enumerated() {
            parameterScratch.zero()
            for m in 0..<stateCount { blocks.parameterGain[m][q].accumulateProduct(into: parameterScratch.pointer, with: lambda[m].pointer, count: size) }
            blocks.spikeParameterGain[q].accumulateProduct(into: parameterScratch.pointer, with: spikeAdjoint.pointer, count: size)
            for b in 0..<batch {
                for j in 0..<n { gradient[j] += parameterScratch[b * n + j] }
            }
        }
    }

    /// g_tᵀ x̂_t into the within-step weights' gradient.
    func accumulateGradients(within presynaptic: UnsafePointer<T>) {
        LinearAlgebra.accumulateSparseOuterProducts(intoTransposed: withinGradient.pointer, left: currentAdjoint.pointer, right: presynaptic,
                                                    batch: batch, rows: layout.size, columns: layout.withinColumns)
    }

    /// g_tᵀ ẑ_t into the delayed weights' gradient.
    func accumulateGradients(delayed presynaptic: UnsafePointer<T>) {
        LinearAlgebra.accumulateSparseOuterProducts(intoTransposed: delayedGradient.pointer, left: currentAdjoint.pointer, right: presynaptic,
                                                    batch: batch, rows: layout.size, columns: layout.delayedColumns)
    }

    /// What this step wrote for step t−1 becomes what it reads; the same-step carry restarts.
    func endStep() {
        if feedsDelayed {
            swap(&delayedCarry, &delayedCarryNext)
            delayedCarryNext.zero()
        }
        if feedsWithinStep { sameStepCarry.zero() }
    }
}
