import Foundation
import PlasticityCore
import Testing

@Suite("C plugin ABI 3")
struct CPluginABI3Tests {
    static func build(_ name: String, defines: [String] = []) throws -> String {
        try CPluginTests.build(name, defines: defines, source: DatasetTests.fixtures.appendingPathComponent("abi3_plugin.c"))
    }

    @Test("sized structs give descriptions and ranges; a partial of the parameters is a constant evaluated per configuration")
    func descriptionsRangesAndParameterConstants() throws {
        let registry = ModelRegistry()
        try PluginLoader().load(try Self.build("LeakyThree"), into: registry)
        let model = try registry.model(named: "LeakyThree").model
        #expect(model.stateVariables[0].summary == "membrane potential (threshold 1)" && model.stateVariables[0].typicalRange == -1...2)
        #expect(model.parameters.map(\.summary) == ["membrane time constant (ms)", "time step (ms)"])
        #expect(model.parameters[0].validRange == 1...1000)
        #expect(model.parameters[1].validRange.upperBound == .greatestFiniteMagnitude, "both bounds 0: any value")
        #expect(errorMessage { _ = try model.compile(ModelConfiguration(parameters: ["tau": 0.5])) }.contains("tau = 0.5 of model LeakyThree is outside its valid range"))

        // dv/dv = exp(-dt/τ) and dv/dI = 1 − exp(-dt/τ): constants of each configuration.
        for tau in [20.0, 5.0] {
            let neuron = try model.compile(ModelConfiguration(parameters: ["tau": tau]))
            #expect(neuron.stateJacobian[0][0].constantValue == exp(-1 / tau), "τ = \(tau)")
            #expect(neuron.currentGain[0].constantValue == 1 - exp(-1 / tau))
        }
        // Per neuron or trained: a function of the parameter inputs, constant in time.
        let perNeuron = try model.compile(ModelConfiguration(parameterInputs: ["tau"]))
        #expect(perNeuron.stateJacobian[0][0].constantValue == nil)
    }

    @Test("with τ per neuron and trained, every rule's gradients equal BPTT's, and equal those of the same model written as a text file (derived, not declared)")
    func trainedTimeConstants() throws {
        let registry = ModelRegistry()
        try PluginLoader().load(try Self.build("TrainedThree"), into: registry)
        let text = try ModelFile.parse("""
            model LeakyText
            state v = 0
            parameter tau = 20 in [1, 1000]
            parameter dt = 1
            let alpha = exp(-dt/tau)
            v' = alpha*v + (1 - alpha)*I - z
            spike v - 1
            """, path: "LeakyText.neuron")
        func gradients(_ model: ModelDescription, _ rule: LearningRuleKind) throws -> GradientResult<Double> {
            let tau = PopulationParameter(name: "tau", values: [12, 20, 35, 50], trainable: true)
            let population = try Network.Population(name: "hidden", model: model, configuration: ModelConfiguration(surrogate: TriangleSurrogate()), size: 4,
                                                    parameters: [tau])
            let network = try Network(inputs: 3, populations: [population],
                                      projections: [ProjectionDescription(source: Network.inputName, target: "hidden", gain: 40)],
                                      readout: ReadoutDescription(sources: ["hidden"], outputs: 2, decay: 0.5))
            let inputs: [Double] = (0..<72).map { Double(($0 * 7) % 5) / 4 }
            let loss = try Loss<Double>(.crossEntropySummed, steps: 12, batch: 2, outputs: 2, labels: [0, 1])
            return try GradientComputation.run(rule: rule, network: network, parameters: ParameterSet<Double>(randomFor: network, seed: 5), inputs: inputs,
                                               steps: 12, batch: 2, loss: loss)
        }
        let model = try registry.model(named: "TrainedThree").model
        let bptt = try gradients(model, .bptt)
        #expect(bptt.spikeCount > 0)
        #expect(bptt.gradients["hidden.tau"].contains { $0 != 0 })
        for rule in [LearningRuleKind.eprop, .rtrl] {
            #expect(relativeError(try gradients(model, rule).gradients, bptt.gradients) < 1e-10, "\(rule)")
        }
        #expect(relativeError(try gradients(text, .bptt).gradients, bptt.gradients) < 1e-10, "the C plugin's declared partials against the text model's derived ones")
    }

    @Test("planted faults of ABI 3 are refused naming the model and the cause", arguments: [
        // τ is checked as an input (its partial is declared), so at many values.
        ("FAULT_CONSTANT_AT_DEFAULT", "model Faulty3: entry ∂v[t]/∂v[t-1] is declared varying but finite differences disagree"),
        ("FAULT_SMALL_STRUCT", "the rules give struct_size 16, but ABI 3's struct is 40 bytes"),
        ("FAULT_DEFAULT_OUTSIDE_RANGE", "the default 0.5 of parameter tau is outside its range [1.0, 1000.0]"),
        // dt is not trainable, but a population may set it per neuron: kernels get it as an array.
        ("FAULT_UNTRAINED_INDEX", "kernel F (update) of model Faulty3 gives neuron 1 of 96 the value"),
    ])
    func plantedFaults(fault: String, expected: String) throws {
        let registry = ModelRegistry()
        let message = errorMessage { try PluginLoader().load(try Self.build("Faulty3", defines: [fault]), into: registry) }
        #expect(message.contains(expected), "\(message)")
        #expect(registry.all.isEmpty)
    }

    @Test("a rule wrong only far from the defaults passes at load and is refused when a population's own per-neuron values reach there")
    func perNeuronValuesVerified() throws {
        let registry = ModelRegistry()
        try PluginLoader().load(try Self.build("LargeTau", defines: ["FAULT_LARGE_TAU"]), into: registry)
        let model = try registry.model(named: "LargeTau").model
        let near = PopulationParameter(name: "tau", values: [15, 20, 25, 30], trainable: false)
        _ = try Network.Population(name: "hidden", model: model, size: 4, parameters: [near])
        let far = PopulationParameter(name: "tau", values: [20, 150, 300, 600], trainable: false)
        let message = errorMessage { _ = try Network.Population(name: "hidden", model: model, size: 4, parameters: [far]) }
        #expect(message.contains("model LargeTau: entry ∂v[t]/∂v[t-1]") && message.contains("at the population's own values of tau"), "\(message)")
        let unchecked = try #require(try model.verify().checks.first { $0.name == "∂v[t]/∂dt" })
        #expect(unchecked.skipped == nil, "dt has a rule here")
    }
}
