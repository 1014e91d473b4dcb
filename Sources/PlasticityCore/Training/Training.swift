import Foundation
import PlasticityBase
import PlasticityEngine
import PlasticityIO
import PlasticityData

/// The optimisers a training run can use.
public enum OptimizerKind: String, CaseIterable, Sendable, Codable {
    case sgd, adam, adamw
}

/// Everything that determines a training run. Two runs with equal configurations (and data)
/// produce the same weights.
public struct TrainingConfiguration: Sendable, Codable, Equatable {
    public var rule: LearningRuleKind = .eprop
    public var epochs = 10
    public var batchSize = 32
    public var learningRate = 1e-3
    public var optimizer: OptimizerKind = .adam
    public var momentum = 0.0
    public var weightDecay = 0.0
    /// Scale gradients down to this norm when larger.
    public var clipNorm: Double?
    /// Linear warm-up from 0 over this many updates.
    public var warmupSteps = 0
    /// Cosine decay of the rate to `minimumLearningRate` over the run.
    public var cosineDecay = false
    public var minimumLearningRate = 0.0
    /// Firing-rate regularisation (Bellec et al. 2020): strength c and target rate per step.
    public var rateRegularization = 0.0
    public var targetRate = 0.01
    public var feedback: Feedback = .symmetric
    public var deepFeedback: DeepFeedback = .standard
    /// Scale of the initial input and recurrent weights (times 1/√fan-in): models whose input
    /// current is scaled down (by Δt/τ, say) need more to spike at all.
    public var inputGain = 2.0
    public var recurrentGain = 1.0
    public var seed: UInt64 = 1
    /// Write a checkpoint every this many updates (and at every epoch end).
    public var checkpointEvery = 50
    /// Training samples held out for validation (0: none; the test split is then evaluated
    /// every epoch, as before).
    public var validationFraction = 0.0
    /// What picks the best epoch on the validation split.
    public var selectBy: SelectionMetric = .accuracy
    /// Stop after this many epochs without a better validation score (nil: never).
    public var patience: Int?
    /// The fixed shards each batch is cut into (`ShardedComputation`): at most this many
    /// threads work on a batch; the results depend on it, not on the threads. `train` sets it
    /// by rule unless `--shards` is given (`ShardedComputation.defaultShards(rule:batch:)`).
    public var shards = ShardedComputation.defaultShards
    /// How MPI ranks combine their shards (nil: one process, or `.gather`, bit-identical to it).
    public var exchange: ShardExchange?
    public init() {}

    /// The weights a new run starts from (drawn from `seed` with the gains).
    public func initialParameters(for network: Network) -> ParameterSet<Float> {
        ParameterSet(randomFor: network, seed: seed, inputGain: inputGain, recurrentGain: recurrentGain)
    }

    /// The learning rate of update `step` (0-based) out of `total`.
    public func learningRate(step: Int, total: Int) -> Double {
        if warmupSteps > 0, step < warmupSteps { return learningRate * Double(step + 1) / Double(warmupSteps) }
        guard cosineDecay, total > warmupSteps else { return learningRate }
        let progress = Double(step - warmupSteps) / Double(Swift.max(1, total - warmupSteps))
        return minimumLearningRate + 0.5 * (learningRate - minimumLearningRate) * (1 + Foundation.cos(Double.pi * Swift.min(1, progress)))
    }
}


/// Loss and accuracy after one epoch: on the validation split when the run holds one out,
/// otherwise on the test split.
public struct EpochMetrics: Sendable, Codable, Equatable {
    public let epoch: Int
    public let trainingLoss: Double
    public let trainingAccuracy: Double?
    public let validationLoss: Double?
    public let validationAccuracy: Double?
    public let testLoss: Double?
    public let testAccuracy: Double?
    /// Mean firing rate per neuron and step over the training epoch.
    public let firingRate: Double
    public let seconds: Double
}

/// The optimiser with its state, for checkpoints.
public enum OptimizerState: Codable {
    case sgd(SGD<Float>)
    case adam(Adam<Float>)

    init(_ configuration: TrainingConfiguration) {
        switch configuration.optimizer {
        case .sgd: self = .sgd(SGD(momentum: configuration.momentum, weightDecay: configuration.weightDecay))
        case .adam: self = .adam(Adam())
        case .adamw: self = .adam(Adam(decoupledWeightDecay: configuration.weightDecay))
        }
    }

    func checkState(against network: Network) throws {
        switch self {
        case .sgd(let optimizer): try optimizer.checkState(against: network)
        case .adam(let optimizer): try optimizer.checkState(against: network)
        }
    }

    mutating func update(_ parameters: inout ParameterSet<Float>, gradients: ParameterSet<Float>, rate: Double) {
        switch self {
        case .sgd(var optimizer):
            optimizer.update(&parameters, gradients: gradients, rate: rate)
            self = .sgd(optimizer)
        case .adam(var optimizer):
            optimizer.update(&parameters, gradients: gradients, rate: rate)
            self = .adam(optimizer)
        }
    }
}

/// A resumable snapshot of a training run, written atomically.
public struct TrainingCheckpoint: Codable {
    /// 3 since batches are sharded (2: networks as graphs; 1: one population's shape).
    public var format = TrainingCheckpoint.currentFormat
    public static let currentFormat = 3
    public var model: String
    public var dataset: String
    /// What determined the data (`SequenceDataset.settings`).
    public var datasetSettings: [String: String]
    public var network: NetworkSummary
    public var configuration: TrainingConfiguration
    public var parameters: ParameterSet<Float>
    public var optimizer: OptimizerState
    /// The next batch to train: epoch and position within it.
    public var epoch: Int
    public var batchInEpoch: Int
    public var updates: Int
    /// Per-neuron firing rates of the last batch (for the rate regulariser).
    public var firingRates: [Double]
    public var history: [EpochMetrics]
    /// Names the run in its metrics lines (made when the run starts; nil in checkpoints older
    /// than it, and then made on resume).
    public var runID: String?
    /// With a validation split: the best epoch so far, epochs since it, whether the run stopped
    /// early, and the test split's result at the end.
    public var best: BestEpoch?
    public var epochsWithoutImprovement: Int
    public var stoppedEarly: Bool
    public var finalTest: FinalTest?
    /// Running sums of the epoch in progress.
    public var epochLoss: Double
    public var epochCorrect: Double
    public var epochSequences: Int
    public var epochSpikes: Double
    /// CRC-32 of the checkpoint encoded without this field. Re-encoding what was read gives the
    /// same bytes for the same values, so a changed value — one flipped digit of a weight —
    /// is refused instead of resumed from; nil in checkpoints written before it.
    public var checksum: String?

    /// Everything that makes two runs the same run, by name (model, task, data settings,
    /// network, configuration): a resume must match it.
    static func run(model: String, task: String, datasetSettings: [String: String], network: NetworkSummary,
                    configuration: TrainingConfiguration) -> [String: String] {
        var table = ["model": model, "task": task]
        for (key, value) in datasetSettings { table["data.\(key)"] = value }
        for (key, value) in SettingsTable.flatten(network) { table["network.\(key)"] = value }
        for (key, value) in SettingsTable.flatten(configuration) { table[key] = value }
        return table
    }

    /// This checkpoint's run, tabulated as `run(…)` does.
    var run: [String: String] {
        Self.run(model: model, task: dataset, datasetSettings: datasetSettings, network: network, configuration: configuration)
    }

    /// Throws, naming the field, unless the saved progress is one a run can reach: a damaged or
    /// edited checkpoint would otherwise train nothing, or trap.
    func checkProgress(batchesPerEpoch: Int, network: Network, path: String) throws {
        func refuse(_ field: String, _ value: Any, _ expected: String) -> PlasticityError {
            .invalidCheckpoint(path: path, reason: "has \(field) \(value), but \(expected)")
        }
        guard (0...configuration.epochs).contains(epoch) else { throw refuse("epoch", epoch, "the run has \(configuration.epochs) epochs") }
        // An epoch's last batch is saved before the epoch is evaluated: its position is the
        // epoch's batch count until the epoch ends, and 0 once the last epoch has ended.
        let positions = epoch < configuration.epochs ? 0...Swift.max(0, batchesPerEpoch) : 0...0
        guard positions.contains(batchInEpoch) else {
            throw refuse("batchInEpoch", batchInEpoch, "an epoch has \(batchesPerEpoch) batches and the run \(configuration.epochs) epochs")
        }
        let (reached, overflow) = epoch.multipliedReportingOverflow(by: batchesPerEpoch)
        guard !overflow, updates == reached + batchInEpoch else {
            throw refuse("updates", updates, "epoch \(epoch) and batch \(batchInEpoch) of \(batchesPerEpoch) make \(overflow ? "more than any run" : "\(reached + batchInEpoch)")")
        }
        guard history.count == epoch else { throw refuse("\(history.count) epochs of history", "", "epoch is \(epoch)") }
        guard firingRates.count == network.neuronCount, firingRates.allSatisfy(\.isFinite) else {
            throw refuse("\(firingRates.count) firing rates", "", "the network has \(network.neuronCount) neurons, each with a finite rate")
        }
        if let best {
            guard (1...Swift.max(1, epoch)).contains(best.epoch) else { throw refuse("best epoch", best.epoch, "\(epoch) epochs were run") }
            try best.parameters.check(against: network)
        }
        do {
            try optimizer.checkState(against: network)
        } catch {
            throw PlasticityError.invalidCheckpoint(path: path, reason: "has an optimiser state that does not fit the network: \(error)")
        }
    }

    /// This checkpoint encoded without its checksum, keys sorted: what the checksum covers.
    private func unsignedEncoding() throws -> Data {
        var unsigned = self
        unsigned.checksum = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(unsigned)
    }

    /// The CRC-32 of `encoding`, in hex.
    private static func checksum(of encoding: Data) -> String {
        String(format: "%08x", encoding.withUnsafeBytes { ZipChecksum.update(0, with: $0) })
    }

    /// Writes to a temporary file next to `url`, then renames it over `url`. Encoded once
    /// (the weights' text is most of a save): the checksum goes in front of the bytes it covers.
    public func write(to url: URL) throws {
        let body = try unsignedEncoding()
        var data = Data("{\"checksum\":\"\(Self.checksum(of: body))\",".utf8)
        data.append(body.dropFirst())
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        try data.write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw PlasticityError.invalidCheckpoint(path: url.path, reason: "cannot be written: \(String(cString: strerror(errno)))")
        }
    }

    public static func read(from url: URL) throws -> TrainingCheckpoint {
        switch RegularFile.size(at: url.path) {
        case .success(let size):
            // A checkpoint holds weights as JSON numbers: far below this, and the bound keeps a
            // wrong path (a disk image, say) from being read whole.
            guard size <= 4 << 30 else { throw PlasticityError.invalidCheckpoint(path: url.path, reason: "is \(size) bytes, more than a checkpoint holds") }
        case .failure(.missing): throw PlasticityError.invalidCheckpoint(path: url.path, reason: "does not exist")
        case .failure(let problem): throw PlasticityError.invalidCheckpoint(path: url.path, reason: "cannot be read: \(problem.reason)")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PlasticityError.invalidCheckpoint(path: url.path, reason: "cannot be read: \(String(cString: strerror(errno)))")
        }
        struct Format: Decodable { let format: Int }
        if let format = try? JSONDecoder().decode(Format.self, from: data), format.format != currentFormat {
            throw PlasticityError.invalidCheckpoint(path: url.path, reason: "has format \(format.format); this version reads format \(currentFormat) (networks as graphs, sharded batches), so the run cannot be resumed — start it again")
        }
        let checkpoint: TrainingCheckpoint
        do {
            checkpoint = try JSONDecoder().decode(TrainingCheckpoint.self, from: data)
        } catch {
            throw PlasticityError.invalidCheckpoint(path: url.path, reason: "is not a Plasticity checkpoint (\(error))")
        }
        if let checksum = checkpoint.checksum, Self.checksum(of: try checkpoint.unsignedEncoding()) != checksum {
            throw PlasticityError.invalidCheckpoint(path: url.path, reason: "is damaged: its contents no longer match the checksum they were written with (a changed byte?), so the run cannot be resumed from it")
        }
        return checkpoint
    }
}

/// What the trainer reports while it runs.
public enum TrainingEvent {
    case batch(epoch: Int, batch: Int, batches: Int, loss: Double, accuracy: Double?, updates: Int, totalUpdates: Int)
    case epoch(EpochMetrics)
    case checkpoint(URL)
    /// A run with a validation split ended: the test split with the best and the last weights.
    case finished(FinalTest)
}

/// Mini-batch training with evaluation on the held-out split, checkpoints and a guard
/// against NaN and infinity.
public final class Trainer {
    public let network: Network
    public let dataset: any SequenceDataset
    public private(set) var state: TrainingCheckpoint
    public let checkpointURL: URL?
    /// The training split's samples trained on and held out.
    public let split: ValidationSplit
    /// Workers each batch's shards run on (`ShardedComputation`); the results do not depend on it.
    public let threads: Int
    /// The ranks sharing each batch's shards, if this is one process of a distributed job:
    /// every rank trains the same weights; rank 0 alone writes the checkpoint.
    public let distribution: (any ShardDistribution)?
    /// Each worker's rule, reused from batch to batch.
    private let workspaces = ShardWorkspaces<Float>()
    /// The next training batch, made while the current one trains.
    private let prefetcher: Prefetcher<BatchPosition, SequenceBatch<Float>>
    /// Checkpoints written during an epoch, while the next batch trains (by update count).
    private let checkpointWriter: Prefetcher<Int, Void>
    private var pendingSave: URL?
    private struct BatchPosition: Equatable { let epoch: Int, index: Int }

    /// A new run (weights from the seed) or, with `resumeFrom`, the run saved there.
    public init(network: Network, dataset: any SequenceDataset, configuration: TrainingConfiguration, checkpoint: URL?, resume: Bool,
                initialParameters: ParameterSet<Float>? = nil, threads: Int = 1, distribution: (any ShardDistribution)? = nil) throws {
        guard threads >= 1, configuration.shards >= 1 else {
            throw PlasticityError.invalidConfiguration("threads and shards must be at least 1, got \(threads) and \(configuration.shards)")
        }
        if let distribution, configuration.shards < distribution.size {
            throw PlasticityError.invalidConfiguration("\(distribution.size) ranks need at least \(distribution.size) shards per batch (each rank computes its own), "
                                                       + "got \(configuration.shards): give --shards \(distribution.size) or more")
        }
        self.threads = threads
        self.distribution = distribution
        prefetcher = Prefetcher(placement: .init(threads: threads))
        checkpointWriter = Prefetcher(placement: .init(threads: threads))
        guard configuration.epochs > 0, configuration.batchSize > 0, configuration.learningRate > 0, configuration.checkpointEvery > 0 else {
            throw PlasticityError.invalidConfiguration("epochs, batch size, learning rate and checkpoint interval must be positive")
        }
        guard configuration.epochs <= Self.maxEpochs else {
            throw PlasticityError.invalidConfiguration("\(configuration.epochs) epochs is more than a run counts (at most \(Self.maxEpochs))")
        }
        try Self.checkBatch(dataset: dataset, batchSize: configuration.batchSize)
        if let patience = configuration.patience {
            guard patience > 0, configuration.validationFraction > 0 else {
                throw PlasticityError.invalidConfiguration("early stopping needs a patience of at least one epoch and a validation split (--validation-fraction)")
            }
        }
        split = try ValidationSplit(count: dataset.count(.training), fraction: configuration.validationFraction, seed: configuration.seed)
        guard network.inputs == dataset.inputCount, network.outputs == dataset.outputCount else {
            throw PlasticityError.invalidConfiguration("\(dataset.name) has \(dataset.inputCount) inputs and \(dataset.outputCount) outputs; the network has \(network.inputs) and \(network.outputs)")
        }
        self.network = network
        self.dataset = dataset
        checkpointURL = checkpoint
        if resume {
            guard let checkpoint else { throw PlasticityError.invalidConfiguration("--resume needs a checkpoint file") }
            let saved = try TrainingCheckpoint.read(from: checkpoint)
            let differences = SettingsTable.differences(saved.run, TrainingCheckpoint.run(model: network.modelNames, task: dataset.name, datasetSettings: dataset.settings,
                                                                                             network: NetworkSummary(network), configuration: configuration))
            guard differences.isEmpty else {
                throw PlasticityError.invalidCheckpoint(path: checkpoint.path, reason: "was written by a different run: \(differences.prefix(8).joined(separator: "; "))"
                    + (differences.count > 8 ? "; and \(differences.count - 8) more" : "") + "; resume with the same options")
            }
            try saved.parameters.check(against: network)
            try network.checkNeuronParameters(saved.parameters)
            try saved.checkProgress(batchesPerEpoch: Self.batchCount(split: split, batchSize: configuration.batchSize), network: network, path: checkpoint.path)
            state = saved
            if state.runID == nil { state.runID = UUID().uuidString }
        } else {
            let parameters = initialParameters ?? configuration.initialParameters(for: network)
            try parameters.check(against: network)
            state = TrainingCheckpoint(model: network.modelNames, dataset: dataset.name, datasetSettings: dataset.settings, network: NetworkSummary(network),
                                       configuration: configuration,
                                       parameters: parameters, optimizer: OptimizerState(configuration), epoch: 0, batchInEpoch: 0, updates: 0,
                                       firingRates: [Double](repeating: configuration.targetRate, count: network.neuronCount), history: [],
                                       runID: UUID().uuidString, best: nil, epochsWithoutImprovement: 0, stoppedEarly: false, finalTest: nil,
                                       epochLoss: 0, epochCorrect: 0, epochSequences: 0, epochSpikes: 0)
        }
    }

    /// The most storage one gradient computation held during this run (see `GradientResult.storageBytes`).
    public private(set) var peakStorageBytes = 0

    public var configuration: TrainingConfiguration { state.configuration }
    public var parameters: ParameterSet<Float> { state.parameters }

    /// The training batches of `epoch` (sample indices, without the validation samples): a
    /// shuffle fixed by the seed and the epoch.
    public func batches(epoch: Int) -> [[Int]] {
        var generator = SeededGenerator(seed: configuration.seed &+ UInt64(epoch) &* 1_000_003)
        let order = split.training.shuffled(using: &generator)
        let size = Swift.min(configuration.batchSize, order.count)
        return stride(from: 0, through: order.count - size, by: size).map { Array(order[$0..<($0 + size)]) }
    }

    /// Epochs a run may have: enough for any run, few enough that updates cannot overflow.
    public static let maxEpochs = 1 << 24

    /// Throws unless a batch of `batchSize` sequences of `dataset` fits (`BatchBounds`):
    /// checked before the first batch is made.
    public static func checkBatch(dataset: any SequenceDataset, batchSize: Int) throws {
        try BatchBounds.check(steps: dataset.steps, batch: batchSize, inputs: dataset.inputCount)
    }

    /// Batches per epoch (`batches(epoch:)`'s count): whole batches of the training samples.
    static func batchCount(split: ValidationSplit, batchSize: Int) -> Int {
        let count = split.training.count
        return count == 0 ? 0 : count / Swift.min(batchSize, count)
    }

    /// Trains until the configured number of epochs; `stopAfterUpdates` ends early (as an
    /// interruption would) after that many updates in this call.
    public func run(stopAfterUpdates: Int? = nil, report: (TrainingEvent) -> Void = { _ in }) throws {
        do {
            try train(stopAfterUpdates: stopAfterUpdates, report: report)
        } catch {
            // A checkpoint being written is finished: what was saved stays saved.
            try? finishSave(report)
            throw error
        }
    }

    private func train(stopAfterUpdates: Int?, report: (TrainingEvent) -> Void) throws {
        let perEpoch = Self.batchCount(split: split, batchSize: configuration.batchSize)
        let total = perEpoch * configuration.epochs
        var updatesThisCall = 0
        while state.epoch < configuration.epochs, !state.stoppedEarly {
            let epochStart = Date()
            let batches = self.batches(epoch: state.epoch)
            // Jobs that run among the next batch's shards (with every core a worker): making the
            // batch after it, writing a checkpoint.
            var beside: [() -> Void] = []
            while state.batchInEpoch < batches.count {
                if let stop = stopAfterUpdates, updatesThisCall >= stop {
                    try finishSave(report)
                    return
                }
                let position = BatchPosition(epoch: state.epoch, index: state.batchInEpoch)
                // A seed per epoch for the data set's augmentation, if it has one.
                let seed = configuration.seed &+ UInt64(position.epoch) &* 1_000_033
                let jobs = { [dataset] (index: Int) in
                    self.batchJobs(of: batches[index], placement: self.prefetcher.placement,
                                   make: { try dataset.trainingBatch(indices: $0, seed: seed, as: Float.self) },
                                   targetsOnly: { try dataset.targetsOnly(.training, indices: $0, as: Float.self) })
                }
                let batch = try prefetcher.value(for: position) { BatchParts.assemble(try jobs($0.index).map { try $0() }) }
                if position.index + 1 < batches.count {
                    beside += prefetcher.prefetch(BatchPosition(epoch: position.epoch, index: position.index + 1), parts: jobs(position.index + 1),
                                                  assemble: BatchParts.assemble)
                }
                try trainBatch(batch, total: total, alongside: beside)
                beside = []
                updatesThisCall += 1
                report(.batch(epoch: state.epoch, batch: state.batchInEpoch, batches: batches.count, loss: state.epochLoss / Double(state.batchInEpoch),
                              accuracy: state.epochSequences > 0 ? state.epochCorrect / Double(state.epochSequences) : nil,
                              updates: state.updates, totalUpdates: total))
                if state.updates % configuration.checkpointEvery == 0, let write = try startSave(report) { beside.append(write) }
            }
            try finishSave(report)
            let held = split.validation.isEmpty ? try evaluate(.test) : try evaluate(.training, indices: split.validation)
            let validating = !split.validation.isEmpty
            let sequences = Double(Swift.max(1, state.epochSequences))
            let metrics = EpochMetrics(
                epoch: state.epoch + 1, trainingLoss: state.epochLoss / Double(batches.count),
                trainingAccuracy: state.epochSequences > 0 && held.accuracy != nil ? state.epochCorrect / sequences : nil,
                validationLoss: validating ? held.loss : nil, validationAccuracy: validating ? held.accuracy : nil,
                testLoss: validating ? nil : held.loss, testAccuracy: validating ? nil : held.accuracy,
                firingRate: state.epochSpikes / (Double(batches.count * configuration.batchSize * dataset.steps * network.neuronCount)),
                seconds: Date().timeIntervalSince(epochStart))
            if validating { recordValidation(epoch: state.epoch + 1, loss: held.loss, accuracy: held.accuracy) }
            state.history.append(metrics)
            state.epoch += 1
            state.batchInEpoch = 0
            state.epochLoss = 0
            state.epochCorrect = 0
            state.epochSequences = 0
            state.epochSpikes = 0
            // Saved before it is reported: an epoch that was reported (and written to a metrics
            // file) is in the checkpoint a resumed run starts from.
            try saveCheckpoint(report)
            report(.epoch(metrics))
        }
        if let best = state.best, state.finalTest == nil {
            let bestTest = try evaluate(.test, parameters: best.parameters), lastTest = try evaluate(.test)
            state.finalTest = FinalTest(bestEpoch: best.epoch, bestLoss: bestTest.loss, bestAccuracy: bestTest.accuracy,
                                        lastLoss: lastTest.loss, lastAccuracy: lastTest.accuracy)
            try saveCheckpoint(report)
        }
        if let finalTest = state.finalTest { report(.finished(finalTest)) }
    }

    /// Keeps the best weights by the validation score, and stops after `patience` epochs without a better one.
    private func recordValidation(epoch: Int, loss: Double, accuracy: Double?) {
        let score = configuration.selectBy.score(loss: loss, accuracy: accuracy)
        if let best = state.best, score <= best.score {
            state.epochsWithoutImprovement += 1
            if let patience = configuration.patience, state.epochsWithoutImprovement >= patience { state.stoppedEarly = true }
        } else {
            state.best = BestEpoch(epoch: epoch, score: score, parameters: state.parameters)
            state.epochsWithoutImprovement = 0
        }
    }

    /// One update from `batch`; `alongside` (making the next batch, writing a checkpoint) runs among its shards.
    private func trainBatch(_ batch: SequenceBatch<Float>, total: Int, alongside: [() -> Void]) throws {
        let location = "update \(state.updates + 1) (epoch \(state.epoch + 1), batch \(state.batchInEpoch + 1))"
        var options = RuleOptions(feedback: configuration.feedback, deepFeedback: configuration.deepFeedback, recordReadouts: true)
        if configuration.rateRegularization > 0 {
            // ∂E_reg/∂z_t = 2c (f̄_j − f*) / (B·T), with the rates of the previous batch (known in advance, so online).
            let scale = 2 * configuration.rateRegularization / Double(batch.batch * batch.steps)
            options.spikeError = state.firingRates.map { scale * ($0 - configuration.targetRate) }
        }
        let result: GradientResult<Float>
        do {
            result = try ShardedComputation.gradients(rule: configuration.rule, network: network, parameters: state.parameters, batch: batch,
                                                      options: options, shards: configuration.shards, threads: threads, workspaces: workspaces,
                                                      distribution: distribution, alongside: alongside)
        } catch PlasticityError.nonFinite(let quantity, let value, let inner) {
            throw PlasticityError.nonFinite(quantity: quantity, value: value, location: "\(inner) of \(location)")
        }
        let step = state.updates
        peakStorageBytes = Swift.max(peakStorageBytes, result.storageBytes)
        try result.checkFinite(location: location)
        var gradients = result.gradients
        if let clip = configuration.clipNorm { gradients.clip(norm: clip) }
        var parameters = state.parameters
        state.optimizer.update(&parameters, gradients: gradients, rate: configuration.learningRate(step: step, total: total))
        network.finishNeuronParameterUpdate(&parameters, previous: state.parameters)
        if let bad = parameters.firstNonFiniteTensor { throw PlasticityError.nonFinite(quantity: "weight tensor \(bad)", value: "NaN or infinity", location: location) }
        state.parameters = parameters
        state.firingRates = result.firingRates(steps: batch.steps, batch: batch.batch)
        state.updates += 1
        state.batchInEpoch += 1
        state.epochLoss += result.loss
        state.epochSpikes += Double(result.spikeCount)
        if let accuracy = dataset.accuracy(readouts: result.readouts, batch: batch) {
            state.epochCorrect += accuracy * Double(batch.batch)
            state.epochSequences += batch.batch
        }
    }

    /// Mean loss and accuracy over a split (or the samples `indices` of it), forward only,
    /// with the current weights or `parameters`.
    public func evaluate(_ split: Split, indices: [Int]? = nil, parameters: ParameterSet<Float>? = nil) throws -> (loss: Double, accuracy: Double?) {
        let samples = indices ?? Array(0..<dataset.count(split))
        let count = samples.count
        guard count > 0 else { return (.nan, nil) }
        let size = Swift.min(configuration.batchSize, count)
        var loss = 0.0, correct = 0.0, sequences = 0, batches = 0
        // The next batch is made while this one runs, as in training.
        let prefetcher = Prefetcher<Int, SequenceBatch<Float>>(placement: self.prefetcher.placement)
        let jobs = { [dataset] (start: Int) in
            self.batchJobs(of: Array(samples[start..<Swift.min(start + size, count)]), placement: prefetcher.placement,
                           make: { try dataset.batch(split, indices: $0, as: Float.self) },
                           targetsOnly: { try dataset.targetsOnly(split, indices: $0, as: Float.self) })
        }
        for start in stride(from: 0, to: count, by: size) {
            let batch = try prefetcher.value(for: start) { BatchParts.assemble(try jobs($0).map { try $0() }) }
            let next = start + size < count ? prefetcher.prefetch(start + size, parts: jobs(start + size), assemble: BatchParts.assemble) : []
            let outcome = try ShardedComputation.evaluate(network: network, parameters: parameters ?? state.parameters, batch: batch,
                                                          shards: configuration.shards, threads: threads, distribution: distribution, alongside: next)
            loss += outcome.loss
            batches += 1
            if let accuracy = dataset.accuracy(readouts: outcome.readouts, batch: batch) {
                correct += accuracy * Double(batch.batch)
                sequences += batch.batch
            }
        }
        return (loss / Double(batches), sequences > 0 ? correct / Double(sequences) : nil)
    }

    /// The jobs that make the batch of `indices` (`BatchParts`), made `placement`'s way: in
    /// one part per thread beside the work (no worker is then left making a whole batch while
    /// the others wait at the batch's end); under a distribution the other ranks' sequences with
    /// their targets only.
    private func batchJobs(of indices: [Int], placement: PrefetchPlacement, make: @escaping ([Int]) throws -> SequenceBatch<Float>,
                           targetsOnly: @escaping ([Int]) throws -> SequenceBatch<Float>?) -> [() throws -> SequenceBatch<Float>] {
        BatchParts(batch: indices.count, independent: dataset.makesSequencesIndependently, threads: placement == .besideWork ? threads : 1,
                   shards: configuration.shards, distribution: distribution)
            .jobs(indices: indices, make: make, targetsOnly: targetsOnly)
    }

    private func saveCheckpoint(_ report: (TrainingEvent) -> Void) throws {
        guard let checkpointURL, (distribution?.rank ?? 0) == 0 else { return }
        try state.write(to: checkpointURL)
        report(.checkpoint(checkpointURL))
    }

    /// Starts writing the checkpoint of the state as it is now while training goes on (a save
    /// encodes every weight and Adam's moments as text: ~50 ms at SHD's size), after the one
    /// before it has finished; returns the job to run among the next batch's shards, if it is
    /// not written on the background thread.
    private func startSave(_ report: (TrainingEvent) -> Void) throws -> (() -> Void)? {
        guard let checkpointURL, (distribution?.rank ?? 0) == 0 else { return nil }
        try finishSave(report)
        let snapshot = state
        pendingSave = checkpointURL
        return checkpointWriter.prefetch(state.updates) { _ in try snapshot.write(to: checkpointURL) }.first
    }

    /// Waits for the checkpoint being written, if any, and throws its error.
    private func finishSave(_ report: (TrainingEvent) -> Void) throws {
        guard let url = pendingSave else { return }
        pendingSave = nil
        try checkpointWriter.settle()
        report(.checkpoint(url))
    }
}
