import PlasticityBase

/// The learning signal L_t^p of every population (B × N_p each), from the step's output
/// error δ_t (B×C):
///
/// - a population the readout reads gets δ_t F^p, with F^p its readout weights W_out^p
///   (symmetric feedback) or a fixed random C × N_p matrix (random feedback);
/// - with `deep` signals, a population the readout does not read gets either a fixed random
///   projection of δ_t (broadcast alignment) or, spatially, the error carried back through
///   every within-step projection q→p and the downstream population's immediate gain at the
///   same step: L^q_t += W_qpᵀ (L^p_t ⊙ c^p_t·b^p_t), local in time. With spatial signals a
///   read population that also feeds others within the step gets both parts.
final class LearningSignals<T: KernelScalar> {
    let network: Network
    let batch: Int
    /// Per population, B × N_p.
    let values: [ScalarBuffer<T>]
    private let feedback: Feedback
    private let deep: DeepFeedback?
    /// Whether the readout reads each population.
    private let isRead: [Bool]
    /// Per read population (in readout order), the random C × N_p feedback matrix.
    private let randomReadout: [Int: [T]]
    /// Per population the readout does not read, its broadcast matrix (C × N_p).
    private let broadcast: [Int: [T]]
    /// L^p ⊙ c^p·b^p, for spatial signals (B × N_p of the largest population).
    private let scaledSignal: ScalarBuffer<T>
    /// For spatial signals, per population p the within-step projections q→p from populations:
    /// (projection, q, N_q).
    private let spatialSources: [[(projection: Int, source: Int, width: Int)]]

    /// - Parameter deep: how populations the readout does not read learn; nil for RTRL, whose
    ///   influence already carries their effect on the readout (their L is then zero).
    /// - Parameter deferred: whether the loss gives its error only after the last step (spatial
    ///   signals, which change every step, cannot then be formed).
    init(network: Network, batch: Int, feedback: Feedback, deep: DeepFeedback?, deferred: Bool) throws {
        if deep == .spatial, deferred, network.projections.contains(where: { !$0.delayed && $0.source != .input }) {
            throw PlasticityError.invalidConfiguration("spatial learning signals change every step, but this loss gives its error only after the last step; use broadcast feedback for deeper populations, or a loss at every step")
        }
        self.network = network
        self.batch = batch
        self.feedback = feedback
        self.deep = deep
        values = network.populations.map { ScalarBuffer(count: batch * $0.size) }
        let isRead = network.populations.indices.map { network.readout.sources.contains($0) }
        self.isRead = isRead
        var random: [Int: [T]] = [:]
        if case .random(let seed) = feedback {
            var generator = SeededGenerator(seed: seed)
            let scale = 1 / Double(network.readNeuronCount).squareRoot()
            for source in network.readout.sources {
                random[source] = (0..<(network.outputs * network.populations[source].size)).map { _ in T(generator.nextGaussian() * scale) }
            }
        }
        randomReadout = random
        var broadcast: [Int: [T]] = [:]
        let unread = network.populations.indices.filter { !isRead[$0] }
        switch deep {
        case .broadcast(let seed)?:
            var generator = SeededGenerator(seed: seed)
            for p in unread {
                let scale = 1 / Double(network.populations[p].size).squareRoot()
                broadcast[p] = (0..<(network.outputs * network.populations[p].size)).map { _ in T(generator.nextGaussian() * scale) }
            }
        case .spatial?:
            for p in unread where !network.projections.contains(where: { !$0.delayed && $0.source == .population(p) }) {
                throw PlasticityError.invalidConfiguration("population '\(network.populations[p].name)' has no spatial learning signal: the readout does not read it and no population receives it within the step; use broadcast feedback for deeper populations")
            }
        case nil:
            break
        }
        self.broadcast = broadcast
        scaledSignal = ScalarBuffer(count: deep == .spatial ? batch * (network.populations.map(\.size).max() ?? 0) : 0)
        spatialSources = network.layouts.map { layout in
            deep != .spatial ? [] : layout.within.compactMap { block in
                guard case .population(let q) = block.source else { return nil }
                return (block.projection, q, block.width)
            }
        }
    }

    /// Computes every population's L_t from δ_t and, for spatial signals, the forward pass's
    /// current blocks and weights.
    func compute(delta: UnsafePointer<T>, forward: ForwardPass<T>) {
        let outputs = network.outputs
        for (p, buffer) in values.enumerated() {
            let n = network.populations[p].size
            let matrix: [T]?
            if isRead[p] {
                matrix = feedback == .symmetric ? forward.readoutWeights[p] : randomReadout[p]
            } else {
                matrix = broadcast[p]
            }
            guard let matrix else { buffer.zero(); continue }
            matrix.withUnsafeBufferPointer { f in
                LinearAlgebra.transposedProduct(into: buffer.pointer, weights: f.baseAddress!, input: delta, batch: batch, rows: outputs, columns: n)
            }
        }
        guard deep == .spatial else { return }
        for p in forward.populations.indices.reversed() where !spatialSources[p].isEmpty {
            let population = forward.populations[p], count = batch * population.size
            let scaled = scaledSignal.pointer, signal = values[p].pointer
            scaled.update(repeating: 0, count: count)
            for m in 0..<population.neuron.stateCount {
                population.blocks.spikeGradient[m].accumulateProduct(into: scaled, with: population.blocks.currentGain[m], count: count)
            }
            for e in 0..<count { scaled[e] *= signal[e] }
            for source in spatialSources[p] {
                forward.projectionWeights[source.projection].withUnsafeBufferPointer { w in
                    LinearAlgebra.accumulateSparseProduct(into: values[source.source].pointer, weights: w.baseAddress!, input: scaled, batch: batch,
                                                          rows: population.size, columns: source.width)
                }
            }
        }
    }

    var bytes: Int { values.map(\.bytes).reduce(0, +) + scaledSignal.bytes }
}

/// How e-prop's populations that the readout does not read get their learning signal.
public enum DeepFeedback: Sendable, Equatable, Codable {
    /// A fixed random projection of the output error, from a seed (broadcast alignment).
    case broadcast(seed: UInt64)
    /// The error carried back through the within-step projections at the same step.
    case spatial

    /// The default: broadcast from a fixed seed.
    public static let standard = DeepFeedback.broadcast(seed: 2)
}
