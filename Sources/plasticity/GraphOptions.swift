import ArgumentParser
import Foundation
import PlasticityCore

/// How every command that builds a network is told its graph: a network file, or the short
/// forms — stacked layers of `--model`, or one population mixing models (LSNN).
struct GraphOptions: ParsableArguments {
    @Option(help: "A network file (JSON; Documentation/Networks.md): populations, projections and readout. Replaces --model, --hidden, --recurrent, --layers and --mix.")
    var network: String?

    @Option(help: "Stacked populations of --model, each of --hidden neurons (each recurrent onto itself with --recurrent); the bottom one reads the inputs, the readout the top one.")
    var layers: Int = 1

    @Option(help: "More models mixed into the population, as MODEL:N[,MODEL:N…] (LSNN: --model LIF --hidden 60 --mix ALIF:40 --recurrent): a population per model, all fed by the inputs, all connected to each other with --recurrent, all read out.",
            transform: MixList.parse)
    var mix: MixList?

    func validate() throws {
        try Self.validateShortForm(layers: layers, mix: mix)
        if network != nil, layers != 1 || mix != nil { throw ValidationError("--network states the whole graph; drop --layers and --mix") }
    }

    /// `--layers` in range, and not combined with `--mix` (every command with the short forms).
    static func validateShortForm(layers: Int, mix: MixList?) throws {
        guard (1...64).contains(layers) else { throw ValidationError("--layers must be in 1…64, got \(layers)") }
        if mix != nil, layers != 1 { throw ValidationError("--mix makes one mixed population; it cannot be stacked with --layers") }
    }

    /// Whether the network comes from a file (then `--model` is not needed).
    var fromFile: Bool { network != nil }

    /// The network these options describe, with `shape` giving the sizes of the short forms;
    /// `settings` (values, per-neuron values, trained parameters, surrogate) apply to every
    /// population of `model` (models mixed in get only its surrogate).
    /// A network file takes its inputs and outputs from `shape` when they come from data
    /// (`sizesFromData`, and then they must agree with any the file states); otherwise the
    /// file's own win and `shape`'s fill in what it leaves out. Its distributions draw from
    /// `settings.seed`.
    func build(model: String?, settings: PopulationSettings, registry: ModelRegistry, shape: NetworkShape, sizesFromData: Bool = true) throws -> Network {
        if let network {
            let file = try NetworkFile.load(network)
            return try file.build(registry: registry, inputs: sizesFromData || file.inputs == nil ? shape.inputs : nil,
                                  outputs: sizesFromData || file.outputs == nil ? shape.outputs : nil, seed: settings.seed,
                                  loadArray: NetworkArrays.parameterArray)
        }
        guard let model else { throw ValidationError("name the neuron model with --model, or give a --network file") }
        let description = try registry.model(named: model).model
        var stacked = shape
        stacked.layers = layers
        let makePopulation = { (name: String) in
            try Network.Population(name: name, model: description, size: shape.hidden, bias: shape.bias, settings: settings, loadArray: NetworkArrays.parameterArray)
        }
        guard let mix else { return try Network(shape: stacked, population: makePopulation) }
        try MixList.refuseParameterData(settings)
        return try Network.mixed([(try makePopulation("main").neuron, shape.hidden)] + mix.compile(registry: registry, surrogate: settings.surrogate), shape: shape)
    }
}

/// `--mix MODEL:N[,MODEL:N…]`, each size at least 1.
struct MixList {
    let groups: [(model: String, size: Int)]

    static func parse(_ text: String) throws -> MixList {
        let groups = try text.split(separator: ",", omittingEmptySubsequences: false).map { item -> (String, Int) in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let size = Int(parts[1]), size >= 1 else {
                throw ValidationError("--mix expects MODEL:N items (N ≥ 1) separated by commas, got '\(item)'")
            }
            return (String(parts[0]), size)
        }
        return MixList(groups: groups)
    }

    /// `--set` and `--train-parameters` describe one model's populations: per-neuron or trained
    /// parameters of a mix go in a network file, population by population.
    static func refuseParameterData(_ settings: PopulationSettings) throws {
        guard !settings.holdsParameterData else {
            throw ValidationError("per-neuron or trained parameters apply to one model; with --mix, state them per population in a --network file")
        }
    }

    /// Each model compiled with its defaults and `surrogate`, with its size.
    func compile(registry: ModelRegistry, surrogate: (any Surrogate)?) throws -> [(neuron: CompiledNeuron, size: Int)] {
        try groups.map { (neuron: try registry.model(named: $0.model).compile(ModelConfiguration(surrogate: surrogate)), size: $0.size) }
    }
}
