import ArgumentParser
import Foundation
import PlasticityCore

extension LearningRuleKind: @retroactive ExpressibleByArgument {}
extension LossKind: @retroactive ExpressibleByArgument {}

/// Options for how gradients are computed, shared by the commands that compute them.
struct RuleSettings: ParsableArguments {
    @Option(help: "Learning rule: \(LearningRuleKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var rule: LearningRuleKind = .eprop

    @Option(help: "e-prop feedback: 'symmetric' (W_out) or 'random:SEED' (a fixed random matrix).")
    var feedback: String = "symmetric"

    @Option(help: "BPTT: keep every K-th state and recompute the rest.")
    var checkpoint: Int?

    func options(spikes: ExpressionGraph.SpikeMode = .heaviside) throws -> RuleOptions {
        let parsedFeedback: Feedback
        if feedback == "symmetric" {
            parsedFeedback = .symmetric
        } else if feedback.hasPrefix("random:"), let seed = UInt64(feedback.dropFirst(7)) {
            parsedFeedback = .random(seed: seed)
        } else {
            throw ValidationError("--feedback must be 'symmetric' or 'random:SEED', got '\(feedback)'")
        }
        return RuleOptions(feedback: parsedFeedback, spikes: spikes, checkpointInterval: checkpoint)
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
        let result = try GradientComputation.run(rule: ruleSettings.rule, network: network, parameters: parameters, inputs: batch.inputs,
                                                 steps: batch.steps, batch: batch.batch, loss: batch.loss, options: try ruleSettings.options())
        var arrays = NetworkArrays.arrays(of: result.gradients, shape: shape)
        arrays["loss"] = NumPyArray([result.loss], shape: [])
        arrays["spike_count"] = NumPyArray(integers: [result.spikeCount], shape: [])
        try NumPyArchive.write(arrays, to: URL(fileURLWithPath: out))
        print("\(ruleSettings.rule.rawValue) on \(neuron.name): loss \(result.loss), \(result.spikeCount) spikes, gradients written to \(out)")
    }
}
