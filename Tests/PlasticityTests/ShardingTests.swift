import Foundation
import PlasticityCore
import Testing

@Suite("Data parallelism over threads: sharded batches")
struct ShardingTests {
    @Test("the shards partition the batch, sizes within one")
    func partition() {
        for (batch, count) in [(1, 4), (2, 4), (5, 4), (16, 16), (17, 16), (32, 4), (100, 7)] {
            let shards = ShardedComputation.shards(batch: batch, count: count)
            #expect(shards.count == Swift.min(batch, count))
            #expect(shards.first?.lowerBound == 0 && shards.last?.upperBound == batch)
            #expect(zip(shards, shards.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            let sizes = shards.map(\.count)
            #expect(sizes.max()! - sizes.min()! <= 1)
        }
    }

    /// A network with two layers, recurrence and a leaky readout, on a batch of 7 sequences.
    static func fixture(lossKind: LossKind) throws -> RuleFixture {
        try RuleFixture(network: GraphCase.stacked.network(), lossKind: lossKind, steps: 12, batch: 7, seed: 4)
    }

    @Test("sharded gradients equal the whole batch's, and are bit-identical for any thread count", arguments: LearningRuleKind.allCases)
    func gradients(_ rule: LearningRuleKind) throws {
        for lossKind in [LossKind.crossEntropyEveryStep, .crossEntropySummed, .meanSquaredError] {
            let fixture = try Self.fixture(lossKind: lossKind)
            let options = RuleOptions(recordReadouts: true, spikeError: [Double](repeating: 0.01, count: fixture.network.neuronCount))
            let whole = try fixture.gradients(rule, options: options)
            let batch = SequenceBatch(inputs: fixture.inputs, steps: fixture.steps, batch: fixture.batch, loss: fixture.loss)
            let one = try ShardedComputation.gradients(rule: rule, network: fixture.network, parameters: fixture.parameters, batch: batch, options: options,
                                                       shards: 7, threads: 1)
            #expect(relativeError(one.gradients, whole.gradients) < 1e-12, "\(lossKind)")
            #expect(Swift.abs(one.loss - whole.loss) < 1e-12 * Swift.max(1, Swift.abs(whole.loss)))
            #expect(one.spikeCount == whole.spikeCount && one.neuronSpikes == whole.neuronSpikes)
            #expect(one.readouts == whole.readouts, "each sequence's forward pass does not depend on its batch")
            for threads in [2, 3, 16] {
                let many = try ShardedComputation.gradients(rule: rule, network: fixture.network, parameters: fixture.parameters, batch: batch, options: options,
                                                            shards: 7, threads: threads)
                #expect(many.gradients == one.gradients && many.loss == one.loss && many.readouts == one.readouts, "\(threads) threads")
            }
        }
    }

    @Test("a rule reused batch after batch equals one built afresh, bit for bit", arguments: LearningRuleKind.allCases)
    func reuse(_ rule: LearningRuleKind) throws {
        let network = try GraphCase.stacked.network()
        let workspaces = ShardWorkspaces<Double>()
        // Other data, weights, spike errors and losses each batch; a smaller batch in between
        // makes the shards build their rules anew, and the next batch again.
        let batches: [(LossKind, Int, UInt64)] = [(.crossEntropyEveryStep, 7, 4), (.crossEntropyEveryStep, 7, 5), (.crossEntropyEveryStep, 3, 6),
                                                  (.crossEntropyEveryStep, 7, 7), (.crossEntropySummed, 7, 8), (.crossEntropySummed, 7, 9)]
        for (lossKind, size, seed) in batches {
            let fixture = try RuleFixture(network: network, lossKind: lossKind, steps: 12, batch: size, seed: seed)
            let errors = (0..<network.neuronCount).map { 0.01 * Double(($0 + Int(seed)) % 5) - 0.02 }
            var options = RuleOptions(recordReadouts: true, spikeError: errors)
            options.checkpointInterval = rule == .bptt ? 5 : nil
            let batch = SequenceBatch(inputs: fixture.inputs, steps: fixture.steps, batch: fixture.batch, loss: fixture.loss)
            let fresh = try ShardedComputation.gradients(rule: rule, network: network, parameters: fixture.parameters, batch: batch, options: options,
                                                         shards: 3, threads: 1)
            // Shards of two sizes (7 = 2 + 2 + 3; 3 = 1 + 1 + 1) on two workers, each reusing its rules.
            let reused = try ShardedComputation.gradients(rule: rule, network: network, parameters: fixture.parameters, batch: batch, options: options,
                                                          shards: 3, threads: 2, workspaces: workspaces)
            #expect(reused.gradients == fresh.gradients && reused.loss == fresh.loss, "\(lossKind), batch \(size), seed \(seed)")
            #expect(reused.readouts == fresh.readouts && reused.neuronSpikes == fresh.neuronSpikes)
        }
    }

    /// A reused rule skips setting weights it was last set from (the same storage): weights
    /// changed in place, as an optimiser changes them, must still reach it.
    @Test("a reused rule follows weights changed in place, and skips only the very same ones")
    func reuseAfterInPlaceUpdate() throws {
        let network = try GraphCase.stacked.network()
        let fixture = try RuleFixture(network: network, lossKind: .crossEntropyEveryStep, steps: 12, batch: 6, seed: 4)
        let batch = SequenceBatch(inputs: fixture.inputs, steps: fixture.steps, batch: fixture.batch, loss: fixture.loss)
        let workspaces = ShardWorkspaces<Double>()
        var parameters = fixture.parameters
        let kept = parameters
        #expect(kept.sharesStorage(with: parameters))
        let gradients = { (parameters: ParameterSet<Double>, workspaces: ShardWorkspaces<Double>) in
            try ShardedComputation.gradients(rule: .eprop, network: network, parameters: parameters, batch: batch, shards: 3, threads: 1, workspaces: workspaces)
        }
        let before = try gradients(parameters, workspaces)
        parameters.updateTensors(with: []) { values, _ in
            for index in values.indices { values[index] *= 1.25 }
        }
        #expect(!kept.sharesStorage(with: parameters), "changed in place, so copied first")
        let after = try gradients(parameters, workspaces), fresh = try gradients(parameters, ShardWorkspaces<Double>())
        #expect(after.gradients == fresh.gradients && after.loss == fresh.loss)
        #expect(after.gradients != before.gradients)
        // Equal values in other storage are set again (and give the same result).
        let copied = ParameterSet(parameters.names.map { name in (name: name, values: parameters[name].map { $0 }) })
        #expect(!copied.sharesStorage(with: parameters))
        #expect(try gradients(copied, workspaces).gradients == fresh.gradients)
    }

    /// The SHD fixture in 40 bins with augmentation on (shifts in time and channel).
    static func augmentedSHD() throws -> SpikingHeidelbergDigits {
        var configuration = SpikingHeidelbergDigits.Configuration()
        configuration.steps = 40
        configuration.channelPooling = 5
        configuration.augmentation.timeShift = 3
        configuration.augmentation.channelShift = 2
        return try SpikingHeidelbergDigits(directory: DatasetTests.fixtures, configuration: configuration)
    }

    /// Expects `found` to have `expected`'s labels, weights per step and normalisation.
    static func expectSameTargets(_ found: SequenceBatch<Float>, _ expected: SequenceBatch<Float>, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(found.loss.normalization == expected.loss.normalization, sourceLocation: sourceLocation)
        for b in 0..<expected.batch {
            for t in 0..<expected.steps {
                #expect(found.loss.label(sequence: b, step: t) == expected.loss.label(sequence: b, step: t), sourceLocation: sourceLocation)
                #expect(found.loss.weight(step: t, sequence: b) == expected.loss.weight(step: t, sequence: b), sourceLocation: sourceLocation)
            }
        }
    }

    /// What lets the trainer make a batch in parts on several threads: the parts side by side
    /// are the batch of all their indices, bit for bit — inputs, labels, mask and the
    /// normalisation by the whole batch — and so are the gradients computed on them.
    @Test("a batch made in parts and put side by side is the batch itself (SHD augmented, evidence)")
    func batchInParts() throws {
        let shd = try Self.augmentedSHD()
        let evidence = try TrainingTests.smallEvidence()
        let indices = [5, 0, 13, 7, 2, 11, 6]
        let cases: [(any SequenceDataset, ([Int]) throws -> SequenceBatch<Float>)] = [
            (shd, { try shd.trainingBatch(indices: $0, seed: 9, as: Float.self) }),
            (evidence, { try evidence.batch(.training, indices: $0, as: Float.self) }),
        ]
        for (dataset, make) in cases {
            #expect(dataset.makesSequencesIndependently)
            let whole = try make(indices)
            for count in [2, 3, 7] {
                let joined = SequenceBatch.concatenating(try ShardedComputation.shards(batch: indices.count, count: count).map { try make(Array(indices[$0])) })
                #expect(joined.inputs == whole.inputs && joined.batch == whole.batch && joined.steps == whole.steps, "\(dataset.name), \(count) parts")
                #expect(joined.loss.kind == whole.loss.kind)
                Self.expectSameTargets(joined, whole)
                let network = try Network(shape: NetworkShape(inputs: dataset.inputCount, hidden: 6, outputs: dataset.outputCount, recurrent: true, bias: true),
                                          neuron: TestPlugins.compile("LIF"))
                let parameters = ParameterSet<Float>(randomFor: network, seed: 3, inputGain: 2)
                let gradient = { (batch: SequenceBatch<Float>) in
                    try ShardedComputation.gradients(rule: .bptt, network: network, parameters: parameters, batch: batch, shards: 1, threads: 1)
                }
                let (a, b) = (try gradient(joined), try gradient(whole))
                #expect(a.gradients == b.gradients && a.loss == b.loss)
            }
        }
    }

    /// Under MPI a rank computes only its shards, so it makes only their sequences whole: the
    /// others' inputs are never read, but the loss and accuracy need their labels.
    @Test("a rank makes its own shards' sequences whole and the others' targets alone: the batch's labels and normalisation, its own inputs bit for bit")
    func rankMakesOwnShards() throws {
        let shd = try Self.augmentedSHD()
        let evidence = try TrainingTests.smallEvidence()
        let indices = [5, 0, 13, 7, 2, 11, 6, 9, 1]
        let cases: [(any SequenceDataset, ([Int]) throws -> SequenceBatch<Float>, ([Int]) throws -> SequenceBatch<Float>?)] = [
            (shd, { try shd.trainingBatch(indices: $0, seed: 9, as: Float.self) }, { try shd.targetsOnly(.training, indices: $0, as: Float.self) }),
            // Its labels come from the sequences it generates: it has no targets alone, and every part is made whole.
            (evidence, { try evidence.batch(.training, indices: $0, as: Float.self) }, { try evidence.targetsOnly(.training, indices: $0, as: Float.self) }),
        ]
        for (dataset, make, targetsOnly) in cases {
            let whole = try make(indices)
            let width = whole.inputs.count / (whole.steps * whole.batch)
            for (size, shards, threads) in [(2, 4, 1), (3, 4, 1), (2, 3, 2), (3, 9, 4)] {
                for rank in 0..<size {
                    let job = OneRank(rank: rank, size: size)
                    let plan = BatchParts(batch: indices.count, independent: true, threads: threads, shards: shards, distribution: job)
                    let ranges = ShardedComputation.shards(batch: indices.count, count: shards), own = job.ownShards(of: ranges.count)
                    // The parts cover the batch in order, and exactly the own shards' sequences are made whole.
                    #expect(plan.parts.first?.sequences.lowerBound == 0 && plan.parts.last?.sequences.upperBound == indices.count)
                    #expect(zip(plan.parts, plan.parts.dropFirst()).allSatisfy { $0.sequences.upperBound == $1.sequences.lowerBound })
                    #expect(Set(plan.parts.filter(\.inputs).flatMap(\.sequences)) == Set(own.flatMap { ranges[$0] }), "rank \(rank) of \(size)")
                    #expect(plan.parts.filter(\.inputs).count >= Swift.min(threads, own.flatMap { ranges[$0] }.count))
                    let batch = BatchParts.assemble(try plan.jobs(indices: indices, make: make, targetsOnly: targetsOnly).map { try $0() })
                    #expect(batch.batch == whole.batch && batch.steps == whole.steps)
                    Self.expectSameTargets(batch, whole)
                    let madeWhole = Set(plan.parts.filter(\.inputs).flatMap(\.sequences))
                    let hasTargetsAlone = try targetsOnly([indices[0]]) != nil
                    for b in 0..<whole.batch {
                        let mine = batch.sequences(b..<(b + 1)).inputs, reference = whole.sequences(b..<(b + 1)).inputs
                        if madeWhole.contains(b) || !hasTargetsAlone {
                            #expect(mine == reference, "\(dataset.name), rank \(rank) of \(size), sequence \(b)")
                        } else {
                            #expect(mine.allSatisfy { $0 == 0 } && mine.count == whole.steps * width)
                            #expect(reference.contains { $0 != 0 }, "the fixture's sequence \(b) has spikes, so the test can tell")
                        }
                    }
                }
            }
        }
        // One process: its parts are made whole, one per thread.
        let single = BatchParts(batch: 9, independent: true, threads: 3, shards: 4, distribution: nil)
        #expect(single.parts.map(\.sequences) == ShardedComputation.shards(batch: 9, count: 3) && single.parts.allSatisfy(\.inputs))
        #expect(BatchParts(batch: 9, independent: false, threads: 3, shards: 4, distribution: OneRank(rank: 1, size: 2)).parts == [.init(sequences: 0..<9, inputs: true)])
    }

    @Test("evaluation and training are bit-identical for any thread count")
    func training() throws {
        let task = try TrainingTests.smallEvidence()
        func train(threads: Int) throws -> Trainer {
            let network = try Network(shape: NetworkShape(inputs: task.inputCount, hidden: 12, outputs: task.outputCount, recurrent: true, bias: true),
                                      neuron: TestPlugins.compile("ALIF"))
            var configuration = TrainingConfiguration()
            configuration.epochs = 2
            configuration.batchSize = 16
            configuration.learningRate = 1e-2
            configuration.rateRegularization = 0.5
            configuration.shards = 5
            let trainer = try Trainer(network: network, dataset: task, configuration: configuration, checkpoint: nil, resume: false, threads: threads)
            try trainer.run()
            return trainer
        }
        let one = try train(threads: 1), two = try train(threads: 2), five = try train(threads: 5)
        #expect(one.state.parameters == two.state.parameters && one.state.parameters == five.state.parameters)
        #expect(one.state.history.map(\.testLoss) == two.state.history.map(\.testLoss))
        #expect(one.state.history.map(\.trainingAccuracy) == five.state.history.map(\.trainingAccuracy))
    }
}

/// One rank of a job, for what depends only on its rank and size: the collectives are not used.
private final class OneRank: ShardDistribution {
    let rank: Int, size: Int
    let exchange = ShardExchange.gather
    init(rank: Int, size: Int) { (self.rank, self.size) = (rank, size) }
    func allGather(_ contribution: [Double]) throws -> [[Double]] { throw PlasticityError.invalidConfiguration("one rank alone exchanges nothing") }
    func allReduceSum(_ values: [Double]) throws -> [Double] { throw PlasticityError.invalidConfiguration("one rank alone exchanges nothing") }
}
