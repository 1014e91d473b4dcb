import Foundation
import PlasticityCore
import Testing

@Suite("Validation split, best epoch and early stopping")
struct ValidationTests {
    @Test("the validation split is disjoint from training, covers the split, and is fixed by the seed")
    func split() throws {
        let split = try ValidationSplit(count: 100, fraction: 0.2, seed: 3)
        #expect(split.validation.count == 20 && split.training.count == 80)
        #expect(Set(split.validation).isDisjoint(with: split.training))
        #expect(Set(split.validation + split.training) == Set(0..<100))
        #expect(try ValidationSplit(count: 100, fraction: 0.2, seed: 3) == split)
        #expect(try ValidationSplit(count: 100, fraction: 0.2, seed: 4) != split)
        #expect(try ValidationSplit(count: 100, fraction: 0, seed: 3).training == Array(0..<100))
        for bad in [-0.1, 1, .nan, 0.001] {
            #expect(throws: PlasticityError.self, "\(bad)") { try ValidationSplit(count: 100, fraction: bad, seed: 1) }
        }
    }

    @Test("every epoch is validated on held-out training samples; the best weights follow the validation score; the test split is evaluated once at the end")
    func bestEpoch() throws {
        let task = try TrainingTests.smallEvidence()
        let trainer = try TrainingTests.trainer("ALIF", task, configure: { $0.epochs = 5; $0.validationFraction = 0.25 })
        var finished: FinalTest?
        try trainer.run { if case .finished(let test) = $0 { finished = test } }
        let history = trainer.state.history
        #expect(history.count == 5)
        #expect(history.allSatisfy { $0.validationAccuracy != nil && $0.testLoss == nil }, "the test split is not looked at per epoch")
        let scores = history.map { $0.validationAccuracy! }
        let bestIndex = scores.indices.first { scores[$0] == scores.max()! }!
        let best = try #require(trainer.state.best)
        #expect(best.epoch == bestIndex + 1 && best.score == scores[bestIndex], "the first epoch with the highest validation accuracy")
        let test = try #require(finished)
        #expect(test == trainer.state.finalTest && test.bestEpoch == best.epoch)
        let expected = try trainer.evaluate(.test, parameters: best.parameters)
        #expect(test.bestLoss == expected.loss && test.bestAccuracy == expected.accuracy)
        #expect(trainer.split.validation.count == 16 && trainer.batches(epoch: 0).joined().allSatisfy { !trainer.split.validation.contains($0) })

        let byLoss = try TrainingTests.trainer("ALIF", task, configure: { $0.epochs = 4; $0.validationFraction = 0.25; $0.selectBy = .loss })
        try byLoss.run()
        let losses = byLoss.state.history.map { $0.validationLoss! }
        #expect(byLoss.state.best?.epoch == losses.firstIndex(of: losses.min()!)! + 1, "\(losses)")
    }

    @Test("early stopping ends the run after `patience` epochs without a better validation score")
    func earlyStopping() throws {
        let task = try TrainingTests.smallEvidence()
        // A learning rate too small to change any decision: the validation accuracy never improves after epoch 1.
        let trainer = try TrainingTests.trainer("LIF", task, configure: {
            $0.epochs = 10; $0.validationFraction = 0.25; $0.selectBy = .accuracy; $0.patience = 2; $0.learningRate = 1e-12
        })
        try trainer.run()
        #expect(trainer.state.history.count == 3 && trainer.state.stoppedEarly, "\(trainer.state.history.map(\.validationAccuracy))")
        #expect(trainer.state.best?.epoch == 1)
        #expect(throws: PlasticityError.self) { try TrainingTests.trainer("LIF", task, configure: { $0.patience = 2 }) }
    }

    @Test("a resumed run keeps the best epoch and the count towards early stopping")
    func resume() throws {
        let task = try TrainingTests.smallEvidence()
        let directory = try temporaryDirectory()
        let configure: (inout TrainingConfiguration) -> Void = { $0.epochs = 4; $0.checkpointEvery = 1; $0.validationFraction = 0.25; $0.patience = 3 }
        let uninterrupted = try TrainingTests.trainer("ALIF", task, configure: configure, checkpoint: directory.appendingPathComponent("a.json"))
        try uninterrupted.run()
        let path = directory.appendingPathComponent("b.json")
        try TrainingTests.trainer("ALIF", task, configure: configure, checkpoint: path).run(stopAfterUpdates: 7)
        let resumed = try TrainingTests.trainer("ALIF", task, configure: configure, checkpoint: path, resume: true)
        try resumed.run()
        #expect(resumed.state.best == uninterrupted.state.best && resumed.state.finalTest == uninterrupted.state.finalTest)
        #expect(resumed.state.epochsWithoutImprovement == uninterrupted.state.epochsWithoutImprovement)
        #expect(resumed.parameters == uninterrupted.parameters)
    }
}
