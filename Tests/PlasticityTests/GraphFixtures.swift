import Foundation
import PlasticityCore
import Testing

/// The network graphs every rule is tested on, beyond a single population.
enum GraphCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// Two stacked recurrent layers (ALIF under LIF), leaky readout.
    case stacked
    /// Bellec's LSNN: LIF and ALIF neurons in one recurrent population, both read out.
    case lsnn
    /// A layer of the C plugin's Izhikevich neurons feeding an ALIF layer.
    case cFeedsALIF
    /// One recurrent LIF population whose input and recurrent projections are masked.
    case masked
    /// Two layers, and a skip projection from the input to the second.
    case skip
    /// An LIF layer feeding a memoryless population (no state between steps), non-leaky
    /// readout: where spatial learning signals are exact.
    case relay

    var testDescription: String { rawValue }

    /// A model without memory: its state is this step's current.
    static let relayModel = """
        model Relay
        summary "memoryless: spikes when this step's input current exceeds the threshold"
        state v = 0 "this step's input current"
        parameter threshold = 0.5 in [1e-9, 1e9] "firing threshold"
        v' = I
        spike (v - threshold)/threshold
        """

    /// The network; `differentiableReset` differentiates LIF's and ALIF's reset (finite
    /// differences see through stopGradient, so BPTT is checked against them that way).
    func network(differentiableReset: Bool = false) throws -> Network {
        let reset: [String: Double] = differentiableReset ? ["resetGradient": 1] : [:]
        let lif = try TestPlugins.compile("LIF", reset), alif = try TestPlugins.compile("ALIF", reset)
        func population(_ name: String, _ neuron: CompiledNeuron, _ size: Int) -> Network.Population {
            Network.Population(name: name, neuron: neuron, size: size)
        }
        let input = Network.inputName
        switch self {
        case .stacked:
            return try Network(shape: NetworkShape(inputs: 4, hidden: 4, outputs: 3, recurrent: true, bias: true, readoutDecay: 0.5, layers: 2), neuron: alif)
        case .lsnn:
            return try Network.mixed([(lif, 4), (alif, 3)], shape: NetworkShape(inputs: 4, hidden: 0, outputs: 3, recurrent: true, bias: true, readoutDecay: 0.3))
        case .cFeedsALIF:
            return try Network(inputs: 4, populations: [population("izhikevich", try TestPlugins.compile("Izhikevich"), 4), population("adaptive", alif, 4)],
                               projections: [ProjectionDescription(source: input, target: "izhikevich", gain: 24),
                                             ProjectionDescription(source: "izhikevich", target: "adaptive", gain: 3)],
                               readout: ReadoutDescription(sources: ["adaptive"], outputs: 3, decay: 0.4))
        case .masked:
            var generator = SplitMix64(seed: 11)
            let inputMask = (0..<(6 * 4)).map { _ in Bool.random(using: &generator) }
            let recurrentMask = (0..<(6 * 6)).map { $0 % 7 != 0 && Bool.random(using: &generator) }
            return try Network(inputs: 4, populations: [population("hidden", lif, 6)],
                               projections: [ProjectionDescription(source: input, target: "hidden", gain: 4, mask: inputMask),
                                             ProjectionDescription(source: "hidden", target: "hidden", delayed: true, mask: recurrentMask)],
                               readout: ReadoutDescription(sources: ["hidden"], outputs: 3, decay: 0.5))
        case .skip:
            return try Network(inputs: 4, populations: [population("lower", lif, 5), population("upper", alif, 4)],
                               projections: [ProjectionDescription(source: input, target: "lower"),
                                             ProjectionDescription(source: "lower", target: "upper"),
                                             ProjectionDescription(name: "upper.skip", source: input, target: "upper")],
                               readout: ReadoutDescription(sources: ["upper"], outputs: 3, decay: 0.6))
        case .relay:
            let relay = try CompiledNeuron(model: ModelFile.parse(Self.relayModel, path: "Relay.neuron"))
            return try Network(inputs: 4, populations: [population("lower", lif, 5), population("relay", relay, 4)],
                               projections: [ProjectionDescription(source: input, target: "lower"),
                                             ProjectionDescription(source: "lower", target: "relay", gain: 2)],
                               readout: ReadoutDescription(sources: ["relay"], outputs: 3))
        }
    }

    func fixture(differentiableReset: Bool = false, lossKind: LossKind = .crossEntropyEveryStep, steps: Int = 14) throws -> RuleFixture {
        try RuleFixture(network: network(differentiableReset: differentiableReset), lossKind: lossKind, steps: steps)
    }
}

extension GradientResult {
    /// Spikes of each population (step order) over the batch and sequence.
    func spikesPerPopulation(of network: Network) -> [Int] {
        network.populations.indices.map { p in
            let offset = network.neuronOffset(of: p)
            return neuronSpikes[offset..<(offset + network.populations[p].size)].reduce(0, +)
        }
    }
}
