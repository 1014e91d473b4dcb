import PlasticityBase

/// A state variable of a neuron model.
public struct StateVariable: Sendable, Equatable {
    public let name: String
    /// The value at t = 0.
    public let initialValue: Double
    public let summary: String
    /// The values it typically takes, if stated: the verifier samples random states there
    /// (otherwise around the initial value).
    public let typicalRange: ClosedRange<Double>?
    public init(_ name: String, initialValue: Double = 0, summary: String = "", typicalRange: ClosedRange<Double>? = nil) {
        self.name = name
        self.initialValue = initialValue
        self.summary = summary
        self.typicalRange = typicalRange
    }
}

/// A named, user-settable parameter of a neuron model.
public struct ParameterSpec: Sendable, Equatable {
    public let name: String
    public let defaultValue: Double
    public let summary: String
    /// The values the model accepts; anything else is refused when the model is compiled.
    public let validRange: ClosedRange<Double>
    public init(_ name: String, default defaultValue: Double, summary: String = "", validRange: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) {
        self.name = name
        self.defaultValue = defaultValue
        self.summary = summary
        self.validRange = validRange
    }
}

/// Parameter values handed to a model when it is instantiated: the user's settings over the
/// defaults. Reading an undeclared name is recorded and reported as an error at compile time.
///
/// A model reads a parameter either as a number (`parameters["tau"]`), which folds it into
/// the step's constants, or as a symbol (`parameters.symbol("tau")`), which lets the same
/// parameter be an input of the step when the user sets it per neuron or trains it (see
/// `ModelConfiguration.parameterInputs`) and folds it otherwise. Only parameters read as
/// symbols can be per neuron or trained.
public final class ParameterValues {
    public let model: String
    private let values: [String: Double]
    /// The graph variables of the parameters that are inputs of the step.
    private let inputs: [String: Sym]
    private(set) var undeclaredReads: [String] = []
    private(set) var refusals: [String] = []

    init(model: String, values: [String: Double], inputs: [String: Sym] = [:]) {
        self.model = model
        self.values = values
        self.inputs = inputs
    }

    /// The value of `name`, folded into the step as a constant. A parameter that is an input
    /// of the step (per neuron or trained) has no single value: reading it so is refused.
    public subscript(_ name: String) -> Double {
        guard let value = values[name] else {
            undeclaredReads.append(name)
            return .nan
        }
        if inputs[name] != nil {
            refuse("it reads parameter '\(name)' as a number while building its step, so '\(name)' cannot be set per neuron or trained; read it with parameters.symbol(\"\(name)\")")
        }
        return value
    }

    /// `name` as a symbol of the step: the graph variable when the parameter is an input of
    /// the step, otherwise its value as a constant (so the step compiles exactly as if it had
    /// been read as a number).
    public func symbol(_ name: String) -> Sym {
        if let input = inputs[name] { return input }
        guard let value = values[name] else {
            undeclaredReads.append(name)
            return Sym(.nan)
        }
        return Sym(value)
    }

    /// Whether `name` is an input of the step (set per neuron or trained) rather than a value.
    public func isInput(_ name: String) -> Bool { inputs[name] != nil }

    /// Refuses these values with a reason, reported as an invalid model when the model is
    /// compiled: for a model that finds out only while building its step that it cannot be
    /// built with them.
    public func refuse(_ reason: String) { refusals.append(reason) }

    /// A 0/1 parameter read as a flag.
    public func flag(_ name: String) -> Bool { self[name] != 0 }
}

/// What one time step of a neuron sees: its previous state h_{t−1}, its own previous spike
/// z_{t−1} and its synaptic input current I_t.
public struct NeuronStepInputs {
    public let state: [Sym]
    public let previousSpike: Sym
    public let current: Sym
}

/// A neuron model, written once with symbolic scalars.
///
/// The core traces `update` (F: h_t = F(h_{t−1}, z_{t−1}, I_t)) and `spikeArgument`
/// (f: z_t = spike(f(h_t))), derives every Jacobian block from them, classifies each entry as
/// zero, constant or varying, and compiles the kernels every learning rule uses. The spike and
/// its surrogate derivative are applied by the core, so the surrogate stays selectable.
public protocol NeuronModel {
    /// The model's unique name, e.g. `LIF`.
    static var name: String { get }
    /// One line for `plasticity models`.
    static var summary: String { get }
    static var stateVariables: [StateVariable] { get }
    static var parameters: [ParameterSpec] { get }
    /// The surrogate used unless the user chooses another.
    static var defaultSurrogate: any Surrogate { get }
    init(parameters: ParameterValues)
    /// F: the new state, one expression per state variable, in `stateVariables` order.
    func update(_ inputs: NeuronStepInputs) -> [Sym]
    /// f: the argument of the spike function, in terms of the new state h_t.
    func spikeArgument(_ state: [Sym]) -> Sym
}

/// A user's choice of parameter values and surrogate for a model.
public struct ModelConfiguration: Sendable {
    public var parameters: [String: Double]
    public var surrogate: (any Surrogate)?
    /// Parameters that are inputs of the compiled step instead of folded constants: those a
    /// population sets per neuron or trains. Their values come with the population's data;
    /// `parameters` may still hold a value for them, which is checked but not compiled in.
    public var parameterInputs: [String]
    public init(parameters: [String: Double] = [:], surrogate: (any Surrogate)? = nil, parameterInputs: [String] = []) {
        self.parameters = parameters
        self.surrogate = surrogate
        self.parameterInputs = parameterInputs
    }
}
