import Foundation
import PlasticityBase

/// The short forms of the common networks, as the command-line flags state them: `layers`
/// stacked populations of one model (each of `hidden` neurons, each recurrent onto itself
/// when `recurrent`), fed by the inputs at the bottom and read out at the top. One layer is
/// the single population of old: I inputs → N neurons → C readout units.
public struct NetworkShape: Sendable, Equatable, Codable {
    public var inputs: Int
    public var hidden: Int
    public var outputs: Int
    public var recurrent: Bool
    public var bias: Bool
    /// κ of the readout y_t = κ y_{t−1} + W_out z_t + b_out (0: not leaky).
    public var readoutDecay: Double
    /// Stacked populations (1: a single population).
    public var layers: Int

    public init(inputs: Int, hidden: Int, outputs: Int, recurrent: Bool = false, bias: Bool = false, readoutDecay: Double = 0, layers: Int = 1) {
        self.inputs = inputs
        self.hidden = hidden
        self.outputs = outputs
        self.recurrent = recurrent
        self.bias = bias
        self.readoutDecay = readoutDecay
        self.layers = layers
    }

    /// The population names: `hidden`, or `hidden1` … `hiddenL` when stacked.
    public var populationNames: [String] { layers == 1 ? ["hidden"] : (1...Swift.max(1, layers)).map { "hidden\($0)" } }
}

extension Network {
    /// The stacked network of a short form, every layer of `neuron`.
    public convenience init(shape: NetworkShape, neuron: CompiledNeuron) throws {
        try self.init(shape: shape) { Population(name: $0, neuron: neuron, size: shape.hidden, bias: shape.bias) }
    }

    /// The stacked network of a short form, each layer made by `population` from its name
    /// (of `shape.hidden` neurons, with a bias if `shape.bias`).
    public convenience init(shape: NetworkShape, population: (String) throws -> Population) throws {
        guard shape.layers >= 1, shape.layers <= 64 else {
            throw PlasticityError.invalidConfiguration("--layers must be in 1…64, got \(shape.layers)")
        }
        guard shape.hidden > 0 else { throw PlasticityError.invalidConfiguration("a population needs at least one neuron, got \(shape.hidden)") }
        let names = shape.populationNames
        var projections: [ProjectionDescription] = []
        for (index, name) in names.enumerated() {
            projections.append(ProjectionDescription(source: index == 0 ? Network.inputName : names[index - 1], target: name))
            if shape.recurrent { projections.append(ProjectionDescription(source: name, target: name, delayed: true)) }
        }
        try self.init(inputs: shape.inputs,
                      populations: try names.map(population),
                      projections: projections,
                      readout: ReadoutDescription(sources: [names.last!], outputs: shape.outputs, decay: shape.readoutDecay))
    }

    /// One population mixing models (Bellec et al.'s LSNN mixes LIF and ALIF): a population
    /// per model, each fed by the inputs, all recurrently connected to each other and to
    /// themselves when `shape.recurrent`, all read out. `shape.hidden` and `shape.layers` are
    /// not used; the sizes come with the models.
    public static func mixed(_ groups: [(neuron: CompiledNeuron, size: Int)], shape: NetworkShape) throws -> Network {
        guard groups.count >= 2 else { throw PlasticityError.invalidConfiguration("a mixed population needs at least two models") }
        var names: [String] = []
        for group in groups {
            let base = group.neuron.name.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }
            var name = base.isEmpty ? "group" : base
            var suffix = 2
            while names.contains(name) || name == inputName || name == readoutName { name = "\(base)\(suffix)"; suffix += 1 }
            names.append(name)
        }
        var projections = names.map { ProjectionDescription(source: inputName, target: $0) }
        if shape.recurrent {
            for target in names { for source in names { projections.append(ProjectionDescription(source: source, target: target, delayed: true)) } }
        }
        return try Network(inputs: shape.inputs,
                           populations: zip(names, groups).map { Population(name: $0, neuron: $1.neuron, size: $1.size, bias: shape.bias) },
                           projections: projections,
                           readout: ReadoutDescription(sources: names, outputs: shape.outputs, decay: shape.readoutDecay))
    }
}
