import PlasticityCore
import Testing

@Suite("Online learning")
struct OnlineLearnerTests {
    @Test("one update after a streamed sequence equals SGD on the batch gradient", arguments: [LearningRuleKind.eprop, .rtrl])
    func streamedEqualsBatch(rule: LearningRuleKind) throws {
        let fixture = try RuleFixture(model: "ALIF", recurrent: true, readoutDecay: 0.4, lossKind: .crossEntropyEveryStep)
        let network = fixture.network
        // The same loss without the fixture's mask: the learner sees a label at every step.
        var rng = SplitMix64(seed: 77)
        let labels = (0..<(fixture.steps * fixture.batch)).map { _ in Int.random(in: 0..<network.outputs, using: &rng) }
        let loss = try Loss<Double>(.crossEntropyEveryStep, steps: fixture.steps, batch: fixture.batch, outputs: network.outputs, labels: labels)
        let batchResult = try GradientComputation.run(rule: rule, network: fixture.network, parameters: fixture.parameters, inputs: fixture.inputs,
                                                      steps: fixture.steps, batch: fixture.batch, loss: loss)
        let rate = 0.01
        let learner = try OnlineLearner(rule: rule, network: fixture.network, parameters: fixture.parameters, batch: fixture.batch,
                                        optimizer: SGD<Double>(), learningRate: rate, updateInterval: fixture.steps)
        let stride = fixture.batch * network.inputs
        for t in 0..<fixture.steps {
            let input = Array(fixture.inputs[(t * stride)..<((t + 1) * stride)])
            try learner.step(input: input, target: .labels(Array(labels[(t * fixture.batch)..<((t + 1) * fixture.batch)])))
        }
        #expect(learner.updatesApplied == 1)
        #expect(Swift.abs(learner.loss - batchResult.loss) < 1e-12)
        var expected = fixture.parameters
        var step = batchResult.gradients
        step.scale(by: -rate)
        expected.add(step)
        #expect(relativeError(learner.parameters, expected) < 1e-12)
    }

    @Test("updates every K steps change the weights as the sequence streams; BPTT is refused")
    func periodicUpdates() throws {
        let fixture = try RuleFixture(model: "LIF", recurrent: false)
        let learner = try OnlineLearner(rule: .eprop, network: fixture.network, parameters: fixture.parameters, batch: fixture.batch,
                                        optimizer: Adam<Double>(), learningRate: 1e-2, updateInterval: 5)
        for _ in 0..<12 {
            try learner.step(input: [Double](repeating: 0.8, count: fixture.batch * 4), target: .values([Double](repeating: 0.5, count: fixture.batch * 3)))
        }
        #expect(learner.updatesApplied == 2)
        #expect(learner.parameters != fixture.parameters)
        #expect(throws: PlasticityError.self) {
            try OnlineLearner(rule: .bptt, network: fixture.network, parameters: fixture.parameters, batch: 2, optimizer: SGD<Double>(), learningRate: 1, updateInterval: 1)
        }
        #expect(throws: PlasticityError.self) { try learner.step(input: [1], target: .none) }
    }
}
