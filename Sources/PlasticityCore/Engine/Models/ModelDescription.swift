import Foundation
import PlasticityBase

/// A neuron model as the core sees it, whatever language it was written in: names,
/// parameters, and how to build its symbolic step for given parameter values. Swift models
/// (`NeuronModel` types) and C models (native kernels) both become one.
public struct ModelDescription: @unchecked Sendable {
    public let name: String
    public let summary: String
    public let stateVariables: [StateVariable]
    public let parameters: [ParameterSpec]
    public let defaultSurrogate: any Surrogate
    /// Given parameter values: F (the state update) and f (the spike argument) as functions
    /// of symbolic inputs.
    let makeStep: (ParameterValues) -> (update: (NeuronStepInputs) -> [Sym], spikeArgument: ([Sym]) -> Sym)
    /// Entries the verifier does not hold to finite differences, with the reason: a C plugin's
    /// STOPPED rules (zero by choice), and its partials with respect to a parameter no rule
    /// names (that parameter is never trained, so they are never used).
    public let uncheckedEntries: [CheckedEntry: String]
    /// Parameters that cannot be trained, with the reason (a C plugin's parameters without
    /// declared partial derivatives); a population that trains one is refused with it.
    public let untrainableParameters: [String: String]
    /// Parameters that are inputs of the step when the verifier checks it (a C plugin's, from
    /// ABI 2 on, which reads them as per-neuron arrays: so kernels are called with a distinct
    /// value per neuron, and declared parameter partials are checked; a Swift or text model's
    /// are derived, not declared).
    public let verifiedParameterInputs: [String]
    /// The parameter values and data this model has passed verification at (shared by copies).
    let verifiedConfigurations = VerifiedConfigurations()

    public init(name: String, summary: String, stateVariables: [StateVariable], parameters: [ParameterSpec], defaultSurrogate: any Surrogate,
                uncheckedEntries: [CheckedEntry: String] = [:], untrainableParameters: [String: String] = [:], verifiedParameterInputs: [String] = [],
                makeStep: @escaping (ParameterValues) -> (update: (NeuronStepInputs) -> [Sym], spikeArgument: ([Sym]) -> Sym)) {
        self.uncheckedEntries = uncheckedEntries
        self.untrainableParameters = untrainableParameters
        self.verifiedParameterInputs = verifiedParameterInputs
        self.name = name
        self.summary = summary
        self.stateVariables = stateVariables
        self.parameters = parameters
        self.defaultSurrogate = defaultSurrogate
        self.makeStep = makeStep
    }

    /// Compiles the model with `configuration`'s parameter values (its defaults unless set) and
    /// checks its Jacobian rules there, the declared parameter partials too.
    public func verify(_ configuration: ModelConfiguration = .init(), options: VerificationOptions = .init()) throws -> VerificationReport {
        // Parameters a population gives values of are inputs too, so that the points take them.
        let inputs = verifiedParameterInputs + options.parameterData.keys.sorted().filter { !verifiedParameterInputs.contains($0) }
        let neuron = try CompiledNeuron(model: self, configuration: ModelConfiguration(parameters: configuration.parameters, parameterInputs: inputs))
        return JacobianVerifier.verify(neuron, skipped: uncheckedEntries, options: options, parameters: nonDefaultValues(configuration))
    }

    /// The values of `configuration` that differ from the model's defaults.
    func nonDefaultValues(_ configuration: ModelConfiguration) -> [String: Double] {
        configuration.parameters.filter { name, value in parameters.first { $0.name == name }?.defaultValue != value }
    }

    /// Traces and compiles the model with `configuration`. A model whose step uses declared
    /// partial derivatives (a C plugin's rules, a Swift primitive's `partials`) was verified
    /// at its defaults when loaded; a rule right only there (a constant exp(−1/τ) declared for
    /// the default τ) would give wrong gradients silently elsewhere, so other parameter values
    /// are verified before use, once per set of values.
    /// - Parameter parameterData: the values a population gives its parameter inputs; the
    ///   verification draws from them.
    public func compile(_ configuration: ModelConfiguration = .init(), parameterData: [String: [Double]] = [:]) throws -> CompiledNeuron {
        let neuron = try CompiledNeuron(model: self, configuration: configuration)
        let values = nonDefaultValues(configuration)
        guard !values.isEmpty || !parameterData.isEmpty, neuron.graph.hasDeclaredPartials else { return neuron }
        try verifiedConfigurations.verifyOnce(VerifiedConfigurations.Key(values: values, data: parameterData)) {
            let report = try verify(configuration, options: VerificationOptions(parameterData: parameterData))
            if let failure = report.failure {
                throw PlasticityError.failedVerificationAtParameters(detail: failure, command: "plasticity verify \(name) "
                    + values.keys.sorted().map { "--set \($0)=\(values[$0]!)" }.joined(separator: " ")
                    + (parameterData.isEmpty ? "" : " (at the population's own values of \(parameterData.keys.sorted().joined(separator: ", ")))"))
            }
        }
        return neuron
    }

    /// The description of a Swift model type.
    public init(_ model: any NeuronModel.Type) {
        self.init(name: model.name, summary: model.summary, stateVariables: model.stateVariables, parameters: model.parameters,
                  defaultSurrogate: model.defaultSurrogate) { values in
            let instance = model.init(parameters: values)
            return (instance.update, instance.spikeArgument)
        }
    }
}

/// The sets of parameter values a model has been verified at, so each is verified once per
/// process. Safe to use from several threads.
final class VerifiedConfigurations: @unchecked Sendable {
    private let lock = NSLock()
    private var passed = Set<Key>()

    /// Parameter values set for the model, and values a population gives its parameter inputs.
    struct Key: Hashable {
        let values: [String: Double]
        let data: [String: [Double]]
    }

    /// Runs `verify` unless `key` passed before; remembers it if it does not throw.
    func verifyOnce(_ key: Key, _ verify: () throws -> Void) throws {
        if lock.withLock({ passed.contains(key) }) { return }
        try verify()
        lock.withLock { _ = passed.insert(key) }
    }
}
