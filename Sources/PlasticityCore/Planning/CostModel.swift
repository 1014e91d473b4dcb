import PlasticityBase
import PlasticityEngine

/// What a gradient computation will be asked to do.
public struct Workload: Sendable, Codable, Equatable {
    /// The largest batch the planner prices (its sizes stay far from integer overflow).
    public static let maxBatch = 1 << 16

    public var batch: Int
    public var steps: Int
    /// 4 for Float, 8 for Double.
    public var scalarBytes: Int
    /// Whether the loss's error signal arrives only at the end (`ce-summed`).
    public var deferredLoss: Bool
    /// The fraction of input values that are non-zero (spikes per channel and step): the
    /// forward product skips the others. 1 when unknown, the dense worst case.
    public var inputDensity: Double
    /// The fraction of hidden neurons that spike per step: the recurrent product skips the
    /// others. 1 when unknown; a measured value comes from `GradientResult.spikeCount`.
    public var spikeDensity: Double

    public init(batch: Int, steps: Int, scalarBytes: Int = 4, deferredLoss: Bool = false, inputDensity: Double = 1, spikeDensity: Double = 1) {
        self.batch = batch
        self.steps = steps
        self.scalarBytes = scalarBytes
        self.deferredLoss = deferredLoss
        self.inputDensity = inputDensity
        self.spikeDensity = spikeDensity
    }

    /// This workload with the spike density of a run: `spikes` emitted by `hidden` neurons
    /// over `steps` steps of this batch.
    public func measuring(spikes: Int, steps: Int, hidden: Int) -> Workload {
        var copy = self
        copy.spikeDensity = Double(spikes) / Double(Swift.max(1, batch * steps * hidden))
        return copy
    }

    /// The fraction of non-zero values in a batch of inputs, for `inputDensity`.
    public static func density<T: KernelScalar>(of inputs: [T]) -> Double {
        inputs.isEmpty ? 1 : Double(inputs.lazy.filter { $0 != 0 }.count) / Double(inputs.count)
    }
}

/// The speeds the cost model converts work into time with, by kind of work; measured on the
/// project's machines with `plasticity compare` (Documentation/Benchmarks.md).
public struct MachineModel: Sendable, Codable {
    /// Element-wise work over B·N and short rows: the forward pass (the interpreted step
    /// kernel, the products over spiking inputs), BPTT's backward step and e-prop's chunked
    /// recursions (~10 GFLOP/s).
    public var flopsPerSecond: Double
    /// Long contiguous row operations that vectorise: the influence updates of RTRL and dense
    /// e-prop, e-prop's learning signal and its rows per non-zero input.
    public var vectorFlopsPerSecond: Double
    /// e-prop's pass over its per-synapse values once per chunk (`ChunkedTraceGradient`): per
    /// value, its share of the gradient and its advance; bound neither by arithmetic nor by
    /// bandwidth alone (short rows of N per presynaptic value, the gradient's row from L2), so
    /// priced by its measured time per value (Documentation/Benchmarks.md, `bench cost-model`).
    public var synapticSweepSecondsPerValue: Double
    /// Main memory.
    public var bytesPerSecond: Double
    /// Cache levels, smallest first: a working set that fits a level streams at its rate. A
    /// larger one gets nothing from it, because each step sweeps the whole working set once
    /// and the least recently used lines are always the next ones needed.
    public var caches: [CacheLevel]
    /// One call into a C plugin's kernel: libffi and the Double conversions of its arrays.
    public var externalCallSeconds: Double
    /// What every step of a sweep over the sequence costs whatever its size: dispatch, small
    /// allocations, loop set-up. BPTT sweeps twice (forward, then backward); every population
    /// beyond the first adds it once more.
    public var stepOverheadSeconds: Double

    public struct CacheLevel: Sendable, Codable {
        public var bytes: Int
        public var bytesPerSecond: Double
    }

    /// The 2-core machines of the design brief: 1 MiB L2 per core and a 32 MiB L3.
    public static let reference = MachineModel(flopsPerSecond: 10e9, vectorFlopsPerSecond: 20e9, synapticSweepSecondsPerValue: 0.8e-9, bytesPerSecond: 12e9,
                                               caches: [CacheLevel(bytes: 1 << 20, bytesPerSecond: 48e9),
                                                        CacheLevel(bytes: 32 << 20, bytesPerSecond: 32e9)],
                                               externalCallSeconds: 1e-6, stepOverheadSeconds: 2.5e-6)

    /// Time for work that is limited by either its arithmetic or its memory traffic.
    func seconds(flops: Double, at flopRate: Double, bytes: Double, workingSet: Double) -> Double {
        seconds(computing: flops / flopRate, bytes: bytes, workingSet: workingSet)
    }

    /// The longer of the compute time and the time to move `bytes` at the bandwidth of the
    /// smallest level holding the working set.
    func seconds(computing computeSeconds: Double, bytes: Double, workingSet: Double) -> Double {
        let bandwidth = caches.first { workingSet <= Double($0.bytes) }?.bytesPerSecond ?? bytesPerSecond
        return Swift.max(computeSeconds, bytes / bandwidth)
    }
}

/// The predicted cost of one rule on one network and workload.
public struct RuleCost: Sendable, Codable {
    public let rule: LearningRuleKind
    public let flopsPerStep: Double
    public let bytesPerStep: Double
    /// Buffers held at the peak: forward state, blocks, traces or stored states, weights.
    public let peakBytes: Int
    /// The forward pass's and the rule's own work, each max(flops / rate, bytes / bandwidth)
    /// at the rates of its kind (see `MachineModel`), plus calls into C kernels.
    public let secondsPerStep: Double
    /// BPTT only: the checkpoint interval this cost assumes (nil: every state stored).
    public let checkpointInterval: Int?
}

/// Prices each rule from the models' block annotations and the network's graph: what
/// collapsed, zero and constant entries save is visible in the numbers. Every term is summed
/// over populations (each priced with its own model, presynaptic widths and densities) and
/// their projections; the readout is priced once.
public struct CostModel {
    public let network: Network
    public let workload: Workload
    public let machine: MachineModel
    /// The learning signal of deeper populations the e-prop rules are priced with.
    public let deepFeedback: DeepFeedback
    private let terms: [PopulationTerms]

    /// What one population contributes, from its model and its incoming projections.
    private struct PopulationTerms {
        let N: Double
        /// Columns of x̂ (within-step projections and bias) and of ẑ (delayed projections).
        let P: Double, R: Double
        /// Of those, the columns that are other populations' spikes (the couplings RTRL and
        /// BPTT carry, and spatial signals).
        let coupled: Double
        /// Presynaptic values per batch element the forward products touch.
        let touchedWithin: Double, touchedDelayed: Double
        let read: Bool
        /// Whether BPTT gathers ẑ into a buffer of its own (several delayed sources).
        let gathersDelayed: Bool
        let k: Int, varying: Int, instructions: Int, externalCalls: Int
        let sharedComponents: Int, synapticComponents: Int
        /// Trained neuron parameters p, and the influence columns RTRL gives them (N for one per
        /// neuron, 1 for a shared one).
        let trainedParameters: Int, parameterColumns: Double

        init(population: Int, network: Network, workload: Workload) {
            let layout = network.layouts[population], neuron = network.populations[population].neuron
            N = Double(layout.size)
            P = Double(layout.withinColumns)
            R = Double(layout.delayedColumns)
            let spikeColumns = layout.within.filter { $0.source != .input }.reduce(0) { $0 + $1.width }
            let inputColumns = layout.within.filter { $0.source == .input }.reduce(0) { $0 + $1.width }
            coupled = Double(spikeColumns + layout.delayedColumns)
            touchedWithin = Double(inputColumns) * workload.inputDensity + Double(spikeColumns) * workload.spikeDensity + (layout.biasColumn != nil ? 1 : 0)
            touchedDelayed = R * workload.spikeDensity
            read = network.readout.sources.contains(population)
            gathersDelayed = layout.soleDelayedSource == nil && layout.delayedColumns > 0
            k = neuron.stateCount
            let trained = network.populations[population].trainedParameters
            trainedParameters = trained.count
            parameterColumns = trained.reduce(0) { $0 + (network.populations[population].parameters[$1].isPerNeuron ? Double(layout.size) : 1) }
            // The kernel computes (and BPTT records) the parameter gains of trained parameters too.
            let entries = neuron.varyingEntries + trained.flatMap(neuron.varyingParameterEntries)
            varying = entries.count
            let kernel = neuron.makeStepKernel(Float.self, entries: entries)
            instructions = kernel.instructionCount
            externalCalls = kernel.externalCallCount
            sharedComponents = neuron.structure.traceStorage.filter { $0 == .perPresynaptic }.count
            synapticComponents = neuron.structure.traceStorage.filter { $0 == .perSynapse }.count
        }

        /// Weights whose influence dense e-prop tracks for this population.
        var ownTheta: Double { N * (P + R) }
    }

    public init(network: Network, workload: Workload, machine: MachineModel = .reference, deepFeedback: DeepFeedback = .standard) {
        self.network = network
        self.workload = workload
        self.machine = machine
        self.deepFeedback = deepFeedback
        terms = network.populations.indices.map { PopulationTerms(population: $0, network: network, workload: workload) }
    }

    private var B: Double { Double(workload.batch) }
    private var C: Double { Double(network.outputs) }
    /// Neurons the readout reads, and neurons over all populations.
    private var readN: Double { Double(network.readNeuronCount) }
    private var allN: Double { Double(network.neuronCount) }
    /// Θ: weights and trained neuron parameters whose influence RTRL tracks.
    private var theta: Double { terms.reduce(0) { $0 + $1.ownTheta + $1.parameterColumns } }
    private var filters: Bool { network.readoutDecay != 0 || workload.deferredLoss }
    private var s: Double { Double(workload.scalarBytes) }
    private func sum(_ term: (PopulationTerms) -> Double) -> Double { terms.reduce(0) { $0 + term($1) } }

    /// Scalars of the forward pass every rule runs, and of the weights.
    private var forwardScalars: Double {
        sum { B * $0.P + 3 * B * $0.N + Double($0.k) * B * $0.N + $0.N * ($0.P + $0.R) + 2 * Double($0.varying) * B * $0.N } + B * C + readN * C
    }
    private var weightScalars: Double { sum { $0.N * ($0.P + $0.R) } + C * readN + C }
    /// Whether the readout's gradient adds spikes one by one (a non-leaky readout and a loss at
    /// every step) rather than filtered spikes as a dense rank-B update.
    private var readoutAddsSpikes: Bool { network.readoutDecay == 0 && !workload.deferredLoss }
    /// z̄ (and Σ z̄ for a deferred loss) or the transposed gradient spikes are added to; the
    /// gradient; L of every population.
    private var readoutScalars: Double {
        (readoutAddsSpikes ? C * readN : B * readN * (workload.deferredLoss ? 2 : 1)) + C * readN + C + B * allN
    }
    /// L = δ F for `signalled` neurons and the readout's gradient.
    private func signalAndReadoutFlops(signalled: Double) -> Double {
        2 * B * C * signalled + 2 * B * C * readN * (readoutAddsSpikes ? workload.spikeDensity : 1)
    }

    private var forwardFlops: Double {
        sum { 2 * B * $0.N * ($0.touchedWithin + $0.touchedDelayed) + Double($0.instructions) * B * $0.N } + 2 * B * C * readN
    }
    private var forwardBytes: Double {
        s * (sum { $0.N * (Swift.min($0.P, B * $0.touchedWithin) + Swift.min($0.R, B * $0.touchedDelayed)) + B * $0.N * Double(2 * $0.k + 3 + $0.varying) + B * $0.P }
             + C * readN)
    }

    public func cost(of rule: LearningRuleKind, checkpointInterval: Int? = nil) -> RuleCost {
        let (flops, bytes, scalars): (Double, Double, Double)
        // Of the rule's flops, those in element-wise loops over B·N (priced at the scalar rate);
        // and e-prop's per-synapse values swept per step (priced at their own measured rate).
        var elementwise = 0.0, sweep = (values: 0.0, flops: 0.0, bytes: 0.0)
        switch rule {
        case .eprop:
            let priced = eprop
            (flops, bytes, scalars, elementwise, sweep) = (priced.flops, priced.bytes, priced.scalars, priced.elementwise, priced.sweep)
        case .denseEprop: (flops, bytes, scalars) = denseEprop
        case .rtrl: (flops, bytes, scalars) = rtrl
        case .bptt:
            let priced = bptt(checkpointInterval: checkpointInterval)
            (flops, bytes, scalars, elementwise) = (priced.flops, priced.bytes, priced.scalars, priced.flops - priced.products)
        }
        // Checkpointed BPTT runs the forward pass twice.
        let forwardPasses = rule == .bptt && checkpointInterval != nil ? 2.0 : 1.0
        let totalFlops = forwardPasses * forwardFlops + flops + sweep.flops, totalBytes = forwardPasses * forwardBytes + bytes + sweep.bytes
        let peak = (forwardScalars + weightScalars + scalars) * s
        let forwardSeconds = machine.seconds(flops: forwardFlops, at: machine.flopsPerSecond, bytes: forwardBytes, workingSet: peak)
            + sum { Double($0.externalCalls) } * machine.externalCallSeconds
        // BPTT's backward step and e-prop's chunked recursions are element-wise loops over B·N,
        // like the forward pass; the rest (RTRL's and dense e-prop's rows over Θ, e-prop's rows
        // of N per non-zero input, the learning signal, BPTT's products W_qpᵀ·g) are long rows
        // that vectorise.
        let compute = elementwise / machine.flopsPerSecond + (flops - elementwise) / machine.vectorFlopsPerSecond
        let ruleSeconds = machine.seconds(computing: compute, bytes: bytes, workingSet: peak)
            + sweep.values * machine.synapticSweepSecondsPerValue
        // The fixed cost of a step (dispatch, loop set-up, small allocations) is paid per sweep,
        // and once more for every population beyond the first (its own kernel call, products,
        // traces or adjoint); measured on two-layer and mixed networks.
        let sweeps = rule == .bptt ? 2.0 : 1.0
        let seconds = (sweeps + Double(terms.count - 1)) * machine.stepOverheadSeconds + forwardPasses * forwardSeconds + ruleSeconds
        // Clamped: a price beyond any machine need not be exact, only not a trap.
        return RuleCost(rule: rule, flopsPerStep: totalFlops, bytesPerStep: totalBytes, peakBytes: Int(Swift.min(peak, 1e18).rounded()),
                        secondsPerStep: seconds, checkpointInterval: rule == .bptt ? checkpointInterval : nil)
    }

    /// Per population and presynaptic vector with P_g columns: the shared traces every step,
    /// and `ChunkedTraceGradient` for the rest. Per step it records M, g, h, runs the backward
    /// recursions (λ, and R for per-synapse components) and adds a row of N per non-zero
    /// presynaptic value for the gradient and for each per-synapse component; per chunk, μ, one
    /// pass over the per-synapse values and a rank-B update per shared component. ē (leaky
    /// readout) or Σ_s w_s e_s (deferred loss) is one more per-synapse component.
    private var eprop: (flops: Double, bytes: Double, scalars: Double, elementwise: Double, sweep: (values: Double, flops: Double, bytes: Double)) {
        var flops = signalAndReadoutFlops(signalled: allN) + spatialSignalFlops, bytes = 0.0, scalars = readoutScalars, elementwise = 0.0
        var sweep = (values: 0.0, flops: 0.0, bytes: 0.0)
        for term in terms {
            let parameters = parameterTraces(term)
            (flops, bytes, scalars, elementwise) = (flops + parameters.flops, bytes + parameters.bytes, scalars + parameters.scalars, elementwise + parameters.flops)
            let shared = Double(term.sharedComponents)
            let sums = filters ? 1 : 0, traced = term.sharedComponents + term.synapticComponents + sums
            let synapticCount = term.synapticComponents + sums, synaptic = Double(synapticCount), d = Double(traced)
            let N = term.N
            for (columns, touched) in [(term.P, term.touchedWithin), (term.R, term.touchedDelayed)] where columns > 0 {
                let synapses = B * N * columns
                scalars += 2 * shared * B * columns + N * columns
                flops += B * columns * shared * (1 + 2 * shared)
                guard term.sharedComponents + term.synapticComponents > 0 else { continue }  // nothing reaches the gradient
                let chunkSteps = ChunkedTraceGradient<Float>.chunkLength(traced: traced, synaptic: synapticCount, batch: workload.batch,
                                                                         hidden: Int(N), presynapticCount: Int(columns), scalarBytes: workload.scalarBytes)
                let chunk = Double(chunkSteps)
                scalars += Double(ChunkedTraceGradient<Float>.scalars(traced: traced, synaptic: synapticCount, batch: workload.batch,
                                                                      hidden: Int(N), presynapticCount: Int(columns), chunk: chunkSteps))
                let recursions = B * N * (3 * d * d + 4 * d + synaptic * (2 * d + 2 * d * d))
                elementwise += recursions
                flops += recursions + 2 * B * N * touched * (1 + synaptic) + (2 * d * d * B * N + 2 * shared * B * N * columns) / chunk
                bytes += s * (2 * (d * d + 2 * d) * B * N + 2 * B * columns + 3 * shared * B * columns + 2 * N * columns / chunk)
                sweep.values += synaptic * synapses / chunk
                sweep.flops += synaptic * synapses * (2 + 2 * synaptic + 2 * shared) / chunk
                sweep.bytes += s * 2 * synaptic * synapses / chunk
            }
        }
        return (flops, bytes, scalars, elementwise, sweep)
    }

    /// Spatial learning signals: W_qpᵀ (L ⊙ c·b) for every within-step projection between
    /// populations (broadcast signals are priced with the readout's).
    private var spatialSignalFlops: Double {
        guard case .spatial = deepFeedback else { return 0 }
        return sum { 2 * B * $0.N * ($0.coupled - $0.R) + 2 * Double($0.k) * B * $0.N }
    }

    /// e-prop's traces of a population's trained neuron parameters (`ParameterTraces`): per
    /// element, k×p influence and p sensitivities updated from the blocks, then contracted with
    /// the signal (and filtered, or summed for a deferred loss).
    private func parameterTraces(_ term: PopulationTerms) -> (flops: Double, bytes: Double, scalars: Double) {
        guard term.trainedParameters > 0 else { return (0, 0, 0) }
        let p = Double(term.trainedParameters), k = Double(term.k), elements = B * term.N
        let flops = elements * (k * p * (2 * k + 4) + 2 * p * (k + 1) + 2 * p * (filters ? 2 : 1))
        let scalars = elements * p * (k + 1 + (filters ? 1 : 0) + (workload.deferredLoss ? 1 : 0)) + term.N * p + k * p
        return (flops, s * elements * p * (2 * k + 4), scalars)
    }

    /// Influence B·N·k·Θ_p per population, with its block-diagonal structure materialised densely.
    private var denseEprop: (Double, Double, Double) {
        var flops = signalAndReadoutFlops(signalled: allN) + spatialSignalFlops, bytes = 0.0, scalars = readoutScalars
        for term in terms {
            let parameters = parameterTraces(term)
            (flops, bytes, scalars) = (flops + parameters.flops, bytes + parameters.bytes, scalars + parameters.scalars)
            let N = term.N, nk = N * Double(term.k), theta = term.ownTheta
            flops += B * (2 * nk * nk * theta + 2 * nk * N * theta + 2 * N * nk * theta) + influenceContraction(term, theta: theta)
            bytes += s * B * (2 * nk * theta + nk * nk + N * theta)
            scalars += influenceScalars(term, theta: theta) + nk * nk + nk * N + N * nk + N * theta + nk * theta
        }
        return (flops, bytes, scalars)
    }

    /// Influence B·N·k·Θ per population over every weight, plus the couplings from other
    /// populations' (and its own) spikes: O(N²·Θ) per batch element.
    private var rtrl: (Double, Double, Double) {
        let theta = self.theta
        var flops = signalAndReadoutFlops(signalled: readN), bytes = 0.0
        var scalars = readoutScalars + Double(terms.map(\.k).max() ?? 1) * theta
        for term in terms {
            let N = term.N, kk = Double(term.k)
            flops += 2 * B * N * term.coupled * theta + B * N * theta * kk * (4 + 2 * kk) + 2 * kk * B * N * (term.P + term.R)
                + influenceContraction(term, theta: theta)
            bytes += s * B * N * theta * (2 * kk + 2) + (term.coupled > 0 ? s * B * (N * term.coupled + 2 * N * theta) : 0)
            scalars += influenceScalars(term, theta: theta) + (term.coupled > 0 ? N * theta : 0)
        }
        return (flops, bytes, scalars)
    }

    private func influenceScalars(_ term: PopulationTerms, theta: Double) -> Double {
        let N = term.N
        return B * N * Double(term.k) * theta + B * N * theta + (filters ? B * N * theta : 0) + (workload.deferredLoss ? B * N * theta : 0) + theta
    }

    private func influenceContraction(_ term: PopulationTerms, theta: Double) -> Double {
        2 * Double(term.k) * B * term.N * theta + 2 * B * term.N * theta * (filters ? 2 : 1)
    }

    /// Recorded blocks per step; with checkpointing, snapshots every K steps and one
    /// recomputed segment.
    /// `products`: the flops of the dense products W_qpᵀ·g that carry the adjoint back to the
    /// source populations (rows that vectorise; the rest are element-wise loops).
    private func bptt(checkpointInterval: Int?) -> (flops: Double, bytes: Double, scalars: Double, products: Double) {
        let record = sum { Double($0.varying) * B * $0.N + B * $0.N } + B * C
        let snapshot = sum { Double($0.k) * B * $0.N + B * $0.N } + B * C
        let steps = Double(workload.steps)
        let interval = Double(checkpointInterval ?? workload.steps)
        let segments = (steps / interval).rounded(.up)
        let adjoint = sum { 2 * Double($0.k) * B * $0.N + 6 * B * $0.N + ($0.gathersDelayed ? B * $0.R : 0) + $0.N * ($0.P + $0.R)
                            + Double($0.trainedParameters) * $0.N + ($0.trainedParameters > 0 ? B * $0.N : 0) } + B * C + C * readN + C
            + (network.readout.sources.count > 1 ? B * readN : 0)
        let scalars = interval * record + segments * snapshot + adjoint
        // Weight gradients skip zero presynaptic values (inputs, spikes); the products that
        // carry the adjoint back to source populations (W_qpᵀ·g) do not.
        let products = sum { 2 * B * $0.N * $0.coupled }
        let flops = sum { B * $0.N * Double($0.k) * (4 + 2 * Double($0.k)) + 2 * B * $0.N * ($0.touchedWithin + $0.touchedDelayed)
                          + B * $0.N * Double($0.trainedParameters) * (2 * Double($0.k) + 4) }
            + products + 2 * B * C * readN * (1 + workload.spikeDensity)
        let bytes = s * 2 * record + s * sum { $0.N * ($0.P + $0.R) }
        return (flops, bytes, scalars, products)
    }

    /// BPTT with checkpointing for a budget: the largest interval (fewest segments to
    /// restore) whose peak fits, or, if none does, the interval √T with the least memory.
    public func bpttCheckpointing(within budget: Int) -> RuleCost {
        let steps = workload.steps
        let leastMemory = Swift.max(1, Int(Double(steps).squareRoot().rounded()))
        var best = cost(of: .bptt, checkpointInterval: leastMemory)
        guard best.peakBytes <= budget else { return best }
        var interval = leastMemory * 2
        while interval < steps {
            let candidate = cost(of: .bptt, checkpointInterval: interval)
            guard candidate.peakBytes <= budget else { break }
            best = candidate
            interval *= 2
        }
        return best
    }
}
