import PlasticityBase

/// A network's structure as reports, plans and checkpoints record it: what a reader needs to
/// recognise the graph, and what a resumed run compares.
public struct NetworkSummary: Sendable, Codable, Equatable {
    public struct Population: Sendable, Codable, Equatable {
        public let name: String
        public let model: String
        public let size: Int
        public let bias: Bool
        /// The surrogate derivative (its key, e.g. `triangle(dampening=0.3,width=1)`).
        public let surrogate: String?
        /// Model parameters folded into the compiled step at values other than the defaults
        /// (nil: all at their defaults).
        public let settings: [String: Double]?
        /// Parameters held as data (nil: none).
        public let parameters: [Parameter]?
    }

    /// A parameter a population holds as data: its values (a trained one's initial values).
    public struct Parameter: Sendable, Codable, Equatable {
        public let name: String
        public let trainable: Bool
        public let values: [Double]
    }

    public struct Projection: Sendable, Codable, Equatable {
        public let name: String
        public let source: String
        public let target: String
        public let delayed: Bool
        public let masked: Bool
    }

    public let inputs: Int
    /// In step order.
    public let populations: [Population]
    public let projections: [Projection]
    public let readoutSources: [String]
    public let outputs: Int
    public let readoutDecay: Double

    public init(_ network: Network) {
        inputs = network.inputs
        populations = network.populations.map { population in
            let neuron = population.neuron
            var settings: [String: Double] = [:]
            for (name, value) in neuron.parameters where !neuron.parameterInputs.contains(name) && value != neuron.defaultValue(of: name) {
                settings[name] = value
            }
            let parameters = population.parameters.map { Parameter(name: $0.name, trainable: $0.trainable, values: $0.values) }
            return Population(name: population.name, model: neuron.name, size: population.size, bias: population.bias, surrogate: neuron.surrogate.key,
                              settings: settings.isEmpty ? nil : settings, parameters: parameters.isEmpty ? nil : parameters)
        }
        projections = network.projections.map {
            Projection(name: $0.name, source: network.sourceName($0.source), target: network.populations[$0.target].name, delayed: $0.delayed, masked: $0.mask != nil)
        }
        readoutSources = network.readout.sources.map { network.populations[$0].name }
        outputs = network.outputs
        readoutDecay = network.readoutDecay
    }

    /// One line: `input(40) → hidden LIF 128 ⟲ → readout(3)`, populations in step order.
    public var description: String {
        let parts = populations.map { population -> String in
            let loops = projections.filter { $0.target == population.name && $0.delayed }.map { $0.source == population.name ? "⟲" : "⟲\($0.source)" }
            let feeds = projections.filter { $0.target == population.name && !$0.delayed }.map(\.source)
            return "[\(feeds.joined(separator: ",")) →] \(population.name) \(population.model) \(population.size)\(loops.isEmpty ? "" : " " + loops.joined(separator: " "))"
        }
        return "input(\(inputs)); " + parts.joined(separator: "; ") + "; readout(\(outputs)) ← \(readoutSources.joined(separator: ","))"
    }
}
