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

    /// Compiles the model with its defaults and checks its Jacobian rules (with the declared
    /// parameter partials, at the defaults too).
    public func verify() throws -> VerificationReport {
        JacobianVerifier.verify(try CompiledNeuron(model: self, configuration: ModelConfiguration(parameterInputs: verifiedParameterInputs)), stopped: stoppedEntries)
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
