import ArgumentParser
import Foundation
import PlasticityCore

extension LossKind: @retroactive ExpressibleByArgument {}

/// Options for how gradients are computed, shared by the commands that compute them.
/// Where e-prop's learning signals come from.
struct FeedbackOptions: ParsableArguments {
    @Option(help: "e-prop feedback: 'symmetric' (W_out) or 'random:SEED' (a fixed random matrix).")
    var feedback: String = "symmetric"

    @Option(help: "e-prop: the learning signal of populations the readout does not read: 'broadcast' or 'broadcast:SEED' (a fixed random projection of the output error) or 'spatial' (the error carried back through the within-step projections at the same step).")
    var deepFeedback: String = "broadcast"

    func parsed() throws -> (feedback: Feedback, deep: DeepFeedback) {
        let parsedFeedback: Feedback
        if feedback == "symmetric" {
            parsedFeedback = .symmetric
        } else if feedback.hasPrefix("random:"), let seed = UInt64(feedback.dropFirst(7)) {
            parsedFeedback = .random(seed: seed)
        } else {
            throw ValidationError("--feedback must be 'symmetric' or 'random:SEED', got '\(feedback)'")
        }
        let deep: DeepFeedback
        if deepFeedback == "spatial" {
            deep = .spatial
        } else if deepFeedback == "broadcast" {
            deep = DeepFeedback.standard
        } else if deepFeedback.hasPrefix("broadcast:"), let seed = UInt64(deepFeedback.dropFirst(10)) {
            deep = .broadcast(seed: seed)
        } else {
            throw ValidationError("--deep-feedback must be 'broadcast', 'broadcast:SEED' or 'spatial', got '\(deepFeedback)'")
        }
        return (parsedFeedback, deep)
    }
}

struct RuleSettings: ParsableArguments {
    @Option(help: "Learning rule: \(LearningRuleKind.allCases.map(\.rawValue).joined(separator: ", ")), or auto (the planner chooses).")
    var rule: String = "eprop"

    @OptionGroup var feedbackOptions: FeedbackOptions

    @Option(name: .customLong("bptt-checkpoint"), help: "BPTT: keep every K-th state and recompute the rest.")
    var bpttCheckpoint: Int?

    @OptionGroup var planOptions: PlanOptions

    func validate() throws {
        if let bpttCheckpoint, bpttCheckpoint < 1 { throw ValidationError("--bptt-checkpoint must be at least 1 step, got \(bpttCheckpoint)") }
    }

    /// The rule to run and its options; with `--rule auto` the planner decides (and says so
    /// on standard error).
    /// - Parameter parallelism: how the batch will be computed, which the planner prices.
    func resolve(network: Network, workload: Workload, parallelism: Parallelism) throws -> (LearningRuleKind, RuleOptions) {
        var options = try options()
        if rule != "auto" {
            guard let kind = LearningRuleKind(rawValue: rule) else {
                throw ValidationError("--rule must be auto or one of \(LearningRuleKind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(rule)'")
            }
            return (kind, options)
        }
        let plan = try Planner.plan(network: network, workload: workload, memoryBudget: try MemorySize.parse(planOptions.memory),
                                    policy: planOptions.policy, feedback: options.feedback, deepFeedback: options.deepFeedback, parallelism: parallelism)
        if options.checkpointInterval == nil { options.checkpointInterval = plan.choice.cost.checkpointInterval }
        FileHandle.standardError.write(Data("plan: \(plan.explanation)\n".utf8))
        return (plan.chosen, options)
    }

    func options(spikes: ExpressionGraph.SpikeMode = .heaviside) throws -> RuleOptions {
        let (feedback, deep) = try feedbackOptions.parsed()
        return RuleOptions(feedback: feedback, deepFeedback: deep, spikes: spikes, checkpointInterval: bpttCheckpoint)
    }
}

struct Grad: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute one batch's loss and gradients from .npz files, to check against JAX or PyTorch.",
        discussion: "Array names, shapes and layouts are in Documentation/LearningRules.md.")

    @Option(help: "The neuron model (of every population of a short form).")
    var model: String?

    @Option(help: "Weights (.npz), one array per tensor of the network, named as Documentation/Networks.md lists them: for one population hidden.input (N,I), readout.hidden (C,N), optional hidden.recurrent (N,N), hidden.bias (N,), readout.bias (C,). Short forms take their sizes from these arrays.")
    var weights: String

    @Option(help: "Batch (.npz): inputs (T,B,I) and labels (T,B) or (B,), or targets (T,B,C); optional mask (T,B).")
    var inputs: String

    @Option(help: "Where to write the gradients (.npz), with the weights' names plus 'loss' and 'spike_count'.")
    var out: String

    @Option(help: "Loss: \(LossKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: inferred from the batch file).")
    var loss: LossKind?

    @Option(parsing: .unconditional, help: "Readout leak κ in [0, 1).")
    var readoutDecay: Double = 0

    @Option(help: "Arithmetic: float32 or float64.")
    var precision: String = "float32"

    @OptionGroup var graph: GraphOptions
    @OptionGroup var ruleSettings: RuleSettings
    @OptionGroup var settings: ModelSettings
    @OptionGroup var pluginOptions: PluginOptions
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        switch precision {
        case "float32": try compute(Float.self)
        case "float64": try compute(Double.self)
        default: throw ValidationError("--precision must be float32 or float64")
        }
    }

    private func compute<T: KernelScalar>(_: T.Type) throws {
        let registry = try pluginOptions.loadRegistry()
        let weightArrays = try NumPyArchive.read(URL(fileURLWithPath: weights))
        let batchArrays = try NumPyArchive.read(URL(fileURLWithPath: inputs))
        let network: Network
        if graph.fromFile {
            let inputCount = batchArrays["inputs"].flatMap { $0.shape.count == 3 ? $0.shape[2] : nil }
            network = try graph.build(model: model, settings: try settings.settings(), registry: registry,
                                      shape: NetworkShape(inputs: inputCount ?? 0, hidden: 1, outputs: try NetworkArrays.readoutSize(weightArrays, file: weights)),
                                      sizesFromData: inputCount != nil)
        } else {
            guard graph.mix == nil else { throw ValidationError("grad takes a mixed population from a --network file (its sizes cannot be read off the weights)") }
            let shape = try NetworkArrays.shortFormShape(weightArrays, file: weights, layers: graph.layers, readoutDecay: readoutDecay)
            network = try graph.build(model: model, settings: try settings.settings(), registry: registry, shape: shape)
        }
        let parameters: ParameterSet<T> = try NetworkArrays.readWeights(weightArrays, file: weights, network: network)
        let batch: (inputs: [T], steps: Int, batch: Int, loss: Loss<T>) = try NetworkArrays.readBatch(batchArrays, file: inputs, network: network, lossKind: loss)
        let workload = Workload(batch: batch.batch, steps: batch.steps, scalarBytes: MemoryLayout<T>.size, deferredLoss: batch.loss.isDeferred,
                                inputDensity: Workload.density(of: batch.inputs))
        let (rule, options) = try ruleSettings.resolve(network: network, workload: workload, parallelism: threadOptions.parallelism(ranks: 1))
        let result = try ShardedComputation.gradients(rule: rule, network: network, parameters: parameters,
                                                      batch: SequenceBatch(inputs: batch.inputs, steps: batch.steps, batch: batch.batch, loss: batch.loss),
                                                      options: options, shards: threadOptions.shards(rule: rule, batch: batch.batch), threads: threadOptions.threads)
        // Nothing is written for a batch whose loss or gradients are not numbers (NaN in the
        // mask or targets, weights that overflow the state).
        try result.checkFinite(location: "the batch in \(inputs)")
        var arrays = NetworkArrays.arrays(of: result.gradients, network: network)
        arrays["loss"] = NumPyArray([result.loss], shape: [])
        arrays["spike_count"] = NumPyArray(integers: [result.spikeCount], shape: [])
        try NumPyArchive.write(arrays, to: URL(fileURLWithPath: out))
        print("\(rule.rawValue) on \(network.modelNames): loss \(result.loss), \(result.spikeCount) spikes, gradients written to \(out)")
    }
}
