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
        let loader = PluginLoader()
        for name in Self.builtIn {
            try loader.load(name, into: registry)
        }
        for library in PluginLoader.discoverPlugins() where !registry.hasLoaded(library) {
            do {
                try loader.load(library, into: registry)
            } catch {
                warn("skipping \(library): \(error)")
            }
        }
        for plugin in plugins {
            try loader.load(plugin, into: registry)
        }
        return registry
    }
}

/// Parameter settings and surrogate choice for one model.
struct ModelSettings: ParsableArguments {
    @Option(name: .customLong("set"), help: "Set a model parameter, e.g. --set tauMembrane=30. Repeatable.")
    var assignments: [String] = []

    @Option(help: "Surrogate derivative: \(SurrogateParser.families.joined(separator: ", ")), optionally with parameters, e.g. 'fast-sigmoid(slope=25)'.")
    var surrogate: String?

    func configuration() throws -> ModelConfiguration {
        var parameters: [String: Double] = [:]
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw ValidationError("--set expects name=value, got '\(assignment)'")
            }
            parameters[parts[0]] = value
        }
        return ModelConfiguration(parameters: parameters, surrogate: try surrogate.map(SurrogateParser.parse))
    }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}
