import ArgumentParser
import Foundation
import PlasticityCore

extension OptimizerKind: @retroactive ExpressibleByArgument {}
extension SelectionMetric: @retroactive ExpressibleByArgument {}

/// The optimisation options of a training run.
struct OptimizationOptions: ParsableArguments {
    @Option(help: "Epochs.")
    var epochs: Int = 10

    @Option(name: [.customLong("batch-size"), .customLong("batch")], help: "Sequences per mini-batch B.")
    var batchSize: Int = 32

    @Option(help: "Learning rate.")
    var learningRate: Double = 5e-3

    @Option(help: "sgd, adam or adamw.")
    var optimizer: OptimizerKind = .adam

    @Option(help: "SGD momentum.")
    var momentum: Double = 0

    @Option(help: "Weight decay (L2 for sgd, decoupled for adamw).")
    var weightDecay: Double = 0

    @Option(help: "Clip gradients to this norm.")
    var clip: Double?

    @Option(help: "Linear learning-rate warm-up over this many updates.")
    var warmup: Int = 0

    @Flag(help: "Cosine decay of the learning rate over the run.")
    var cosine = false

    @Option(help: "Firing-rate regularisation strength (0: off).")
    var rateRegularization: Double = 0

    @Option(help: "Target firing rate per step for the regulariser.")
    var targetRate: Double = 0.01

    @Option(help: "Initial weights of within-step projections: Gaussian with this scale over √(source size).")
    var inputGain: Double = 2

    @Option(help: "Initial weights of recurrent (delayed) projections: Gaussian with this scale over √(source size).")
    var recurrentGain: Double = 1

    @Option(help: "Seed for weights and batch order.")
    var seed: UInt64 = 1

    @Option(help: "Checkpoint every this many updates (and at each epoch end).")
    var checkpointEvery: Int = 50

    @Option(help: "Hold out this fraction of the training samples (seeded) for validation each epoch; the test split is then evaluated once at the end, with the best and the last weights.")
    var validationFraction: Double = 0

    @Option(help: "What chooses the best epoch on the validation split: accuracy or loss.")
    var selectBy: SelectionMetric = .accuracy

    @Option(help: "Stop after this many epochs without a better validation score (needs --validation-fraction).")
    var patience: Int?

    /// Every number checked before anything runs, naming the option.
    func validate() throws {
        func require(_ condition: Bool, _ message: String) throws { if !condition { throw ValidationError(message) } }
        try require(epochs >= 1 && batchSize >= 1 && checkpointEvery >= 1, "--epochs, --batch-size and --checkpoint-every must each be at least 1")
        try require(learningRate.isFinite && learningRate > 0, "--learning-rate must be a positive number, got \(learningRate)")
        try require(momentum.isFinite && momentum >= 0 && momentum < 1, "--momentum must be in [0, 1), got \(momentum)")
        try require(weightDecay.isFinite && weightDecay >= 0, "--weight-decay must be a number ≥ 0, got \(weightDecay)")
        try require(clip.map { $0.isFinite && $0 > 0 } ?? true, "--clip must be a positive norm, got \(clip ?? 0)")
        try require(warmup >= 0, "--warmup must be a number of updates ≥ 0, got \(warmup)")
        try require(rateRegularization.isFinite && rateRegularization >= 0, "--rate-regularization must be a number ≥ 0, got \(rateRegularization)")
        try require(targetRate.isFinite && targetRate > 0 && targetRate <= 1, "--target-rate must be a rate per step in (0, 1], got \(targetRate)")
        try require(inputGain.isFinite && inputGain >= 0 && recurrentGain.isFinite && recurrentGain >= 0, "--input-gain and --recurrent-gain must be numbers ≥ 0")
        try require(validationFraction.isFinite && validationFraction >= 0 && validationFraction < 1, "--validation-fraction must be in [0, 1), got \(validationFraction)")
        try require(patience.map { $0 >= 1 } ?? true, "--patience must be at least 1 epoch, got \(patience ?? 0)")
    }

    /// The configuration these options give (the rule and its feedback are set by the caller).
    func configuration() -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.epochs = epochs
        configuration.batchSize = batchSize
        configuration.learningRate = learningRate
        configuration.optimizer = optimizer
        configuration.momentum = momentum
        configuration.weightDecay = weightDecay
        configuration.clipNorm = clip
        configuration.warmupSteps = warmup
        configuration.cosineDecay = cosine
        configuration.rateRegularization = rateRegularization
        configuration.targetRate = targetRate
        configuration.inputGain = inputGain
        configuration.recurrentGain = recurrentGain
        configuration.seed = seed
        configuration.checkpointEvery = checkpointEvery
        configuration.validationFraction = validationFraction
        configuration.selectBy = selectBy
        configuration.patience = patience
        return configuration
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a network on a task, with checkpoints, evaluation each epoch and metrics as JSON lines.")

    @Option(help: "The neuron model (of every population of a short form; not needed with --network).")
    var model: String?

    @Option(parsing: .unconditional, help: "Hidden neurons N (per layer).")
    var hidden: Int = 64

    @OptionGroup var recurrentWeights: RecurrentWeights
    var recurrent: Bool { recurrentWeights.enabled }

    @Option(parsing: .unconditional, help: "Readout leak κ in [0, 1).")
    var readoutDecay: Double = 0

    @Option(help: "Where to keep the checkpoint.")
    var checkpoint: String = "plasticity-checkpoint.json"

    @Flag(help: "Continue from the checkpoint.")
    var resume = false

    @Flag(help: "Start a new run over an existing checkpoint (without it, or --resume, an existing checkpoint is refused).")
    var overwrite = false

    @Option(help: "Append one JSON line of metrics per epoch to this file.")
    var metrics: String?

    @Option(help: "Write the trained weights (the last epoch's) to this .npz file.")
    var saveWeights: String?

    @Option(help: "With --validation-fraction: write the best epoch's weights to this .npz file.")
    var saveBestWeights: String?

    @OptionGroup var graph: GraphOptions
    @OptionGroup var task: TaskOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var ruleSettings: RuleSettings
    @OptionGroup var settings: ModelSettings
    @OptionGroup var pluginOptions: PluginOptions
    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var exchangeOption: ExchangeOption

    func run() throws {
        // Under `mpirun -np K` every rank runs this; each computes its shards of every batch,
        // rank 0 alone prints and writes. A rank that fails ends the whole job.
        guard let job = try MPIJob.fromEnvironment() else { return try train(job: nil) }
        if job.rank != 0 { freopen("/dev/null", "w", stdout) }
        do {
            try train(job: job)
            job.finalize()
        } catch {
            // The failing rank says why (rank 0 says what the others reported); then every rank ends.
            if case PlasticityError.distributedFailure = error, job.rank != 0 {} else {
                FileHandle.standardError.write(Data("Error (rank \(job.rank) of \(job.size)): \(error)\n".utf8))
            }
            job.abort(code: 1)
        }
    }

    private func train(job: MPIJob?) throws {
        let leader = (job?.rank ?? 0) == 0
        for (path, option) in [(checkpoint, "--checkpoint"), (metrics, "--metrics"), (saveWeights, "--save-weights"), (saveBestWeights, "--save-best-weights")] where leader {
            if let path { try OutputFile.checkWritable(path, option: option) }
        }
        let lock = leader ? try CheckpointLock(checkpoint: checkpoint) : nil
        defer { withExtendedLifetime(lock) {} }
        if leader, !resume, !overwrite, FileManager.default.fileExists(atPath: checkpoint) {
            throw ValidationError("--checkpoint \(checkpoint) already holds a run: continue it with --resume, start again over it with --overwrite, "
                                  + "or give another --checkpoint")
        }
        guard !(resume && overwrite) else { throw ValidationError("--resume continues the checkpoint's run and --overwrite replaces it: give one") }
        let dataset = try task.dataset()
        let shape = NetworkShape(inputs: dataset.inputCount, hidden: hidden, outputs: dataset.outputCount, recurrent: recurrent, bias: true, readoutDecay: readoutDecay)
        let network = try graph.build(model: model, settings: try settings.settings(), registry: try pluginOptions.loadRegistry(), shape: shape)
        var configuration = optimization.configuration()
        if let job, exchangeOption.exchange == .sum {
            job.exchange = .sum
            configuration.exchange = .sum
        }
        // The planner prices a batch as the run will see it: inputs and spikes as dense as in
        // the first batch under the initial weights.
        try Trainer.checkBatch(dataset: dataset, batchSize: configuration.batchSize)
        let first = try dataset.batch(.training, indices: Array(0..<Swift.min(configuration.batchSize, dataset.count(.training))), as: Float.self)
        let workload = try Workload.measured(network: network, parameters: configuration.initialParameters(for: network), batch: first)
        let (rule, options) = try ruleSettings.resolve(network: network, workload: workload, parallelism: threadOptions.parallelism(ranks: job?.size ?? 1, exchange: exchangeOption.exchange))
        (configuration.rule, configuration.feedback, configuration.deepFeedback) = (rule, options.feedback, options.deepFeedback)
        // The shards are part of the run: a resume without --shards keeps the checkpoint's (an
        // unreadable checkpoint is the Trainer's to report).
        let saved = resume && threadOptions.shards == nil ? (try? TrainingCheckpoint.read(from: URL(fileURLWithPath: checkpoint)))?.configuration.shards : nil
        configuration.shards = saved ?? threadOptions.shards(rule: rule, batch: configuration.batchSize)
        let trainer = try Trainer(network: network, dataset: dataset, configuration: configuration,
                                  checkpoint: URL(fileURLWithPath: checkpoint), resume: resume, threads: threadOptions.threads, distribution: job)
        let threads = threadOptions.threads == 1 ? "1 thread" : "\(threadOptions.threads) threads"
        print("training \(NetworkSummary(network).description) on \(dataset.name) with \(rule.rawValue): "
            + "\(dataset.count(.training)) training / \(dataset.count(.test)) test sequences of \(dataset.steps) steps"
            + ", batches of \(configuration.batchSize) in \(configuration.shards) shards"
            + (job.map { " shared by \($0.size) MPI ranks (\($0.library)) of \(threads) each" } ?? " on \(threads)"))
        let progress = leader ? ProgressReporter(label: "") : nil
        let metricsLog = leader ? metrics.map { MetricsLog(url: URL(fileURLWithPath: $0), run: trainer.state.runID ?? "") } : nil
        if resume, let metricsLog { try metricsLog.reconcile(with: trainer.state.history) }
        var metricsFailed = false
        try trainer.run { event in
            progress?.report(event)
            switch event {
            case .epoch(let metrics):
                print(Self.summary(metrics))
                if let metricsLog, !metricsFailed, let failure = metricsLog.append(metrics) {
                    // Said once, and training goes on: every epoch's metrics are in the checkpoint's history too.
                    metricsFailed = true
                    warn("cannot append to --metrics \(metricsLog.url.path) (\(failure)); later epochs are not written there, the checkpoint keeps them all")
                }
            case .finished(let test):
                print(Self.summary(test))
            default:
                break
            }
        }
        for line in Self.trainedParameterLines(network: network, parameters: trainer.parameters) { print(line) }
        // The rule's memory is the project's point: said apart from the data's and the whole process's.
        print("memory: learning rule and network \(MemorySize.format(trainer.peakStorageBytes)) at most (every shard at once), "
              + "data held \(MemorySize.format(dataset.residentBytes)), process peak \(MemorySize.format(ProcessMemory.peakResidentBytes))")
        if let job {
            print("MPI: \(job.size) ranks; rank 0 received \(MemorySize.format(job.receivedBytes)) in \(String(format: "%.2f", job.exchangeSeconds)) s of exchange "
                  + "(waiting for the slowest rank included)")
        }
        guard leader else { return }
        if let saveWeights {
            try NumPyArchive.write(NetworkArrays.arrays(of: trainer.parameters, network: network), to: URL(fileURLWithPath: saveWeights))
        }
        if let saveBestWeights {
            guard let best = trainer.state.best else { throw ValidationError("--save-best-weights needs --validation-fraction: there is no best epoch without a validation split") }
            try NumPyArchive.write(NetworkArrays.arrays(of: best.parameters, network: network), to: URL(fileURLWithPath: saveBestWeights))
        }
    }

    /// Where each trained neuron parameter ended: its range and median against its start.
    static func trainedParameterLines(network: Network, parameters: ParameterSet<Float>) -> [String] {
        func describe(_ values: [Double]) -> String {
            let sorted = values.sorted()
            return sorted.count == 1 ? String(format: "%.4g", sorted[0])
                : String(format: "%.4g … %.4g (median %.4g)", sorted.first!, sorted.last!, sorted[sorted.count / 2])
        }
        return network.trainedNeuronParameters.map { trained in
            "trained \(trained.tensor): \(describe(parameters[trained.tensor].map(Double.init))), from \(describe(trained.parameter.values))"
        }
    }

    static func summary(_ metrics: EpochMetrics) -> String {
        var text = String(format: "epoch %d: train loss %.4f", metrics.epoch, metrics.trainingLoss)
        if let accuracy = metrics.trainingAccuracy { text += String(format: " acc %.1f%%", accuracy * 100) }
        if let loss = metrics.validationLoss { text += String(format: ", validation loss %.4f", loss) }
        if let accuracy = metrics.validationAccuracy { text += String(format: " acc %.1f%%", accuracy * 100) }
        if let loss = metrics.testLoss { text += String(format: ", test loss %.4f", loss) }
        if let accuracy = metrics.testAccuracy { text += String(format: " acc %.1f%%", accuracy * 100) }
        return text + String(format: ", rate %.3f spikes/step, %.1f s", metrics.firingRate, metrics.seconds)
    }

    static func summary(_ test: FinalTest) -> String {
        func result(_ loss: Double, _ accuracy: Double?) -> String {
            String(format: "loss %.4f", loss) + (accuracy.map { String(format: " acc %.1f%%", $0 * 100) } ?? "")
        }
        return "test, best epoch (\(test.bestEpoch) by validation): \(result(test.bestLoss, test.bestAccuracy)); last epoch: \(result(test.lastLoss, test.lastAccuracy))"
    }
}
