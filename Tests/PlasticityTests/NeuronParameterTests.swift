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
        // A C plugin of ABI 2: parameters as per-neuron arrays, their partials declared.
        ParameterCase(model: "Izhikevich", data: [Datum(name: "a", base: 0.02, perNeuron: true, trainable: true),
                                                  Datum(name: "b", base: 0.2, perNeuron: true, trainable: true),
                                                  Datum(name: "d", base: 8, perNeuron: false, trainable: true)]),
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
        // Izhikevich's reset is differentiable already.
        let reset: [String: Double] = differentiableReset && model != "Izhikevich" ? ["resetGradient": 1] : [:]
        var projections = [ProjectionDescription(source: Network.inputName, target: "hidden")]
        if recurrent { projections.append(ProjectionDescription(source: "hidden", target: "hidden", delayed: true)) }
        let network = try Network(inputs: 4, populations: [population(hidden: 5, modelParameters: reset)], projections: projections,
                                  readout: ReadoutDescription(sources: ["hidden"], outputs: 3, decay: readoutDecay))
        let drive = ["AdLIF": 20.0, "Izhikevich": 8.0][model] ?? 1.0
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

extension NeuronParameterTests {
    /// One LIF population whose first three neurons have τ = 10 and last two τ = 30 (trained
    /// per neuron), against two populations of three and two neurons with the same weights
    /// split by rows and columns: every gradient must agree.
    @Test("a population with per-neuron τ gives the gradients of its split into populations", arguments: [LearningRuleKind.bptt, .eprop, .rtrl])
    func splitEquivalence(_ rule: LearningRuleKind) throws {
        let lif = try TestPlugins.registry.model(named: "LIF").model
        func population(_ name: String, _ taus: [Double]) throws -> Network.Population {
            try Network.Population(name: name, model: lif, size: taus.count, parameters: [PopulationParameter(name: "tauMembrane", values: taus, trainable: true)])
        }
        let merged = try Network(inputs: 4, populations: [population("hidden", [10, 10, 10, 30, 30])],
                                 projections: [ProjectionDescription(source: "input", target: "hidden"),
                                               ProjectionDescription(source: "hidden", target: "hidden", delayed: true)],
                                 readout: ReadoutDescription(sources: ["hidden"], outputs: 3, decay: 0.4))
        let fixture = try RuleFixture(network: merged)
        let split = try Network(inputs: 4, populations: [population("fast", [10, 10, 10]), population("slow", [30, 30])],
                                projections: ["fast", "slow"].map { ProjectionDescription(source: "input", target: $0) }
                                    + ["fast", "slow"].flatMap { target in ["fast", "slow"].map { ProjectionDescription(source: $0, target: target, delayed: true) } },
                                readout: ReadoutDescription(sources: ["fast", "slow"], outputs: 3, decay: 0.4))
        let rows = ["fast": 0..<3, "slow": 3..<5]
        /// The block of a row-major matrix with `columns` columns.
        func block(_ values: [Double], columns: Int, rows: Range<Int>, columnRange: Range<Int>) -> [Double] {
            rows.flatMap { row in columnRange.map { values[row * columns + $0] } }
        }
        func splitSet(_ set: ParameterSet<Double>) -> ParameterSet<Double> {
            var result = ParameterSet<Double>(zerosFor: split)
            for (name, range) in rows {
                result["\(name).input"] = block(set["hidden.input"], columns: 4, rows: range, columnRange: 0..<4)
                result["\(name).bias"] = Array(set["hidden.bias"][range])
                result["\(name).tauMembrane"] = Array(set["hidden.tauMembrane"][range])
                result["readout.\(name)"] = block(set["readout.hidden"], columns: 5, rows: 0..<3, columnRange: range)
                for (source, sourceRange) in rows {
                    let projection = source == name ? "\(name).recurrent" : "\(name).\(source).delayed"
                    result[projection] = block(set["hidden.recurrent"], columns: 5, rows: range, columnRange: sourceRange)
                }
            }
            result["readout.bias"] = set["readout.bias"]
            return result
        }
        let mergedResult = try fixture.gradients(rule)
        let splitResult = try GradientComputation.run(rule: rule, network: split, parameters: splitSet(fixture.parameters), inputs: fixture.inputs,
                                                      steps: fixture.steps, batch: fixture.batch, loss: fixture.loss)
        #expect(mergedResult.spikeCount > 0)
        #expect(Swift.abs(mergedResult.loss - splitResult.loss) < 1e-12)
        let expected = splitSet(mergedResult.gradients)
        for name in expected.names {
            #expect(relativeError(splitResult.gradients[name], expected[name]) < 1e-10, "\(name)")
        }
    }
}

extension NeuronParameterTests {
    @Test("what still collapses: a per-neuron τ makes LIF's trace per synapse, a per-neuron threshold does not")
    func traceStorage() throws {
        let lif = try TestPlugins.registry.model(named: "LIF")
        let shared = try lif.compile()
        #expect(shared.structure.total.entries[0][0] == .constant(Foundation.exp(-1.0 / 20)))
        #expect(shared.structure.traceStorage == [.perPresynaptic])
        let perNeuronTau = try lif.compile(ModelConfiguration(parameterInputs: ["tauMembrane"]))
        #expect(perNeuronTau.structure.total.entries[0][0] == .perNeuron)
        #expect(perNeuronTau.structure.traceStorage == [.perSynapse])
        let perNeuronThreshold = try lif.compile(ModelConfiguration(parameterInputs: ["threshold"]))
        #expect(perNeuronThreshold.structure.total.entries[0][0] == .constant(Foundation.exp(-1.0 / 20)))
        #expect(perNeuronThreshold.structure.traceStorage == [.perPresynaptic])
        #expect(perNeuronThreshold.spikeParameterGain[0].constantValue == nil, "the threshold enters the spike directly")
    }

    @Test("a parameter read as a number cannot be an input, and the error says how to read it")
    func numberReadRefused() throws {
        let lif = try TestPlugins.registry.model(named: "LIF")
        #expect { try lif.compile(ModelConfiguration(parameterInputs: ["resetGradient"])) } throws: { "\($0)".contains("parameters.symbol(\"resetGradient\")") }
        #expect { try lif.compile(ModelConfiguration(parameterInputs: ["tau"])) } throws: { "\($0)".contains("tauMembrane") }
    }
}

extension NeuronParameterTests {
    @Test("the cost model prices parameter traces: predicted peak memory within 25% of the measured, every rule, with trained parameters")
    func memoryPrediction() throws {
        for parameterCase in ParameterCase.all.prefix(2) {
            for (lossKind, decay) in [(LossKind.crossEntropySummed, 0.5), (.crossEntropyEveryStep, 0)] {
                for recurrent in [false, true] {
                    let fixture = try parameterCase.fixture(recurrent: recurrent, readoutDecay: decay, lossKind: lossKind)
                    let costs = CostModel(network: fixture.network, workload: Workload(batch: fixture.batch, steps: fixture.steps, scalarBytes: 8,
                                                                                     deferredLoss: lossKind == .crossEntropySummed))
                    for rule in LearningRuleKind.allCases {
                        let measured = try fixture.gradients(rule).storageBytes, predicted = costs.cost(of: rule).peakBytes
                        let ratio = Double(predicted) / Double(measured)
                        #expect(ratio > 0.75 && ratio < 1.25, "\(parameterCase) \(lossKind) \(rule) recurrent=\(recurrent): predicted \(predicted), measured \(measured)")
                    }
                }
            }
        }
    }
}
