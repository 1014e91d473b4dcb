import PlasticityCore
import Testing

/// Without a sum per synapse (a loss at every step, a non-leaky readout) e-prop accumulates
/// its gradient, and advances per-synapse traces, over chunks of steps rather than step by
/// step. These runs are many chunks long and end mid-chunk, so every way a chunk closes is
/// crossed: full, at the sequence's end, and when an online learner reads the gradient
/// between updates; every model and reset convention takes part (collapsed traces, one or
/// several per-synapse components, a C model).
@Suite("e-prop over sequences many chunks long")
struct LongSequenceTests {
    static let steps = 150

    /// Every loss, with non-leaky and leaky readouts: e straight into the gradient, through ē,
    /// and through the deferred sum Σ_s w_s e_s.
    @Test("e-prop equals BPTT without W_rec over long sequences, for spiking and analog inputs, with a direct spike error",
          arguments: RuleCase.all, [nil, 0.3] as [Double?])
    func epropEqualsBPTT(_ ruleCase: RuleCase, spikeInputDensity: Double?) throws {
        let configurations: [(LossKind, Double)] = [(.crossEntropyEveryStep, 0), (.meanSquaredError, 0), (.crossEntropyEveryStep, 0.7),
                                                    (.crossEntropySummed, 0.7), (.crossEntropyLastStep, 0)]
        for (lossKind, decay) in configurations {
            let fixture = try RuleFixture(model: ruleCase.model, modelParameters: ruleCase.parameters, recurrent: false, readoutDecay: decay,
                                          lossKind: lossKind, hidden: 6, inputs: 9, steps: Self.steps, batch: 3, seed: 5,
                                          spikeInputDensity: spikeInputDensity)
            for options in [RuleOptions(), RuleOptions(spikeError: [0.02, -0.01, 0.03, 0, 0.01, -0.02])] {
                let bptt = try fixture.gradients(.bptt, options: options)
                let eprop = try fixture.gradients(.eprop, options: options)
                #expect(bptt.spikeCount > 0)
                let error = relativeError(eprop.gradients, bptt.gradients)
                #expect(error < 1e-10, "\(lossKind) κ=\(decay): relative error \(error)")
            }
        }
    }

    @Test("with W_rec, sparse e-prop over long sequences equals dense e-prop (the same rule without sparsity)", arguments: RuleCase.all)
    func sparseEqualsDenseWithRecurrence(_ ruleCase: RuleCase) throws {
        let fixture = try RuleFixture(model: ruleCase.model, modelParameters: ruleCase.parameters, recurrent: true, hidden: 6, inputs: 5,
                                      steps: Self.steps, batch: 2, seed: 6, spikeInputDensity: 0.3)
        let sparse = try fixture.gradients(.eprop), dense = try fixture.gradients(.denseEprop)
        #expect(sparse.spikeCount > 0)
        let error = relativeError(sparse.gradients, dense.gradients)
        #expect(error < 1e-10, "relative error \(error)")
    }

    /// Without W_rec e-prop's traces are RTRL's influences, so two online learners that update
    /// the weights every K steps, mid-sequence, must stay identical.
    @Test("streaming e-prop with updates every 7 steps equals streaming RTRL", arguments: RuleCase.all)
    func streamingEqualsRTRL(_ ruleCase: RuleCase) throws {
        let fixture = try RuleFixture(model: ruleCase.model, modelParameters: ruleCase.parameters, recurrent: false, lossKind: .meanSquaredError,
                                      hidden: 5, inputs: 6, steps: Self.steps, batch: 2, seed: 8, spikeInputDensity: 0.3)
        let network = fixture.network
        func stream(_ rule: LearningRuleKind) throws -> OnlineLearner<Double> {
            let learner = try OnlineLearner(rule: rule, network: fixture.network, parameters: fixture.parameters, batch: fixture.batch,
                                            optimizer: SGD<Double>(), learningRate: 0.05, updateInterval: 7)
            let inputStride = fixture.batch * network.inputs, targetStride = fixture.batch * network.outputs
            var targets = SplitMix64(seed: 3)
            for t in 0..<fixture.steps {
                let target = (0..<targetStride).map { _ in Double.random(in: -1...1, using: &targets) }
                try learner.step(input: Array(fixture.inputs[(t * inputStride)..<((t + 1) * inputStride)]), target: .values(target))
            }
            return learner
        }
        let eprop = try stream(.eprop), rtrl = try stream(.rtrl)
        #expect(eprop.updatesApplied == Self.steps / 7)
        #expect(eprop.parameters != fixture.parameters)
        let error = relativeError(eprop.parameters, rtrl.parameters)
        #expect(error < 1e-10, "relative error \(error)")
    }
}
