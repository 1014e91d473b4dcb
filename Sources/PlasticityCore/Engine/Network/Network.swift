import Foundation
import PlasticityBase

/// A network as a graph: one input group (the data's x_t), populations of compiled neuron
/// models, named projections between them, and one leaky linear readout.
///
/// Per step, every population p takes I_t^p = Σ_{q→p} W_{qp} s_q + b_p, where s_q is x_t for the
/// input group, z_t^q for a within-step projection and z_{t−1}^q for a delayed (recurrent) one;
/// then (h_t^p, z_t^p) = F^p(h_{t−1}^p, z_{t−1}^p, I_t^p). Within-step projections form a DAG,
/// and populations are stepped in its topological order (`populations` is kept in that order).
/// The readout is y_t = κ y_{t−1} + Σ_{p read} W_out^p z_t^p + b_out.
public final class Network {
    /// The name of the input group in projections and tensor names.
    public static let inputName = "input"
    /// The name of the readout in tensor names.
    public static let readoutName = "readout"

    /// A population: a compiled model, a size, an optional bias current, and the model
    /// parameters it holds as data (per neuron or trained; the others are folded into the
    /// compiled model).
    public struct Population {
        public let name: String
        public let neuron: CompiledNeuron
        public let size: Int
        public let bias: Bool
        /// One per parameter input of `neuron`, in its order.
        public let parameters: [PopulationParameter]

        public init(name: String, neuron: CompiledNeuron, size: Int, bias: Bool = true, parameters: [PopulationParameter] = []) {
            self.name = name
            self.neuron = neuron
            self.size = size
            self.bias = bias
            self.parameters = parameters
        }

        /// The indices (into `parameters`) of the trained ones.
        public var trainedParameters: [Int] { parameters.indices.filter { parameters[$0].trainable } }
    }

    /// Where a projection's presynaptic values come from.
    public enum Source: Hashable, Sendable {
        case input
        case population(Int)
    }

    /// A named weight tensor from a source to a population (row-major, target × source).
    public struct Projection {
        public let name: String
        public let source: Source
        /// Index into `populations`.
        public let target: Int
        /// Reads z_{t−1} of the source (a recurrent projection) instead of the same step's value.
        public let delayed: Bool
        /// Scale of the initial weights times 1/√(source size); nil: the run's input gain for
        /// within-step projections, its recurrent gain for delayed ones.
        public let gain: Double?
        /// Fixed connectivity (target × source, true where a synapse exists); masked entries
        /// stay zero and are never trained.
        public let mask: [Bool]?
    }

    /// The readout: which populations it reads, its size and its leak κ.
    public struct Readout {
        /// Indices into `populations`, in the order of the concatenated spikes it reads.
        public let sources: [Int]
        public let outputs: Int
        public let decay: Double
    }

    public let inputs: Int
    /// In step order (topological order of the within-step projections).
    public let populations: [Population]
    /// In declaration order (the order of the named tensors).
    public let projections: [Projection]
    public let readout: Readout
    /// Per population, where each projection's values sit in its presynaptic vectors.
    package let layouts: [PopulationLayout]
    /// Every trained neuron parameter, in the order of their tensors (step order, then the
    /// model's order).
    public let trainedNeuronParameters: [TrainedParameter]

    /// Builds and checks a graph described by names.
    public init(inputs: Int, populations: [Population], projections: [ProjectionDescription], readout: ReadoutDescription) throws {
        guard inputs > 0 else { throw PlasticityError.invalidConfiguration("a network needs at least one input, got \(inputs)") }
        guard !populations.isEmpty else { throw PlasticityError.invalidConfiguration("a network needs at least one population") }
        var seen = Set<String>()
        for population in populations {
            try Self.checkName(population.name, of: "population")
            guard seen.insert(population.name).inserted else {
                throw PlasticityError.invalidConfiguration("population '\(population.name)' is declared twice")
            }
            guard population.size > 0 else {
                throw PlasticityError.invalidConfiguration("population '\(population.name)' needs at least one neuron, got \(population.size)")
            }
            try population.checkParameters()
            guard population.neuron.structure.coupling == .diagonal else {
                throw PlasticityError.invalidConfiguration("model \(population.neuron.name) of population '\(population.name)' reads other neurons; its blocks are dense across neurons, which the rules do not support yet")
            }
        }
        let order = try Self.stepOrder(populations: populations, projections: projections)
        let indexOf = Dictionary(uniqueKeysWithValues: order.enumerated().map { (populations[$0.element].name, $0.offset) })
        let ordered = order.map { populations[$0] }
        let resolved = try projections.map { try Self.resolve($0, indexOf: indexOf, populations: ordered, inputs: inputs) }
        self.inputs = inputs
        self.populations = ordered
        self.projections = resolved
        self.readout = try Self.resolve(readout, indexOf: indexOf)
        layouts = ordered.indices.map { PopulationLayout(population: $0, in: ordered, projections: resolved, inputs: inputs) }
        trainedNeuronParameters = ordered.enumerated().flatMap { p, population in
            population.trainedParameters.map { q in
                let parameter = population.parameters[q]
                return TrainedParameter(population: p, index: q, tensor: Self.parameterTensorName(population: population.name, parameter: parameter.name),
                                        parameter: parameter, range: population.neuron.parameterInputRanges[q])
            }
        }
        try checkTensors()
        try checkConnectivity()
    }

    /// Population names may not hold dots (tensor names are `population.role`) nor take the
    /// input group's or the readout's name.
    private static func checkName(_ name: String, of kind: String) throws {
        guard !name.isEmpty, !name.contains("."), !name.contains(where: \.isWhitespace) else {
            throw PlasticityError.invalidConfiguration("\(kind) name '\(name)' must be non-empty, without dots or spaces")
        }
        guard name != inputName, name != readoutName else {
            throw PlasticityError.invalidConfiguration("'\(name)' is reserved (the input group and the readout); name the \(kind) otherwise")
        }
    }

    /// The topological order of the within-step projections (declaration order among
    /// populations that are ready together), or an error naming a cycle.
    private static func stepOrder(populations: [Population], projections: [ProjectionDescription]) throws -> [Int] {
        let index = Dictionary(uniqueKeysWithValues: populations.enumerated().map { ($0.element.name, $0.offset) })
        var upstream = [Set<Int>](repeating: [], count: populations.count)
        for projection in projections where !projection.delayed {
            guard let target = index[projection.target], let source = index[projection.source] else { continue }
            upstream[target].insert(source)
        }
        var order: [Int] = [], placed = Set<Int>()
        while order.count < populations.count {
            guard let next = populations.indices.first(where: { !placed.contains($0) && upstream[$0].isSubset(of: placed) }) else {
                let cycle = findCycle(upstream: upstream, among: Set(populations.indices).subtracting(placed))
                throw PlasticityError.invalidConfiguration("within-step projections form a cycle: \(cycle.map { populations[$0].name }.joined(separator: " → ")); make one of them delayed (recurrent)")
            }
            order.append(next)
            placed.insert(next)
        }
        return order
    }

    /// A cycle among `remaining` (every one of which has an unplaced upstream population),
    /// written source → … → back to the source.
    private static func findCycle(upstream: [Set<Int>], among remaining: Set<Int>) -> [Int] {
        var path: [Int] = [remaining.min()!]
        while true {
            let next = upstream[path.last!].intersection(remaining).min()!
            if let start = path.firstIndex(of: next) { return (path[start...] + [next]).reversed() }
            path.append(next)
        }
    }

    private static func resolve(_ description: ProjectionDescription, indexOf: [String: Int], populations: [Population], inputs: Int) throws -> Projection {
        let arrow = "\(description.source) → \(description.target)"
        guard let target = indexOf[description.target] else {
            throw PlasticityError.invalidConfiguration("projection \(arrow): target '\(description.target)' is not a population (populations: \(indexOf.keys.sorted().joined(separator: ", ")))")
        }
        let source: Source
        if description.source == inputName {
            guard !description.delayed else {
                throw PlasticityError.invalidConfiguration("projection \(arrow): the input group has no previous step to delay; make it within-step")
            }
            source = .input
        } else if let index = indexOf[description.source] {
            source = .population(index)
        } else {
            throw PlasticityError.invalidConfiguration("projection \(arrow): source '\(description.source)' is neither '\(inputName)' nor a population")
        }
        if let gain = description.gain, !(gain.isFinite && gain >= 0) {
            throw PlasticityError.invalidConfiguration("projection \(arrow): the gain must be finite and not negative, got \(gain)")
        }
        let sourceSize = source == .input ? inputs : populations[indexOf[description.source]!].size
        let expected = populations[target].size * sourceSize
        if let mask = description.mask, mask.count != expected {
            throw PlasticityError.shapeMismatch(name: "mask of projection \(arrow)", expected: "\(populations[target].size)×\(sourceSize) values",
                                                found: "\(mask.count) values")
        }
        let name = description.name ?? ProjectionDescription.defaultName(source: description.source, target: description.target, delayed: description.delayed)
        return Projection(name: name, source: source, target: target, delayed: description.delayed, gain: description.gain, mask: description.mask)
    }

    private static func resolve(_ description: ReadoutDescription, indexOf: [String: Int]) throws -> Readout {
        guard description.outputs > 0 else { throw PlasticityError.invalidConfiguration("the readout needs at least one output, got \(description.outputs)") }
        guard description.decay >= 0, description.decay < 1 else {
            throw PlasticityError.invalidConfiguration("the readout decay κ must be in [0, 1), got \(description.decay)")
        }
        guard !description.sources.isEmpty else { throw PlasticityError.invalidConfiguration("the readout reads no population") }
        var sources: [Int] = []
        for name in description.sources {
            guard let index = indexOf[name] else {
                throw PlasticityError.invalidConfiguration("the readout reads '\(name)', which is not a population (populations: \(indexOf.keys.sorted().joined(separator: ", ")))")
            }
            guard !sources.contains(index) else { throw PlasticityError.invalidConfiguration("the readout reads population '\(name)' twice") }
            sources.append(index)
        }
        return Readout(sources: sources, outputs: description.outputs, decay: description.decay)
    }

    /// Weights a network may hold (each a Float or Double): more is a mistake in the sizes,
    /// refused before anything is allocated.
    public static let maximumWeights = 1 << 31

    private func checkTensors() throws {
        var total = 0
        for tensor in tensors {
            let (count, overflow) = tensor.rows.multipliedReportingOverflow(by: tensor.columns)
            total = overflow ? Int.max : total &+ count
            guard !overflow, total <= Self.maximumWeights else {
                throw PlasticityError.invalidConfiguration("tensor \(tensor.name) (\(tensor.rows)×\(tensor.columns)) takes the network past \(Self.maximumWeights) weights; check the sizes")
            }
        }
        var seen = Set<String>()
        for tensor in tensors where !seen.insert(tensor.name).inserted {
            throw PlasticityError.invalidConfiguration("two tensors are named '\(tensor.name)'; give the projections distinct names")
        }
        var edges = Set<String>()
        for projection in projections {
            let edge = "\(sourceName(projection.source))→\(populations[projection.target].name)\(projection.delayed ? " (delayed)" : "")"
            guard edges.insert(edge).inserted else {
                throw PlasticityError.invalidConfiguration("projection \(edge) is declared twice; one weight tensor per edge and kind")
            }
        }
    }

    /// Every population receives a projection and reaches the readout (else its weights could
    /// never learn).
    private func checkConnectivity() throws {
        for (index, population) in populations.enumerated() where !projections.contains(where: { $0.target == index }) {
            throw PlasticityError.invalidConfiguration("population '\(population.name)' receives no projection, so nothing drives it")
        }
        var reaching = Set(readout.sources)
        var grew = true
        while grew {
            grew = false
            for projection in projections {
                if case .population(let source) = projection.source, reaching.contains(projection.target), reaching.insert(source).inserted { grew = true }
            }
        }
        if let lost = populations.indices.first(where: { !reaching.contains($0) }) {
            throw PlasticityError.invalidConfiguration("population '\(populations[lost].name)' does not reach the readout, so its weights could never learn; read it out or project it onto a population that does")
        }
    }

    /// The name of a source as written in network files.
    public func sourceName(_ source: Source) -> String {
        switch source {
        case .input: return Self.inputName
        case .population(let index): return populations[index].name
        }
    }

    /// The number of presynaptic values a source provides.
    public func size(of source: Source) -> Int {
        switch source {
        case .input: return inputs
        case .population(let index): return populations[index].size
        }
    }

    public var outputs: Int { readout.outputs }
    public var readoutDecay: Double { readout.decay }
    /// Neurons over all populations (the length of per-neuron vectors such as spike counts).
    public var neuronCount: Int { populations.reduce(0) { $0 + $1.size } }
    /// Where population p's neurons start in per-neuron vectors over all populations.
    public func neuronOffset(of population: Int) -> Int { populations[..<population].reduce(0) { $0 + $1.size } }
    /// Neurons the readout reads (its weights' columns).
    public var readNeuronCount: Int { readout.sources.reduce(0) { $0 + populations[$1].size } }

    /// The name of population p's bias tensor.
    public func biasName(_ population: Int) -> String { "\(populations[population].name).bias" }
    /// The name of the readout's weights from population p.
    public func readoutWeightName(_ population: Int) -> String { "\(Self.readoutName).\(populations[population].name)" }
    public static var readoutBiasName: String { "\(readoutName).bias" }

    /// The name of a population's trained parameter's tensor (e.g. `hidden.tauMembrane`).
    public static func parameterTensorName(population: String, parameter: String) -> String { "\(population).\(parameter)" }

    /// Every trainable tensor in a fixed order: projections (declaration order), biases
    /// (step order), the readout's weights per population it reads, the readout's bias, then
    /// the trained neuron parameters (step order, then the model's order), each with one value
    /// per neuron or one shared by the population.
    public var tensors: [TensorShape] {
        projections.map { TensorShape(name: $0.name, rows: populations[$0.target].size, columns: size(of: $0.source)) }
            + populations.indices.filter { populations[$0].bias }.map { TensorShape(name: biasName($0), rows: populations[$0].size, columns: 1, isVector: true) }
            + readout.sources.map { TensorShape(name: readoutWeightName($0), rows: outputs, columns: populations[$0].size) }
            + [TensorShape(name: Self.readoutBiasName, rows: outputs, columns: 1, isVector: true)]
            + trainedNeuronParameters.map { TensorShape(name: $0.tensor, rows: $0.parameter.values.count, columns: 1, isVector: true) }
    }

    /// The models of the populations, named once each (for reports and checkpoints).
    public var modelNames: String {
        var names: [String] = []
        for population in populations where !names.contains(population.neuron.name) { names.append(population.neuron.name) }
        return names.joined(separator: "+")
    }
}

/// A trainable tensor's name and shape (row-major; a vector has one column).
public struct TensorShape: Sendable, Equatable, Codable {
    public let name: String
    public let rows: Int
    public let columns: Int
    /// A bias: one value per row.
    public let isVector: Bool

    public init(name: String, rows: Int, columns: Int, isVector: Bool = false) {
        self.name = name
        self.rows = rows
        self.columns = columns
        self.isVector = isVector
    }

    public var count: Int { rows * columns }
    /// The shape as written in `.npz` files: (rows, columns), or (rows,) for a vector.
    public var arrayShape: [Int] { isVector ? [rows] : [rows, columns] }
}

/// A projection as a network file or a short form states it, by names.
public struct ProjectionDescription: Sendable, Equatable {
    public var name: String?
    public var source: String
    public var target: String
    public var delayed: Bool
    public var gain: Double?
    public var mask: [Bool]?

    public init(name: String? = nil, source: String, target: String, delayed: Bool = false, gain: Double? = nil, mask: [Bool]? = nil) {
        self.name = name
        self.source = source
        self.target = target
        self.delayed = delayed
        self.gain = gain
        self.mask = mask
    }

    /// `target.input` for the input group, `target.recurrent` for a population onto itself,
    /// `target.source` for another population within the step, `target.source.delayed` for a
    /// delayed one.
    public static func defaultName(source: String, target: String, delayed: Bool) -> String {
        if source == Network.inputName { return "\(target).input" }
        if delayed { return source == target ? "\(target).recurrent" : "\(target).\(source).delayed" }
        return "\(target).\(source)"
    }
}

/// The readout as a network file or a short form states it.
public struct ReadoutDescription: Sendable, Equatable {
    public var sources: [String]
    public var outputs: Int
    public var decay: Double

    public init(sources: [String], outputs: Int, decay: Double = 0) {
        self.sources = sources
        self.outputs = outputs
        self.decay = decay
    }
}
