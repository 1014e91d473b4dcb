import PlasticityBase

/// A model parameter that a population holds as data instead of folding it into its compiled
/// step: one value per neuron (heterogeneous) or one shared by the population, fixed or
/// trained. A trained one is a named tensor (`population.parameter`) with a gradient in every
/// rule; after each optimiser step it is projected back into the model's valid range.
public struct PopulationParameter: Sendable, Equatable {
    public let name: String
    /// One value per neuron, or one value shared by every neuron of the population. For a
    /// trained parameter these are the initial values.
    public let values: [Double]
    public let trainable: Bool

    public init(name: String, values: [Double], trainable: Bool) {
        self.name = name
        self.values = values
        self.trainable = trainable
    }

    /// Whether every neuron has its own value.
    public var isPerNeuron: Bool { values.count > 1 }
}

/// A trained neuron parameter as a network holds it: its population (index in step order), its
/// index among the population's parameters (and its neuron's parameter inputs), its tensor's
/// name (`population.parameter`), its initial data and its model's valid range.
public struct TrainedParameter: Sendable {
    public let population: Int
    public let index: Int
    public let tensor: String
    public let parameter: PopulationParameter
    public let range: ClosedRange<Double>
}

extension Network.Population {
    /// The parameters match the neuron's parameter inputs, with one value or one per neuron,
    /// each finite and within the model's range.
    func checkParameters() throws {
        let inputs = neuron.parameterInputs
        guard parameters.map(\.name) == inputs else {
            throw PlasticityError.invalidConfiguration("population '\(name)': its parameter data (\(parameters.map(\.name).joined(separator: ", "))) does not match the parameter inputs its model was compiled with (\(inputs.joined(separator: ", ")))")
        }
        for (parameter, range) in zip(parameters, neuron.parameterInputRanges) {
            if parameter.trainable, let reason = neuron.untrainableParameters[parameter.name] {
                throw PlasticityError.invalidConfiguration("population '\(name)' cannot train '\(parameter.name)': \(reason)")
            }
            guard parameter.values.count == 1 || parameter.values.count == size else {
                throw PlasticityError.shapeMismatch(name: "parameter \(parameter.name) of population '\(name)'", expected: "1 value or \(size) (one per neuron)",
                                                    found: "\(parameter.values.count) values")
            }
            if let index = parameter.values.firstIndex(where: { !$0.isFinite || !range.contains($0) }) {
                throw PlasticityError.parameterOutOfRange(model: neuron.name, name: "\(parameter.name) of neuron \(index) in population '\(name)'", value: parameter.values[index],
                                                          range: formatRange(range))
            }
        }
    }
}

extension Network.Population {
    /// A population of `model` holding `parameters` as data: the model is compiled with them
    /// as inputs of its step (the others at `configuration`'s values, folded).
    public init(name: String, model: ModelDescription, configuration: ModelConfiguration = .init(), size: Int, bias: Bool = true,
                parameters: [PopulationParameter]) throws {
        var configuration = configuration
        configuration.parameterInputs = parameters.map(\.name)
        self.init(name: name, neuron: try model.compile(configuration, parameterData: Dictionary(parameters.map { ($0.name, $0.values) }) { first, _ in first }),
                  size: size, bias: bias, parameters: parameters)
        try checkParameters()
    }
}

extension Network {
    /// Every trained neuron parameter of `parameters` is finite and within its model's range
    /// (weights read from a file, or a checkpoint, are checked before use).
    public func checkNeuronParameters<T>(_ parameters: ParameterSet<T>) throws {
        for trained in trainedNeuronParameters {
            if let bad = parameters[trained.tensor].first(where: { !Double($0).isFinite || !trained.range.contains(Double($0)) }) {
                throw PlasticityError.parameterOutOfRange(model: populations[trained.population].neuron.name, name: trained.tensor, value: Double(bad),
                                                          range: formatRange(trained.range))
            }
        }
    }

    /// Finishes an optimiser's update of the trained neuron parameters, from `previous` to
    /// `parameters`: each parameter's step is scaled by its population's typical magnitude
    /// (the mean |initial value|, at least 1), so that one learning rate moves a weight of
    /// order 1 and a time constant of order 20 ms alike; then each value is projected back
    /// into its model's valid range (τ > 0 and the like). Projection rather than a
    /// reparameterisation keeps the tensors in the model's own units.
    public func finishNeuronParameterUpdate<T>(_ parameters: inout ParameterSet<T>, previous: ParameterSet<T>) {
        for trained in trainedNeuronParameters {
            let initial = trained.parameter.values
            let scale = T(Swift.max(1, initial.map(Swift.abs).reduce(0, +) / Double(initial.count)))
            let (lower, upper) = (T(trained.range.lowerBound), T(trained.range.upperBound))
            parameters[trained.tensor] = zip(previous[trained.tensor], parameters[trained.tensor]).map { old, new in
                Swift.min(Swift.max(old + scale * (new - old), lower), upper)
            }
        }
    }
}
