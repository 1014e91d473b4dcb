import Foundation
import PlasticityCore
import Testing

/// A model with some of its parameters held as data: per neuron (values spread around a base)
/// or shared, trained or fixed.
struct ParameterCase: Sendable, CustomTestStringConvertible {
    struct Datum: Sendable {
        let name: String
        let base: Double
        let perNeuron: Bool
        let trainable: Bool
    }

    let model: String
    let data: [Datum]
    var testDescription: String { "\(model): " + data.map { "\($0.name)\($0.perNeuron ? "[j]" : "")\($0.trainable ? " trained" : "")" }.joined(separator: ", ") }

    static let all = [
        ParameterCase(model: "LIF", data: [Datum(name: "tauMembrane", base: 15, perNeuron: true, trainable: true),
                                           Datum(name: "threshold", base: 1, perNeuron: false, trainable: true)]),
        ParameterCase(model: "ALIF", data: [Datum(name: "tauMembrane", base: 20, perNeuron: true, trainable: false),
                                            Datum(name: "tauAdaptation", base: 150, perNeuron: true, trainable: true),
                                            Datum(name: "beta", base: 1.5, perNeuron: true, trainable: true)]),
        ParameterCase(model: "AdLIF", data: [Datum(name: "a", base: 0.4, perNeuron: true, trainable: true),
                                             Datum(name: "b", base: 1, perNeuron: true, trainable: true)]),
        ParameterCase(model: "TextLIF", data: [Datum(name: "tauMembrane", base: 15, perNeuron: true, trainable: true)]),
    ]

    /// One population of `hidden` neurons whose j-th value of a per-neuron datum is base·(1 + 0.15 j).
    func population(hidden: Int, modelParameters: [String: Double]) throws -> Network.Population {
        let parameters = data.map { datum in
            PopulationParameter(name: datum.name, values: datum.perNeuron ? (0..<hidden).map { datum.base * (1 + 0.15 * Double($0)) } : [datum.base],
                                trainable: datum.trainable)
        }
        return try Network.Population(name: "hidden", model: TestPlugins.registry.model(named: model).model,
                                      configuration: ModelConfiguration(parameters: modelParameters), size: hidden, parameters: parameters)
    }

    func fixture(recurrent: Bool, differentiableReset: Bool = false, readoutDecay: Double = 0, lossKind: LossKind = .crossEntropyEveryStep) throws -> RuleFixture {
        let reset: [String: Double] = differentiableReset ? ["resetGradient": 1] : [:]
        var projections = [ProjectionDescription(source: Network.inputName, target: "hidden")]
        if recurrent { projections.append(ProjectionDescription(source: "hidden", target: "hidden", delayed: true)) }
        let network = try Network(inputs: 4, populations: [population(hidden: 5, modelParameters: reset)], projections: projections,
                                  readout: ReadoutDescription(sources: ["hidden"], outputs: 3, decay: readoutDecay))
        let drive = model == "AdLIF" ? 20.0 : 1.0
        return try RuleFixture(network: network, inputGain: 3 * drive, recurrentGain: 1.5 * drive, lossKind: lossKind)
    }

    /// The names of the trained parameters' tensors.
    var trainedNames: [String] { data.filter(\.trainable).map { "hidden.\($0.name)" } }
}

@Suite("Neuron parameters as data: per neuron, trained, with exact gradients")
struct NeuronParameterTests {
    @Test("parameter gradients of BPTT match finite differences in smooth mode, with W_rec", arguments: ParameterCase.all)
    func bpttMatchesFiniteDifferences(_ parameterCase: ParameterCase) throws {
        let fixture = try parameterCase.fixture(recurrent: true, differentiableReset: true, readoutDecay: 0.5)
        let smooth = RuleOptions(spikes: .smooth)
        let analytic = try fixture.gradients(.bptt, options: smooth).gradients
        let numeric = try finiteDifferences(of: fixture.parameters) { try fixture.gradients(.bptt, parameters: $0, options: smooth).loss }
        #expect(relativeError(analytic, numeric) < 1e-6)
        // Central differences with h = 1e-6 on a loss of order 1 are accurate to ~1e-9
        // absolute, which matters for the small gradients of slow time constants.
        for name in parameterCase.trainedNames {
            let largest = numeric[name].map(Swift.abs).max() ?? 0
            #expect(largest > 1e-5, "\(name) must matter to the loss: \(numeric[name])")
            let worst = zip(analytic[name], numeric[name]).map { Swift.abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6 * largest + 2e-9, "\(name): analytic \(analytic[name]), numeric \(numeric[name])")
        }
    }

    @Test("RTRL equals BPTT to 1e-10 for parameters and weights, with W_rec", arguments: ParameterCase.all)
    func rtrlEqualsBPTT(_ parameterCase: ParameterCase) throws {
        for (decay, lossKind) in [(0.0, LossKind.crossEntropyEveryStep), (0.7, .crossEntropySummed)] {
            let fixture = try parameterCase.fixture(recurrent: true, readoutDecay: decay, lossKind: lossKind)
            let bptt = try fixture.gradients(.bptt), rtrl = try fixture.gradients(.rtrl)
            #expect(bptt.spikeCount > 0)
            for name in parameterCase.trainedNames {
                #expect(bptt.gradients[name].contains { $0 != 0 }, "\(name) has a gradient")
            }
            let error = relativeError(rtrl.gradients, bptt.gradients)
            #expect(error < 1e-10, "κ=\(decay) \(lossKind): relative error \(error)")
        }
    }

    @Test("e-prop equals BPTT without W_rec for parameters as for weights; dense e-prop equals e-prop", arguments: ParameterCase.all)
    func epropExactWithoutRecurrence(_ parameterCase: ParameterCase) throws {
        for (decay, lossKind) in [(0.0, LossKind.crossEntropyEveryStep), (0.8, .meanSquaredError), (0.5, .crossEntropyLastStep)] {
            let fixture = try parameterCase.fixture(recurrent: false, readoutDecay: decay, lossKind: lossKind)
            let bptt = try fixture.gradients(.bptt), eprop = try fixture.gradients(.eprop), dense = try fixture.gradients(.denseEprop)
            #expect(bptt.spikeCount > 0)
            let error = relativeError(eprop.gradients, bptt.gradients)
            #expect(error < 1e-10, "κ=\(decay) \(lossKind): relative error \(error)")
            #expect(relativeError(dense.gradients, eprop.gradients) < 1e-10)
        }
    }

    @Test("with W_rec, e-prop's parameter gradient is approximate, as Exactness says, and still aligned with BPTT's")
    func epropApproximateWithRecurrence() throws {
        let parameterCase = ParameterCase.all[1]
        let fixture = try parameterCase.fixture(recurrent: true)
        let bptt = try fixture.gradients(.bptt).gradients, eprop = try fixture.gradients(.eprop).gradients
        let exactness = Exactness.of(.eprop, network: fixture.network)
        for name in parameterCase.trainedNames {
            #expect(exactness.approximateTensors.contains(name))
            #expect(relativeError(eprop[name], bptt[name]) > 1e-6, "\(name) differs from BPTT")
            #expect(cosineSimilarity(eprop[name], bptt[name]) > 0.5, "\(name) points the same way: \(cosineSimilarity(eprop[name], bptt[name]))")
        }
    }
}
