import Foundation
import PlasticityCore
import Testing

@Suite("Sparsity annotations of the plugin models")
struct AnnotationTests {
    static func decay(_ tau: Double, dt: Double = 1) -> Double { Foundation.exp(-dt / tau) }

    @Test("LIF with the reset under stopGradient: dv/dv[t-1] is the constant α and the trace collapses")
    func lifStopGradientReset() throws {
        let neuron = try TestPlugins.compile("LIF", ["tauMembrane": 25])
        let structure = neuron.structure
        #expect(structure.total.entries == [[.constant(Self.decay(25))]])
        #expect(structure.ownSpikeGain.entries == [[.zero]])
        #expect(structure.currentGain.entries == [[.constant(1)]])
        #expect(structure.spikeGradient.entries == [[.varying]])
        #expect(structure.traceStorage == [.perPresynaptic])
        #expect(structure.coupling == .diagonal)
        #expect(neuron.varyingEntries == [.spikeGradient(0)], "only ψ is computed per step")
    }

    @Test("LIF with the reset differentiated: dv/dv[t-1] varies and the trace stays per synapse")
    func lifDifferentiatedReset() throws {
        let structure = try TestPlugins.compile("LIF", ["resetGradient": 1]).structure
        #expect(structure.ownSpikeGain.entries == [[.constant(-1)]])
        #expect(structure.total.entries == [[.varying]])
        #expect(structure.traceStorage == [.perSynapse])
    }

    @Test("ALIF: da/dv[t-1] varies through ψ, so the a-component never collapses")
    func alif() throws {
        for reset in [0.0, 1.0] {
            let structure = try TestPlugins.compile("ALIF", ["resetGradient": reset, "tauAdaptation": 500]).structure
            #expect(structure.stateJacobian.entries == [[.constant(Self.decay(20)), .zero], [.zero, .constant(Self.decay(500))]])
            #expect(structure.total.entries[1] == [.varying, .varying])
            // dv/da[t-1] is zero unless the reset is differentiated (then it reads c_a = −βψ/v_th).
            #expect(structure.total.entries[0][1] == (reset == 0 ? .zero : .varying))
            #expect(structure.traceStorage[1] == .perSynapse)
            #expect(structure.traceStorage[0] == (reset == 0 ? .perPresynaptic : .perSynapse))
        }
    }

    @Test("AdLIF: a full 2×2 block with off-diagonal entries")
    func adlif() throws {
        let neuron = try TestPlugins.compile("AdLIF", ["a": 0.3, "b": 0.7])
        let structure = neuron.structure
        let alpha = Self.decay(20), beta = Self.decay(100)
        // ∂w/∂u[t-1] = a, ∂u/∂u[t-1] = α − (1−α)a, ∂u/∂w[t-1] = −(1−α)β: constants of A.
        let a = structure.stateJacobian.entries
        guard case .constant(let uu) = a[0][0], case .constant(let uw) = a[0][1] else {
            Issue.record("A's u row must be constant, got \(a[0])")
            return
        }
        #expect(Swift.abs(uu - (alpha - (1 - alpha) * 0.3)) < 1e-12)
        #expect(Swift.abs(uw + (1 - alpha) * beta) < 1e-12)
        #expect(a[1] == [.constant(0.3), .constant(beta)])
        // The spike-triggered term makes the u column of D vary; no entry is zero.
        #expect(structure.total.entries.allSatisfy { $0.allSatisfy { !$0.isZero } })
        #expect(structure.total.entries[1][0] == .varying)
        #expect(structure.spikeGradient.entries == [[.varying, .zero]])
        #expect(structure.traceStorage == [.perSynapse, .perSynapse])
    }

    @Test("a primitive that reads other neurons makes the blocks dense across neurons")
    func denseCoupling() throws {
        let structure = try CompiledNeuron(model: PopulationMeanModel.self).structure
        #expect(structure.coupling == .dense)
    }
}

/// A configured primitive that keeps the default key (its name) for every exponent.
struct PowerPrimitive: Primitive {
    let exponent: Double
    var name: String { "power" }
    var arity: Int { 1 }
    func value(_ arguments: [Double]) -> Double { Foundation.pow(arguments[0], exponent) }
    func partials(_ arguments: [Sym], result: Sym) -> [Sym] { [exponent * ExpressionGraph.apply(PowerPrimitive(exponent: exponent - 1), arguments)] }
}

@Suite("Primitive identity")
struct PrimitiveIdentityTests {
    @Test("two configurations of a primitive under one key stay two functions (value and derivative), the same one is shared")
    func ambiguousKey() {
        let graph = ExpressionGraph(variableNames: ["v"])
        let v = graph.variable(0)
        let cube = ExpressionGraph.apply(PowerPrimitive(exponent: 3), [v]), square = ExpressionGraph.apply(PowerPrimitive(exponent: 2), [v])
        let sum = cube + square
        // Hand-derived: 1.5³ + 1.5² and 3·1.5² + 2·1.5.
        #expect(graph.evaluate([sum], variables: [1.5]) == [5.625])
        #expect(graph.evaluate(graph.derivatives(of: [sum], withRespectTo: 0), variables: [1.5]) == [9.75])
        let before = graph.nodeCount
        _ = ExpressionGraph.apply(PowerPrimitive(exponent: 3), [v])
        #expect(graph.nodeCount == before, "the same function under the same key is shared")
    }
}

/// A primitive standing for a population mean: it declares that it reads other neurons.
struct PopulationMeanPrimitive: Primitive {
    var name: String { "populationMean" }
    var arity: Int { 1 }
    var readsOtherNeurons: Bool { true }
    func value(_ arguments: [Double]) -> Double { arguments[0] }
    func partials(_ arguments: [Sym], result: Sym) -> [Sym] { [1] }
}

/// An in-process model using the primitive above.
struct PopulationMeanModel: NeuronModel {
    static let name = "PopulationMean"
    static let summary = "test model with a cross-neuron primitive"
    static let stateVariables = [StateVariable("v")]
    static let parameters: [ParameterSpec] = []
    static let defaultSurrogate: any Surrogate = TriangleSurrogate()
    init(parameters: ParameterValues) {}
    func update(_ x: NeuronStepInputs) -> [Sym] {
        [0.9 * x.state[0] + x.current - ExpressionGraph.apply(PopulationMeanPrimitive(), [x.state[0]])]
    }
    func spikeArgument(_ state: [Sym]) -> Sym { state[0] - 1 }
}
