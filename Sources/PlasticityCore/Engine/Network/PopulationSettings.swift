import PlasticityBase

/// What a network file or the command line states about one population's model: parameter
/// values (`ParameterSource`s), which parameters are trained (per neuron or shared), the
/// surrogate, and the seed distributions draw from.
public struct PopulationSettings: Sendable {
    public var sources: [String: ParameterSource]
    /// Trained parameter → whether it is trained per neuron (true) or shared by the population.
    public var trained: [String: Bool]
    public var surrogate: (any Surrogate)?
    public var seed: UInt64

    public init(sources: [String: ParameterSource] = [:], trained: [String: Bool] = [:], surrogate: (any Surrogate)? = nil, seed: UInt64 = 1) {
        self.sources = sources
        self.trained = trained
        self.surrogate = surrogate
        self.seed = seed
    }

    /// Whether any parameter is per neuron or trained, so that the model alone does not
    /// describe a population.
    public var holdsParameterData: Bool { !trained.isEmpty || sources.values.contains { !$0.isConstant } }

    /// `trained` from `name` (per neuron) and `name:shared` items.
    public static func parseTrained(_ items: [String]) throws -> [String: Bool] {
        var result: [String: Bool] = [:]
        for item in items {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard !parts[0].isEmpty, parts.count == 1 || (parts.count == 2 && ["shared", "per-neuron"].contains(parts[1])) else {
                throw PlasticityError.invalidConfiguration("a trained parameter is NAME (one value per neuron) or NAME:shared (one for the population), got '\(item)'")
            }
            guard result.updateValue(parts.count == 1 || parts[1] == "per-neuron", forKey: parts[0]) == nil else {
                throw PlasticityError.invalidConfiguration("parameter '\(parts[0])' is listed as trained twice")
            }
        }
        return result
    }
}

extension Network.Population {
    /// A population of `model` as `settings` state it: single untrained values are folded
    /// into the compiled model; lists, distributions, arrays and trained parameters become
    /// its parameter data (a trained per-neuron parameter given one value starts with it in
    /// every neuron). Distributions draw from the settings' seed mixed with the population's
    /// and the parameter's names, so populations differ and runs repeat.
    public init(name: String, model: ModelDescription, size: Int, bias: Bool = true, settings: PopulationSettings,
                loadArray: (_ path: String, _ name: String) throws -> [Double]) throws {
        let known = model.parameters.map(\.name)
        for stated in Array(settings.sources.keys) + Array(settings.trained.keys) where !known.contains(stated) {
            throw PlasticityError.unknownParameter(model: model.name, name: stated, known: known)
        }
        var folded: [String: Double] = [:], data: [PopulationParameter] = []
        for spec in model.parameters {
            let source = settings.sources[spec.name], perNeuron = settings.trained[spec.name]
            if let source, case .constant(let value) = source, perNeuron == nil {
                folded[spec.name] = value
                continue
            }
            guard source != nil || perNeuron != nil else { continue }
            let place = "parameter \(spec.name) of population '\(name)'"
            var values = try source?.values(count: size, seed: Self.seed(settings.seed, population: name, parameter: spec.name), loadArray: loadArray)
                ?? [spec.defaultValue]
            guard values.count == 1 || values.count == size else {
                throw PlasticityError.shapeMismatch(name: place, expected: "1 value or \(size) (one per neuron)", found: "\(values.count) values")
            }
            if perNeuron == true, values.count == 1 { values = Array(repeating: values[0], count: size) }
            if perNeuron == false, values.count > 1 {
                throw PlasticityError.invalidConfiguration("\(place) is trained as one shared value but is given one per neuron; train it per neuron, or give one value")
            }
            data.append(PopulationParameter(name: spec.name, values: values, trainable: perNeuron != nil))
        }
        try self.init(name: name, model: model, configuration: ModelConfiguration(parameters: folded, surrogate: settings.surrogate), size: size, bias: bias,
                      parameters: data)
    }

    /// A seed per population and parameter (FNV-1a of their names, mixed with `seed`).
    static func seed(_ seed: UInt64, population: String, parameter: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(population).\(parameter)".utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash ^ (seed &* 0x9E37_79B9_7F4A_7C15)
    }
}
