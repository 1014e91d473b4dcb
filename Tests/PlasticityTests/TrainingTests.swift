import Foundation
import PlasticityCore
import Testing

@Suite("Training")
struct TrainingTests {
    static func smallEvidence() throws -> EvidenceAccumulation {
        var configuration = EvidenceAccumulation.Configuration()
        configuration.channelsPerGroup = 4
        configuration.cues = 3
        configuration.cueSteps = 4
        configuration.pauseSteps = 2
        configuration.delaySteps = 8
        configuration.recallSteps = 5
        configuration.trainingExamples = 64
        configuration.testExamples = 32
        return try EvidenceAccumulation(configuration)
    }

    static func trainer(_ model: String, _ dataset: any SequenceDataset, hidden: Int = 16, recurrent: Bool = true, decay: Double = 0,
                        configure: (inout TrainingConfiguration) -> Void = { _ in }, checkpoint: URL? = nil, resume: Bool = false) throws -> Trainer {
        let shape = NetworkShape(inputs: dataset.inputCount, hidden: hidden, outputs: dataset.outputCount, recurrent: recurrent, bias: true, readoutDecay: decay)
        var configuration = TrainingConfiguration()
        configuration.epochs = 4
        configuration.batchSize = 16
        configuration.learningRate = 1e-2
        configure(&configuration)
        return try Trainer(network: Network(shape: shape, neuron: TestPlugins.compile(model)), dataset: dataset, configuration: configuration,
                           checkpoint: checkpoint, resume: resume)
    }

    @Test("a few iterations lower the loss on every task")
    func lossFalls() throws {
        var pattern = PatternRegression.Configuration()
        pattern.inputs = 10
        pattern.steps = 60
        pattern.trainingExamples = 16
        pattern.testExamples = 4
        var shdConfiguration = SpikingHeidelbergDigits.Configuration()
        shdConfiguration.steps = 50
        shdConfiguration.channelPooling = 5
        let tasks: [(String, any SequenceDataset, LearningRuleKind, Double)] = [
            ("ALIF", try Self.smallEvidence(), .eprop, 0),
            ("LIF", try PatternRegression(pattern), .eprop, 0.8),
            ("AdLIF", try SpikingHeidelbergDigits(directory: DatasetTests.fixtures, configuration: shdConfiguration), .bptt, 0.5),
        ]
        for (model, task, rule, decay) in tasks {
            let trainer = try Self.trainer(model, task, decay: decay) { $0.rule = rule; $0.batchSize = 8 }
            try trainer.run()
            let history = trainer.state.history
            #expect(history.count == 4)
            #expect(history.last!.trainingLoss < history.first!.trainingLoss, "\(task.name): \(history.map(\.trainingLoss))")
            #expect(history.allSatisfy { $0.testLoss?.isFinite == true && $0.validationLoss == nil })
        }
    }

    @Test("an interrupted run resumed from its checkpoint ends with the same weights, also from an epoch's last batch saved before its evaluation")
    func resume() throws {
        let task = try Self.smallEvidence()
        let directory = try temporaryDirectory()
        let configure: (inout TrainingConfiguration) -> Void = { $0.epochs = 2; $0.checkpointEvery = 1; $0.rateRegularization = 0.1; $0.optimizer = .adamw; $0.weightDecay = 0.01 }
        let uninterrupted = try Self.trainer("ALIF", task, configure: configure, checkpoint: directory.appendingPathComponent("a.json"))
        // A run killed while it evaluates an epoch leaves the save of the epoch's last batch: keep a copy of it.
        let lastBatch = directory.appendingPathComponent("last-batch.json")
        var batchesPerEpoch = 0
        try uninterrupted.run { event in
            if case .batch(_, _, let batches, _, _, _, _) = event { batchesPerEpoch = batches }
            guard case .checkpoint(let url) = event, let saved = try? TrainingCheckpoint.read(from: url), saved.epoch == 0 else { return }
            try? FileManager.default.removeItem(at: lastBatch)
            try? FileManager.default.copyItem(at: url, to: lastBatch)
        }
        let beforeEvaluation = try TrainingCheckpoint.read(from: lastBatch)
        #expect(batchesPerEpoch > 1 && beforeEvaluation.batchInEpoch == batchesPerEpoch && beforeEvaluation.history.isEmpty,
                "saved after the epoch's last batch, before its evaluation: batch \(beforeEvaluation.batchInEpoch) of \(batchesPerEpoch)")
        let fromLastBatch = try Self.trainer("ALIF", task, configure: configure, checkpoint: lastBatch, resume: true)
        try fromLastBatch.run()
        #expect(fromLastBatch.parameters == uninterrupted.parameters)
        #expect(fromLastBatch.state.history.map(\.testLoss) == uninterrupted.state.history.map(\.testLoss))

        let path = directory.appendingPathComponent("b.json")
        try Self.trainer("ALIF", task, configure: configure, checkpoint: path).run(stopAfterUpdates: 5)
        let saved = try TrainingCheckpoint.read(from: path)
        #expect(saved.epoch == 1 && saved.batchInEpoch == 1, "stopped mid-epoch")
        let resumed = try Self.trainer("ALIF", task, configure: configure, checkpoint: path, resume: true)
        try resumed.run()
        #expect(resumed.parameters == uninterrupted.parameters)
        #expect(resumed.state.history.map(\.testLoss) == uninterrupted.state.history.map(\.testLoss))
        #expect(throws: PlasticityError.self) { try Self.trainer("ALIF", task, configure: { $0.epochs = 3 }, checkpoint: path, resume: true) }
    }

    @Test("NaN in the data stops training, naming the step and the quantity, keeping the last good checkpoint")
    func nanGuard() throws {
        let path = try temporaryDirectory().appendingPathComponent("c.json")
        let poisoned = PoisonedDataset(base: try Self.smallEvidence(), cleanBatches: 2)
        let trainer = try Self.trainer("LIF", poisoned, configure: { $0.checkpointEvery = 1 }, checkpoint: path)
        do {
            try trainer.run()
            Issue.record("NaN inputs must stop training")
        } catch {
            #expect("\(error)".contains("input x[t=15, b=8, i=0] is nan at time step 15 of update 3 (epoch 1, batch 3)"), "\(error)")
        }
        let saved = try TrainingCheckpoint.read(from: path)
        #expect(saved.updates == 2 && saved.parameters.firstNonFiniteTensor == nil, "the last good checkpoint is kept")
    }

    @Test("a checkpoint with impossible progress or a misfit optimiser state is refused naming the field; a directory is not 'missing'",
          arguments: [("epoch", "-1", "has epoch -1"), ("epoch", "1000000", "has epoch 1000000"), ("batchInEpoch", "-3", "has batchInEpoch -3"), ("batchInEpoch", "5", "has batchInEpoch 5"),
                      ("updates", "9223372036854775807", "has updates 9223372036854775807"), ("history", "[]", "epochs of history"),
                      ("firingRates", "[0.5]", "firing rates"), ("moment", "", "optimiser state")])
    func damagedProgress(field: String, value: String, expected: String) throws {
        let directory = try temporaryDirectory(), checkpoint = directory.appendingPathComponent("c.json")
        let task = try Self.smallEvidence()
        try Self.trainer("LIF", task, configure: { $0.epochs = 2 }, checkpoint: checkpoint).run(stopAfterUpdates: 5)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: checkpoint)) as? [String: Any])
        if field == "moment" {
            // Adam's first moment one value short for one tensor.
            var optimizer = try #require(json["optimizer"] as? [String: Any]), adam = try #require(optimizer["adam"] as? [String: Any])
            var inner = try #require(adam["_0"] as? [String: Any]), moment = try #require(inner["firstMoment"] as? [[String: Any]])
            var values = try #require(moment[0]["values"] as? [Any])
            values.removeLast()
            moment[0]["values"] = values
            inner["firstMoment"] = moment
            adam["_0"] = inner
            optimizer["adam"] = adam
            json["optimizer"] = optimizer
        } else {
            json[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        }
        // As edited, the checksum no longer matches; without one (a checkpoint edited on
        // purpose, or written before checksums), the field checks refuse it.
        try JSONSerialization.data(withJSONObject: json).write(to: checkpoint)
        let damaged = errorMessage { _ = try Self.trainer("LIF", task, configure: { $0.epochs = 2 }, checkpoint: checkpoint, resume: true) }
        #expect(damaged.contains("is damaged: its contents no longer match the checksum"), "\(damaged)")
        json["checksum"] = nil
        try JSONSerialization.data(withJSONObject: json).write(to: checkpoint)
        let message = errorMessage { _ = try Self.trainer("LIF", task, configure: { $0.epochs = 2 }, checkpoint: checkpoint, resume: true) }
        #expect(message.contains(expected), "\(message)")
        let asDirectory = errorMessage { _ = try Self.trainer("LIF", task, configure: { $0.epochs = 2 }, checkpoint: directory, resume: true) }
        #expect(asDirectory.contains("not a regular file"), "\(asDirectory)")
    }

    @Test("schedules: warm-up then cosine decay")
    func schedule() {
        var configuration = TrainingConfiguration()
        configuration.learningRate = 1
        configuration.warmupSteps = 10
        configuration.cosineDecay = true
        configuration.minimumLearningRate = 0.1
        #expect(configuration.learningRate(step: 0, total: 110) == 0.1)
        #expect(configuration.learningRate(step: 9, total: 110) == 1)
        #expect(Swift.abs(configuration.learningRate(step: 60, total: 110) - 0.55) < 1e-12)
        #expect(Swift.abs(configuration.learningRate(step: 110, total: 110) - 0.1) < 1e-12)
    }
}

/// A dataset whose batches turn to NaN after the first few: malformed data mid-run.
final class PoisonedDataset: SequenceDataset {
    let base: EvidenceAccumulation
    let cleanBatches: Int
    private var served = 0
    init(base: EvidenceAccumulation, cleanBatches: Int) {
        self.base = base
        self.cleanBatches = cleanBatches
    }
    var name: String { base.name }
    var inputCount: Int { base.inputCount }
    var outputCount: Int { base.outputCount }
    var steps: Int { base.steps }
    func count(_ split: Split) -> Int { base.count(split) }
    func batch<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T> {
        let clean = try base.batch(split, indices: indices, as: type)
        guard split == .training else { return clean }
        served += 1
        guard served > cleanBatches else { return clean }
        var inputs = clean.inputs
        inputs[inputs.count / 2] = .nan
        return SequenceBatch(inputs: inputs, steps: clean.steps, batch: clean.batch, loss: clean.loss)
    }
    func accuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double? { base.accuracy(readouts: readouts, batch: batch) }
}

extension TrainingTests {
    @Test("a resume with other options, data, model settings or surrogate is refused, naming each difference")
    func resumeNamesDifferences() throws {
        let directory = try temporaryDirectory()
        let checkpoint = directory.appendingPathComponent("c.json")
        let common = ["train", "--model", "LIF", "--task", "evidence", "--train-examples", "32", "--test-examples", "16", "--hidden", "8", "--epochs", "1",
                      "--batch-size", "16", "--checkpoint", checkpoint.path, "--threads", "1"]
        #expect(try runTool(common).status == 0)
        let changed = try runTool(common + ["--resume", "--learning-rate", "0.002", "--delay", "20", "--set", "tauMembrane=30", "--surrogate", "fast-sigmoid"])
        #expect(changed.status != 0)
        for difference in ["learningRate 0.005 → 0.002", "data.delaySteps 50 → 20", "network.populations[0].settings.tauMembrane (none) → 30",
                           "network.populations[0].surrogate \"triangle(dampening=0.3, width=1)\" → \"fast-sigmoid(slope=10)\""] {
            #expect(changed.error.contains(difference), "\(difference): \(changed.error)")
        }
        let threads = try runTool(common + ["--resume", "--threads", "2", "--epochs", "1"])
        #expect(threads.status == 0, "the thread count is not part of the run: \(threads.error)")
        let shards = try runTool(common + ["--resume", "--shards", "2"])
        #expect(shards.status != 0 && shards.error.contains("shards 4 → 2"), "\(shards.error)")
    }

    @Test("without --shards train cuts e-prop's batch into shards of at most 4 sequences and BPTT's into 4; a resume keeps the checkpoint's count")
    func shardsByRule() throws {
        let directory = try temporaryDirectory()
        func arguments(_ name: String, rule: String, epochs: Int) -> [String] {
            ["train", "--model", "LIF", "--task", "evidence", "--train-examples", "64", "--test-examples", "16", "--hidden", "8", "--epochs", "\(epochs)",
             "--batch-size", "32", "--checkpoint", directory.appendingPathComponent(name).path, "--threads", "2", "--rule", rule]
        }
        for (rule, shards) in [("eprop", 8), ("bptt", 4)] {
            let run = try runTool(arguments(rule, rule: rule, epochs: 1))
            #expect(run.status == 0 && run.output.contains("batches of 32 in \(shards) shards on 2 threads"), "\(run.output) \(run.error)")
            #expect(try TrainingCheckpoint.read(from: directory.appendingPathComponent(rule)).configuration.shards == shards)
        }
        // A run saved with another count (as before the rule chose it) resumes with that count
        // instead of being refused as another run; with --shards another count is refused.
        #expect(try runTool(arguments("given", rule: "eprop", epochs: 1) + ["--shards", "4"]).status == 0)
        let saved = try TrainingCheckpoint.read(from: directory.appendingPathComponent("given"))
        let resumed = try runTool(arguments("given", rule: "eprop", epochs: 1) + ["--resume"])
        #expect(resumed.status == 0 && resumed.output.contains("in 4 shards"), "\(resumed.error)")
        #expect(try TrainingCheckpoint.read(from: directory.appendingPathComponent("given")).parameters == saved.parameters)
        let other = try runTool(arguments("given", rule: "eprop", epochs: 1) + ["--resume", "--shards", "8"])
        #expect(other.status != 0 && other.error.contains("shards 4 → 8"), "\(other.error)")
    }
}
