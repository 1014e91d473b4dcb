import ArgumentParser
import Foundation
import PlasticityCore

extension LossKind: @retroactive ExpressibleByArgument {}

/// Options for how gradients are computed, shared by the commands that compute them.
struct RuleSettings: ParsableArguments {
    @Option(help: "Learning rule: \(LearningRuleKind.allCases.map(\.rawValue).joined(separator: ", ")), or auto (the planner chooses).")
    var rule: String = "eprop"

    @Option(help: "e-prop feedback: 'symmetric' (W_out) or 'random:SEED' (a fixed random matrix).")
    var feedback: String = "symmetric"

    @Option(name: .customLong("bptt-checkpoint"), help: "BPTT: keep every K-th state and recompute the rest.")
    var bpttCheckpoint: Int?

    @OptionGroup var planOptions: PlanOptions

    /// The rule to run and its options; with `--rule auto` the planner decides (and says so
    /// on standard error).
    func resolve(neuron: CompiledNeuron, shape: NetworkShape, workload: Workload) throws -> (LearningRuleKind, RuleOptions) {
        var options = try options()
        if rule != "auto" {
            guard let kind = LearningRuleKind(rawValue: rule) else {
                throw ValidationError("--rule must be auto or one of \(LearningRuleKind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(rule)'")
            }
            return (kind, options)
        }
        let plan = try Planner.plan(neuron: neuron, shape: shape, workload: workload, memoryBudget: try MemorySize.parse(planOptions.memory),
                                    policy: planOptions.policy, feedback: options.feedback)
        if options.checkpointInterval == nil { options.checkpointInterval = plan.choice.cost.checkpointInterval }
        FileHandle.standardError.write(Data("plan: \(plan.explanation)\n".utf8))
        return (plan.chosen, options)
    }

    func options(spikes: ExpressionGraph.SpikeMode = .heaviside) throws -> RuleOptions {
        let parsedFeedback: Feedback
        if feedback == "symmetric" {
            parsedFeedback = .symmetric
        } else if feedback.hasPrefix("random:"), let seed = UInt64(feedback.dropFirst(7)) {
            parsedFeedback = .random(seed: seed)
        } else {
            throw ValidationError("--feedback must be 'symmetric' or 'random:SEED', got '\(feedback)'")
        }
        return RuleOptions(feedback: parsedFeedback, spikes: spikes, checkpointInterval: bpttCheckpoint)
    }
}

struct Grad: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute one batch's loss and gradients from .npz files, to check against JAX or PyTorch.",
        discussion: "Array names, shapes and layouts are in Documentation/LearningRules.md.")

    @Option(help: "The neuron model.")
    var model: String

    @Option(help: "Weights (.npz): input_weights (N,I), output_weights (C,N); optional recurrent_weights (N,N), bias (N,), output_bias (C,).")
    var weights: String

    @Option(help: "Batch (.npz): inputs (T,B,I) and labels (T,B) or (B,), or targets (T,B,C); optional mask (T,B).")
    var inputs: String

    @Option(help: "Where to write the gradients (.npz), with the weights' names plus 'loss'.")
    var out: String

    @Option(help: "Loss: \(LossKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: inferred from the batch file).")
    var loss: LossKind?

    @Option(help: "Readout leak κ in [0, 1).")
    var readoutDecay: Double = 0

    @Option(help: "Arithmetic: float32 or float64.")
    var precision: String = "float32"

    @OptionGroup var ruleSettings: RuleSettings
    @OptionGroup var settings: ModelSettings
    @OptionGroup var pluginOptions: PluginOptions

    func run() throws {
        switch precision {
        case "float32": try compute(Float.self)
        case "float64": try compute(Double.self)
        default: throw ValidationError("--precision must be float32 or float64")
        }
    }

    private func compute<T: KernelScalar>(_: T.Type) throws {
        let registry = try pluginOptions.loadRegistry()
        let neuron = try registry.model(named: model).compile(try settings.configuration())
        let weightArrays = try NumPyArchive.read(URL(fileURLWithPath: weights))
        let (shape, parameters): (NetworkShape, ParameterSet<T>) = try NetworkArrays.readWeights(weightArrays, file: weights, readoutDecay: readoutDecay)
        let network = try Network(shape: shape, neuron: neuron)
        let batch: (inputs: [T], steps: Int, batch: Int, loss: Loss<T>) = try NetworkArrays.readBatch(
            try NumPyArchive.read(URL(fileURLWithPath: inputs)), file: inputs, shape: shape, lossKind: loss)
        let workload = Workload(batch: batch.batch, steps: batch.steps, scalarBytes: MemoryLayout<T>.size, deferredLoss: batch.loss.isDeferred,
                                inputDensity: Workload.density(of: batch.inputs))
        let (rule, options) = try ruleSettings.resolve(neuron: neuron, shape: shape, workload: workload)
        let result = try GradientComputation.run(rule: rule, network: network, parameters: parameters, inputs: batch.inputs,
                                                 steps: batch.steps, batch: batch.batch, loss: batch.loss, options: options)
        var arrays = NetworkArrays.arrays(of: result.gradients, shape: shape)
        arrays["loss"] = NumPyArray([result.loss], shape: [])
        arrays["spike_count"] = NumPyArray(integers: [result.spikeCount], shape: [])
        try NumPyArchive.write(arrays, to: URL(fileURLWithPath: out))
        print("\(rule.rawValue) on \(neuron.name): loss \(result.loss), \(result.spikeCount) spikes, gradients written to \(out)")
    }
}
