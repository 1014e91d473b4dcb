import Foundation
import PlasticityCore
import Testing

/// A model with its reset convention.
struct RuleCase: Sendable, CustomTestStringConvertible {
    let model: String
    let resetGradient: Double
    var testDescription: String { "\(model) resetGradient=\(Int(resetGradient))" }
    var parameters: [String: Double] { model == "Izhikevich" ? [:] : ["resetGradient": resetGradient] }
    static let all = TestPlugins.names.flatMap { model in TestPlugins.resetVariants(model).map { RuleCase(model: model, resetGradient: $0["resetGradient"] ?? 0) } }
}

@Suite("Learning rules against each other and finite differences")
struct LearningRuleTests {
    /// BPTT's gradient against central differences of the loss in smooth mode. The reset is
    /// differentiated (resetGradient = 1) because finite differences see through stopGradient.
    @Test("BPTT matches finite differences in smooth mode with W_rec", arguments: TestPlugins.names, LossKind.allCases)
    func bpttMatchesFiniteDifferences(model: String, lossKind: LossKind) throws {
        let fixture = try RuleFixture(model: model, modelParameters: TestPlugins.resetVariants(model).last!, recurrent: true, readoutDecay: 0.6, lossKind: lossKind)
        let smooth = RuleOptions(spikes: .smooth)
        let analytic = try fixture.gradients(.bptt, options: smooth).gradients
        let numeric = try finiteDifferences(of: fixture.parameters) { try fixture.gradients(.bptt, parameters: $0, options: smooth).loss }
        let error = relativeError(analytic, numeric)
        #expect(error < 1e-6, "relative error \(error)")
        #expect(numeric["hidden.input"].contains { Swift.abs($0) > 1e-3 }, "the input weights must matter to the loss")
        #expect(try fixture.gradients(.bptt).spikeCount > 0, "the same network spikes in the normal mode")
    }

    @Test("RTRL equals BPTT with W_rec, with spikes occurring", arguments: RuleCase.all)
    func rtrlEqualsBPTT(_ ruleCase: RuleCase) throws {
        for decay in [0.0, 0.7] {
            let fixture = try RuleFixture(model: ruleCase.model, modelParameters: ruleCase.parameters, recurrent: true, readoutDecay: decay)
            let bptt = try fixture.gradients(.bptt)
            let rtrl = try fixture.gradients(.rtrl)
            #expect(bptt.spikeCount > 0, "spikes must occur")
            #expect(Swift.abs(bptt.loss - rtrl.loss) < 1e-12)
            let error = relativeError(rtrl.gradients, bptt.gradients)
            #expect(error < 1e-10, "κ=\(decay): relative error \(error)")
        }
    }

    @Test("RTRL equals BPTT in Float to 1e-4")
    func rtrlEqualsBPTTInFloat() throws {
        let fixture = try RuleFixture(model: "ALIF", recurrent: true, readoutDecay: 0.5)
        let parameters = ParameterSet<Float>(randomFor: fixture.network, seed: 3, inputGain: 3, recurrentGain: 1.5)
        let inputs = fixture.inputs.map(Float.init)
        let loss = try Loss<Float>(.crossEntropySummed, steps: fixture.steps, batch: fixture.batch, outputs: fixture.network.outputs, labels: [0, 2])
        func run(_ rule: LearningRuleKind) throws -> [Double] {
            try GradientComputation.run(rule: rule, network: fixture.network, parameters: parameters, inputs: inputs, steps: fixture.steps,
                                        batch: fixture.batch, loss: loss).gradients.flattened.map(Double.init)
        }
        let bptt = try run(.bptt), rtrl = try run(.rtrl)
        let error = zip(bptt, rtrl).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / bptt.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(error < 1e-4, "relative error \(error)")
    }

    /// In Float, δ·W (the learning signal, BPTT's readout adjoint), the products of weights
    /// with spikes and inputs, the rows added per spike or input (e-prop's traces, the readout's
    /// gradient, BPTT's adjoints and its adjoint through W_recᵀ), the neuron step's exact
    /// operations and e-prop's element-wise products (its recursions and per-synapse pass: ALIF
    /// with a leaky readout keeps two components per synapse) run in C kernels cloned per vector
    /// width, rows in blocks of 64, 16, 4 and 1 columns; Double runs the Swift loops. Sizes that
    /// use every block and leave remainders everywhere (7 sequences, 101 neurons, 7 classes),
    /// with and without W_rec, the same spikes in both precisions: the same gradients to Float's
    /// precision, for both rules.
    @Test("Float's C kernels give Double's gradients to 1e-4 for e-prop and BPTT (sizes with remainders, the same spikes)")
    func floatKernelsAgreeWithDouble() throws {
        for (model, recurrent, decay) in [("LIF", false, 0.0), ("LIF", false, 0.5), ("LIF", true, 0.0), ("ALIF", true, 0.5)] {
            let fixture = try RuleFixture(model: model, recurrent: recurrent, readoutDecay: decay, hidden: 101, inputs: 23, outputs: 7, steps: 20, batch: 7,
                                          seed: 5, spikeInputDensity: 0.3)
            let parameters = ParameterSet<Float>(fixture.parameters.names.map { (name: $0, values: fixture.parameters[$0].map(Float.init)) })
            // The fixture's loss (labels and mask at every step, time-major) in Float.
            let cells = (0..<(fixture.steps * fixture.batch)).map { (sequence: $0 % fixture.batch, step: $0 / fixture.batch) }
            let loss = try Loss<Float>(fixture.loss.kind, steps: fixture.steps, batch: fixture.batch, outputs: fixture.network.outputs,
                                       labels: cells.map { fixture.loss.label(sequence: $0.sequence, step: $0.step) },
                                       mask: cells.map { Float(fixture.loss.weight(step: $0.step, sequence: $0.sequence)) })
            for rule in [LearningRuleKind.eprop, .bptt] {
                let single = try GradientComputation.run(rule: rule, network: fixture.network, parameters: parameters, inputs: fixture.inputs.map(Float.init),
                                                         steps: fixture.steps, batch: fixture.batch, loss: loss)
                let double = try fixture.gradients(rule)
                #expect(single.spikeCount > 0 && single.neuronSpikes == double.neuronSpikes, "the premise: the same spikes")
                let (a, b) = (double.gradients.flattened, single.gradients.flattened.map(Double.init))
                let error = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / a.map { $0 * $0 }.reduce(0, +).squareRoot()
                #expect(error < 1e-4, "\(model) \(rule), W_rec \(recurrent), κ=\(decay): relative error \(error)")
            }
        }
    }

    @Test("e-prop equals BPTT without W_rec, leaky and non-leaky readouts, every loss", arguments: RuleCase.all)
    func epropExactWithoutRecurrence(_ ruleCase: RuleCase) throws {
        for decay in [0.0, 0.8] {
            for lossKind in LossKind.allCases {
                let fixture = try RuleFixture(model: ruleCase.model, modelParameters: ruleCase.parameters, recurrent: false, readoutDecay: decay, lossKind: lossKind)
                let bptt = try fixture.gradients(.bptt)
                let eprop = try fixture.gradients(.eprop)
                #expect(bptt.spikeCount > 0)
                let error = relativeError(eprop.gradients, bptt.gradients)
                #expect(error < 1e-10, "κ=\(decay) \(lossKind): relative error \(error)")
            }
        }
    }

    @Test("dense e-prop equals sparse e-prop, with and without W_rec", arguments: RuleCase.all)
    func denseEqualsSparse(_ ruleCase: RuleCase) throws {
        for recurrent in [false, true] {
            for (decay, lossKind) in [(0.0, LossKind.crossEntropyEveryStep), (0.6, .meanSquaredError), (0.3, .crossEntropySummed)] {
                let fixture = try RuleFixture(model: ruleCase.model, modelParameters: ruleCase.parameters, recurrent: recurrent, readoutDecay: decay, lossKind: lossKind)
                let sparse = try fixture.gradients(.eprop), dense = try fixture.gradients(.denseEprop)
                let error = relativeError(dense.gradients, sparse.gradients)
                #expect(error < 1e-10, "recurrent=\(recurrent) κ=\(decay): relative error \(error)")
            }
        }
    }

    @Test("with W_rec e-prop approximates BPTT: different, but well aligned", arguments: TestPlugins.names)
    func epropApproximatesWithRecurrence(model: String) throws {
        let fixture = try RuleFixture(model: model, recurrent: true, readoutDecay: 0.5, hidden: 8, steps: 30, seed: 4)
        let bptt = try fixture.gradients(.bptt).gradients, eprop = try fixture.gradients(.eprop).gradients
        let error = relativeError(eprop, bptt)
        let cosine = cosineSimilarity(eprop["hidden.input"] + eprop["hidden.recurrent"], bptt["hidden.input"] + bptt["hidden.recurrent"])
        print("\(model) with W_rec: e-prop vs BPTT cosine similarity \(cosine), relative error \(error)")
        #expect(error > 1e-6, "e-prop drops the coupling through W_rec; it cannot be exact here")
        #expect(cosine > 0.5)
        #expect(relativeError(eprop["readout.hidden"], bptt["readout.hidden"]) < 1e-10, "the readout gradient is exact in every rule")
    }

    @Test("a direct error on the spikes (the rate regulariser) enters every rule alike", arguments: TestPlugins.names)
    func spikeErrorAgreement(model: String) throws {
        let spikeError = (0..<5).map { Double($0) * 0.02 - 0.03 }
        let options = RuleOptions(spikeError: spikeError)
        for (recurrent, decay) in [(false, 0.0), (false, 0.6), (true, 0.6)] {
            let fixture = try RuleFixture(model: model, recurrent: recurrent, readoutDecay: decay)
            let bptt = try fixture.gradients(.bptt, options: options).gradients
            #expect(relativeError(bptt, try fixture.gradients(.bptt).gradients) > 1e-6, "the error must change the gradient")
            #expect(relativeError(try fixture.gradients(.rtrl, options: options).gradients, bptt) < 1e-10)
            let eprop = try fixture.gradients(.eprop, options: options).gradients
            #expect(relativeError(try fixture.gradients(.denseEprop, options: options).gradients, eprop) < 1e-10)
            if !recurrent { #expect(relativeError(eprop, bptt) < 1e-10, "κ=\(decay)") }
        }
    }

    @Test("random feedback changes the hidden gradients, not the readout's")
    func randomFeedback() throws {
        let fixture = try RuleFixture(model: "LIF", recurrent: false)
        let symmetric = try fixture.gradients(.eprop).gradients
        let random = try fixture.gradients(.eprop, options: RuleOptions(feedback: .random(seed: 9))).gradients
        let randomAgain = try fixture.gradients(.eprop, options: RuleOptions(feedback: .random(seed: 9))).gradients
        #expect(random == randomAgain, "the feedback matrix is fixed by its seed")
        #expect(relativeError(random, symmetric) > 1e-3)
        #expect(random["readout.hidden"] == symmetric["readout.hidden"])
    }

    @Test("BPTT with checkpointing gives the same gradients with less memory")
    func checkpointing() throws {
        let fixture = try RuleFixture(model: "AdLIF", recurrent: true, readoutDecay: 0.4, lossKind: .meanSquaredError, steps: 200)
        let full = try fixture.gradients(.bptt)
        let checkpointed = try fixture.gradients(.bptt, options: RuleOptions(checkpointInterval: 14))
        #expect(relativeError(checkpointed.gradients, full.gradients) < 1e-12)
        #expect(checkpointed.storageBytes < full.storageBytes / 2)
        #expect(throws: PlasticityError.self) { try fixture.gradients(.bptt, options: RuleOptions(checkpointInterval: 0)) }
    }

    @Test("e-prop and RTRL memory does not grow with T; BPTT's does")
    func memoryAgainstSequenceLength() throws {
        func bytes(_ rule: LearningRuleKind, steps: Int) throws -> Int {
            try RuleFixture(model: "ALIF", recurrent: true, readoutDecay: 0.5, hidden: 4, inputs: 3, steps: steps, batch: 1).gradients(rule).storageBytes
        }
        for rule in [LearningRuleKind.eprop, .rtrl] {
            #expect(try bytes(rule, steps: 100) == bytes(rule, steps: 10_000), "\(rule)")
        }
        let short = try bytes(.bptt, steps: 100), long = try bytes(.bptt, steps: 10_000)
        #expect(long > 50 * short)
    }

    @Test("shape errors name the array and the expected shape")
    func shapeErrors() throws {
        let fixture = try RuleFixture(model: "LIF", recurrent: false)
        do {
            _ = try GradientComputation.run(rule: .eprop, network: fixture.network, parameters: fixture.parameters, inputs: [1, 2, 3],
                                            steps: fixture.steps, batch: fixture.batch, loss: fixture.loss)
            Issue.record("mis-shaped inputs must be refused")
        } catch {
            #expect("\(error)" == "array 'inputs' has shape 3 values, expected 14×2×4")
        }
        #expect(throws: PlasticityError.self) { try Loss<Double>(.crossEntropyLastStep, steps: 3, batch: 2, outputs: 3, labels: [0, 5]) }
    }
}
