import PlasticityBase
import PlasticityEngine

/// Whether a rule computes the true gradient on a network, tensor by tensor, and if not, why
/// — derived from the graph's structure and the models' block annotations.
///
/// BPTT and RTRL are exact everywhere. e-prop (sparse or dense) forms dE/dW_qp as
/// Σ_t L_t^p ē_t^{qp}, with traces from population p's own blocks; that is the true gradient
/// for a tensor into p when (a) no path of projections leads from p back to p (else I_t^p
/// depends on W through other neurons' spikes, which the traces drop), and (b) L_t^p is the
/// true ∂E/∂z_t^p: p's spikes reach the loss only through the readout with symmetric feedback,
/// or — with spatial signals, a readout without leak — only through within-step projections
/// into populations without memory (no state carried between steps) whose own signals are exact.
/// The readout's tensors are exact under every rule. A population's trained neuron parameters
/// are traced from its own blocks like its weights, so they are exact exactly when its
/// weights are.
public struct Exactness: Sendable, Codable, Equatable {
    public let isExact: Bool
    /// Plain-language reasons when approximate.
    public let reasons: [String]
    /// The tensors whose gradient the rule approximates (empty when exact).
    public let approximateTensors: [String]

    public init(isExact: Bool, reasons: [String], approximateTensors: [String] = []) {
        self.isExact = isExact
        self.reasons = reasons
        self.approximateTensors = approximateTensors
    }

    /// The analysis for `rule` on `network`.
    public static func of(_ rule: LearningRuleKind, network: Network, feedback: Feedback = .symmetric,
                          deepFeedback: DeepFeedback = .standard) -> Exactness {
        guard rule == .eprop || rule == .denseEprop else { return Exactness(isExact: true, reasons: []) }
        let analysis = GraphAnalysis(network: network)
        var reasons: [String] = [], approximate: [String] = []
        var signalExact: [Int: Bool] = [:]
        // Downstream first: a population's signal is exact only if those it feeds have exact signals.
        for p in network.populations.indices.reversed() {
            let name = network.populations[p].name
            var signalReasons: [String] = []
            if network.readout.sources.contains(p), case .random = feedback {
                signalReasons.append("random feedback replaces W_outᵀ in \(name)'s learning signal by a fixed random matrix")
            }
            let outgoing = network.projections.filter { $0.source == .population(p) }
            if !network.readout.sources.contains(p), deepFeedback != .spatial {
                signalReasons.append("\(name) is not read out: its learning signal is a fixed random projection of the output error (broadcast alignment)")
            }
            for projection in outgoing {
                let target = network.populations[projection.target].name
                if projection.delayed {
                    // A delayed projection onto itself is the recurrence named below.
                    guard projection.target != p else { continue }
                    signalReasons.append("\(name)'s learning signal misses its effect through the delayed projection \(projection.name) onto \(target)")
                } else if deepFeedback != .spatial {
                    if network.readout.sources.contains(p) {
                        signalReasons.append("\(name)'s learning signal misses its effect through \(projection.name) onto \(target) (broadcast feedback reaches only populations the readout does not read)")
                    }
                } else if network.readoutDecay != 0 {
                    signalReasons.append("the spatial signal through \(projection.name) pairs the readout's leak with \(target)'s gain at one step only (κ ≠ 0)")
                } else if !analysis.isMemoryless(projection.target) {
                    signalReasons.append("the spatial signal of \(name) through \(projection.name) drops the paths through \(target)'s memory (its state carries over steps)")
                } else if signalExact[projection.target] != true {
                    signalReasons.append("the spatial signal of \(name) through \(projection.name) carries \(target)'s approximate signal")
                }
            }
            signalExact[p] = signalReasons.isEmpty
            var populationReasons = signalReasons
            if let cycle = analysis.cycle(through: p) {
                populationReasons.insert(cycle.count == 2
                    ? "W_rec couples neurons of \(name): e-prop drops dh_t/dz_{t−1} through W_rec (the term b^j·W_rec[j,l]·c^l for every l, the self-connection l = j included)"
                    : "\(name) is on the loop \(cycle.map { network.populations[$0].name }.joined(separator: " → ")): e-prop drops the dependence of its input on its own weights through other neurons", at: 0)
            }
            guard !populationReasons.isEmpty else { continue }
            reasons += populationReasons
            approximate += network.projections.filter { $0.target == p }.map(\.name) + (network.populations[p].bias ? [network.biasName(p)] : [])
                + network.trainedNeuronParameters.filter { $0.population == p }.map(\.tensor)
        }
        return Exactness(isExact: reasons.isEmpty, reasons: reasons, approximateTensors: approximate)
    }
}

/// Structural facts about a network that exactness needs.
struct GraphAnalysis {
    let network: Network

    /// A path of projections (any kind) from population p back to p, written p → … → p.
    func cycle(through p: Int) -> [Int]? {
        var previous: [Int: Int] = [:], frontier = [p]
        while !frontier.isEmpty {
            var next: [Int] = []
            for q in frontier {
                for projection in network.projections where projection.source == .population(q) {
                    let r = projection.target
                    if r == p {
                        var path = [p], node = q
                        while node != p { path.append(node); node = previous[node]! }
                        return [p] + Array(path.dropFirst().reversed()) + [p]
                    }
                    if previous[r] == nil { previous[r] = q; next.append(r) }
                }
            }
            frontier = next
        }
        return nil
    }

    /// Whether population p carries nothing from one step to the next: every entry of A and r
    /// (∂h_t/∂h_{t−1}, ∂h_t/∂z_{t−1}) is structurally zero.
    func isMemoryless(_ p: Int) -> Bool {
        let neuron = network.populations[p].neuron, k = neuron.stateCount
        let entries = (0..<k).flatMap { m in (0..<k).map { CompiledNeuron.BlockEntry.stateJacobian(row: m, column: $0) } + [.ownSpikeGain(m)] }
        return entries.allSatisfy { neuron.expression(of: $0).constantValue == 0 }
    }
}
