import Foundation
import PlasticityBase

/// A model available to the host, with the plugin file it came from.
public struct RegisteredModel {
    public let model: ModelDescription
    /// The plugin library's absolute path, or a description such as `in-process`.
    public let source: String
    public var name: String { model.name }

    /// Traces and compiles the model with a configuration (verified first at parameter values
    /// other than the defaults; see `ModelDescription.compile`).
    public func compile(_ configuration: ModelConfiguration = .init()) throws -> CompiledNeuron {
        try model.compile(configuration)
    }
}

/// The models a host has loaded. Names are unique ignoring case (`--model` matches either
/// way, so `LIF` and `lif` would be a coin toss) and not empty; a plugin file is loaded at
/// most once.
/// Safe to use from several threads.
public final class ModelRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var models: [String: RegisteredModel] = [:]
    private var sources: [String] = []

    public init() {}

    /// Every registered model, sorted by name.
    public var all: [RegisteredModel] {
        lock.withLock { models.values.sorted { $0.name < $1.name } }
    }

    /// The plugin files loaded so far, in load order.
    public var loadedSources: [String] { lock.withLock { sources } }

    /// Whether `source` (an absolute path) has been loaded.
    public func hasLoaded(_ source: String) -> Bool { lock.withLock { sources.contains(source) } }

    /// Registers every model of `manifest` from `source`, or none if any name is taken.
    public func register(_ manifest: [ModelDescription], from source: String) throws {
        try lock.withLock {
            if sources.contains(source) { throw PlasticityError.pluginAlreadyLoaded(path: source) }
            var names = Set<String>()
            for model in manifest {
                guard !model.name.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw PlasticityError.invalidConfiguration("\(source) registers a model with an empty name; every model needs one")
                }
                if let existing = models[model.name] {
                    throw PlasticityError.duplicateModel(name: model.name, existing: existing.source, new: source)
                }
                if let existing = models.values.first(where: { $0.name.lowercased() == model.name.lowercased() }) {
                    throw PlasticityError.invalidConfiguration("model '\(model.name)' from \(source) differs from '\(existing.name)' (registered by \(existing.source)) "
                                                               + "only in case; --model matches names either way, so names must differ in more than case")
                }
                guard names.insert(model.name.lowercased()).inserted else {
                    throw PlasticityError.duplicateModel(name: model.name, existing: source, new: source)
                }
            }
            for model in manifest { models[model.name] = RegisteredModel(model: model, source: source) }
            sources.append(source)
        }
    }

    /// The model called `name` (case-insensitive if no exact match).
    public func model(named name: String) throws -> RegisteredModel {
        try lock.withLock {
            if let exact = models[name] { return exact }
            if let match = models.values.first(where: { $0.name.lowercased() == name.lowercased() }) { return match }
            throw PlasticityError.unknownModel(name: name, known: models.keys.sorted())
        }
    }
}
