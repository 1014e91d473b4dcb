import ArgumentParser
import Foundation
import PlasticityCore

/// Which plugins a command loads: the built-in models, anything in PLASTICITY_PLUGIN_PATH,
/// and every `--plugin`.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin"), help: "A plugin to load: a library or a .neuron model file (a path, or a name looked up as lib<name>.so, <name>.so or <name>.neuron). Repeatable.")
    var plugins: [String] = []

    /// The plugins built with this package.
    static let builtIn = ["LIF", "ALIF", "AdLIF", "Izhikevich"]

    func loadRegistry() throws -> ModelRegistry {
        let registry = ModelRegistry()
        let loader = PluginLoader(screen: IsolatedPluginScreen())
        for name in Self.builtIn {
            try loader.load(name, into: registry)
        }
        for problem in PluginLoader.searchPathProblems() { warn(problem) }
        for library in PluginLoader.discoverPlugins() where !registry.hasLoaded(library) {
            do {
                try loader.load(library, into: registry)
            } catch {
                warn("skipping \(library): \(error)")
            }
        }
        // A plugin named again (a built-in, or one found on the search path) is already there.
        for plugin in plugins where !registry.hasLoaded(try loader.resolve(plugin)) {
            try loader.load(plugin, into: registry)
        }
        return registry
    }
}

/// Parameter settings and surrogate choice for one model.
struct ModelSettings: ParsableArguments {
    @Option(name: .customLong("set"), help: "Set a model parameter: one value (--set tauMembrane=30), or one per neuron from \(ParameterSource.forms) (--set tauMembrane=uniform(5,50)). Repeatable.")
    var assignments: [String] = []

    @Option(help: "Surrogate derivative: \(SurrogateParser.families.joined(separator: ", ")), optionally with parameters, e.g. 'fast-sigmoid(slope=25)'.")
    var surrogate: String?

    @Option(name: .customLong("train-parameters"), help: "Model parameters to learn with the weights, comma-separated: NAME (one value per neuron) or NAME:shared (one per population), e.g. tauMembrane,beta:shared. Kept within the model's valid range.",
            transform: { $0.split(separator: ",").map(String.init) })
    var trainedParameters: [String] = []

    @Option(help: "Seed of the per-neuron parameter draws (--set NAME=uniform(…) and the like).")
    var parameterSeed: UInt64 = 1

    /// The model as one population of it is compiled: single values folded, per-neuron and
    /// trained parameters as inputs of the step (their values are in `settings`).
    func configuration() throws -> ModelConfiguration {
        let settings = try settings()
        var parameters: [String: Double] = [:], inputs = Set(settings.trained.keys)
        for (name, source) in settings.sources {
            if case .constant(let value) = source { parameters[name] = value } else { inputs.insert(name) }
        }
        return ModelConfiguration(parameters: parameters, surrogate: settings.surrogate, parameterInputs: inputs.sorted())
    }

    /// Everything stated for the model's populations.
    func settings() throws -> PopulationSettings {
        var sources: [String: ParameterSource] = [:]
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--set expects name=value, got '\(assignment)'") }
            do {
                sources[parts[0]] = try ParameterSource.parse(parts[1])
            } catch {
                throw ValidationError("--set \(assignment): \(error)")
            }
        }
        return PopulationSettings(sources: sources, trained: try PopulationSettings.parseTrained(trainedParameters),
                                  surrogate: try surrogate.map(SurrogateParser.parse), seed: parameterSeed)
    }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}
