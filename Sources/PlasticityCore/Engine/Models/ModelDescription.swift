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
    /// Entries the model declares zero by choice (a C plugin's STOPPED rules): the verifier
    /// does not hold them to finite differences.
    public let stoppedEntries: Set<CheckedEntry>
    /// Parameters that cannot be trained, with the reason (a C plugin's parameters without
    /// declared partial derivatives); a population that trains one is refused with it.
    public let untrainableParameters: [String: String]
    /// Parameters whose declared partial derivatives the verifier checks too (a C plugin's;
    /// a Swift or text model's are derived, not declared).
    public let verifiedParameterInputs: [String]
    /// The parameter values this model has passed verification at (shared by copies).
    let verifiedConfigurations = VerifiedConfigurations()

    public init(name: String, summary: String, stateVariables: [StateVariable], parameters: [ParameterSpec], defaultSurrogate: any Surrogate,
                stoppedEntries: Set<CheckedEntry> = [], untrainableParameters: [String: String] = [:], verifiedParameterInputs: [String] = [],
                makeStep: @escaping (ParameterValues) -> (update: (NeuronStepInputs) -> [Sym], spikeArgument: ([Sym]) -> Sym)) {
        self.stoppedEntries = stoppedEntries
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
        let neuron = try CompiledNeuron(model: self, configuration: ModelConfiguration(parameters: configuration.parameters, parameterInputs: verifiedParameterInputs))
        return JacobianVerifier.verify(neuron, stopped: stoppedEntries, options: options, parameters: nonDefaultValues(configuration))
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
    public func compile(_ configuration: ModelConfiguration = .init()) throws -> CompiledNeuron {
        let neuron = try CompiledNeuron(model: self, configuration: configuration)
        let values = nonDefaultValues(configuration)
        guard !values.isEmpty, neuron.graph.hasDeclaredPartials else { return neuron }
        try verifiedConfigurations.verifyOnce(values) {
            let report = try verify(configuration)
            if let failure = report.failure {
                throw PlasticityError.failedVerificationAtParameters(detail: failure, command: "plasticity verify \(name) "
                    + values.keys.sorted().map { "--set \($0)=\(values[$0]!)" }.joined(separator: " "))
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
    private var passed = Set<[String: Double]>()

    /// Runs `verify` unless `values` passed before; remembers them if it does not throw.
    func verifyOnce(_ values: [String: Double], _ verify: () throws -> Void) throws {
        if lock.withLock({ passed.contains(values) }) { return }
        try verify()
        lock.withLock { _ = passed.insert(values) }
    }
}
