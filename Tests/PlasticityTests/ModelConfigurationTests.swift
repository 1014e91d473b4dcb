import PlasticityCore
import Testing

/// A model that reads a parameter it never declared.
struct UndeclaredParameterModel: NeuronModel {
    static let name = "Undeclared"
    static let summary = "test model"
    static let stateVariables = [StateVariable("v")]
    static let parameters = [ParameterSpec("tau", default: 10)]
    static let defaultSurrogate: any Surrogate = TriangleSurrogate()
    let gain: Double
    init(parameters: ParameterValues) { gain = parameters["gain"] }
    func update(_ x: NeuronStepInputs) -> [Sym] { [gain * x.state[0]] }
    func spikeArgument(_ state: [Sym]) -> Sym { state[0] }
}

/// A model whose update returns the wrong number of expressions.
struct WrongArityModel: NeuronModel {
    static let name = "WrongArity"
    static let summary = "test model"
    static let stateVariables = [StateVariable("v"), StateVariable("w")]
    static let parameters: [ParameterSpec] = []
    static let defaultSurrogate: any Surrogate = TriangleSurrogate()
    init(parameters: ParameterValues) {}
    func update(_ x: NeuronStepInputs) -> [Sym] { [x.state[0]] }
    func spikeArgument(_ state: [Sym]) -> Sym { state[0] }
}

@Suite("Model configuration errors")
struct ModelConfigurationTests {
    @Test("unknown and out-of-range parameters are refused by name")
    func parameters() {
        #expect(errorMessage { _ = try TestPlugins.compile("LIF", ["tau": 3]) }
            == "model LIF has no parameter 'tau'; its parameters are tauMembrane, dt, threshold, resetGradient")
        #expect(errorMessage { _ = try TestPlugins.compile("LIF", ["tauMembrane": -5]) }.contains("parameter tauMembrane = -5.0 of model LIF is outside its valid range"))
        #expect(errorMessage { _ = try TestPlugins.compile("ALIF", ["beta": .nan]) }.contains("parameter beta = nan of model ALIF"))
    }

    @Test("a model reading an undeclared parameter or returning the wrong state is refused")
    func invalidModels() {
        #expect(errorMessage { _ = try CompiledNeuron(model: UndeclaredParameterModel.self) } == "model Undeclared reads parameter 'gain' that it does not declare")
        #expect(errorMessage { _ = try CompiledNeuron(model: WrongArityModel.self) } == "model WrongArity is invalid: update returns 1 expressions for 2 state variables")
    }

    @Test("an unknown model name lists the loaded ones")
    func unknownModel() {
        #expect(errorMessage { _ = try TestPlugins.registry.model(named: "HodgkinHuxley") } == "no model named 'HodgkinHuxley'; loaded models: ALIF, AdLIF, Izhikevich, LIF, TextALIF, TextAdLIF, TextLIF")
    }

    @Test("the chosen surrogate is the one the blocks use")
    func surrogateSelection() throws {
        let neuron = try TestPlugins.compile("LIF", surrogate: FastSigmoidSurrogate(slope: 4))
        #expect(neuron.surrogate.key == "fast-sigmoid(slope=4)")
        // At f = 0.5 (v = 1.5·v_th), ψ = 1/(1 + 4·0.5)² and c = ψ/v_th.
        #expect(Swift.abs(neuron.spikeGradientValues(at: [1.5])[0] - 1.0 / 9) < 1e-12)
    }
}
