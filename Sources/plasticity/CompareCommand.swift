import ArgumentParser
import Foundation
import PlasticityCore

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run several learning rules on the same network, weights and batch and compare them.",
        discussion: "Reports time per step, storage held, predicted against measured cost, gradient agreement with BPTT (or RTRL), and exactness. Rules predicted to exceed the memory budget or the time limit are listed as skipped with the reason.")

    @Option(help: "The neuron model (of every population of a short form; not needed with --network).")
    var model: String?

    @Option(help: "Comma-separated rules, each once: \(RuleList.names) (default: all).", transform: RuleList.parse)
    var rules = RuleList(LearningRuleKind.allCases)

    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: "Sequences per batch B.")
    var batch: Int = 4

    @Option(help: "Time steps T.")
    var steps: Int = 200

    @Option(help: "Probability of an input spike per channel and step.")
    var inputRate: Double = 0.05

    @Option(help: "Seed for weights, inputs and labels.")
    var seed: UInt64 = 1

    @Option(help: "Skip rules predicted to take longer than this many seconds.")
    var timeLimit: Double = 120

    @Option(help: "Memory budget, e.g. 4GiB.")
    var memory: String = "4GiB"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Also write an SVG chart to this file.")
    var plot: String?

    @Option(help: "Also train each rule for this many epochs on --task from the same initial weights, and compare accuracy and loss curves.")
    var train: Int?

    @OptionGroup var sharding: MeasuredSharding
    @OptionGroup var task: TaskOptions

    @OptionGroup var network: NetworkOptions
    @OptionGroup var graph: GraphOptions
    @OptionGroup var feedbackOptions: FeedbackOptions
    @OptionGroup var settings: ModelSettings
    @OptionGroup var pluginOptions: PluginOptions

    func validate() throws {
        guard inputRate.isFinite, (0...1).contains(inputRate) else { throw ValidationError("--input-rate must be in [0, 1], got \(inputRate)") }
        guard timeLimit.isFinite, timeLimit > 0 else { throw ValidationError("--time-limit must be a positive number of seconds, got \(timeLimit)") }
        guard (1...DatasetBounds.maxSteps).contains(steps) else { throw ValidationError("--steps must be 1…\(DatasetBounds.maxSteps), got \(steps)") }
        guard (1...Workload.maxBatch).contains(batch) else { throw ValidationError("--batch must be 1…\(Workload.maxBatch), got \(batch)") }
    }

    func run() throws {
        let selected = rules.rules
        let registry = try pluginOptions.loadRegistry()
        let net = try graph.build(model: model, settings: try settings.settings(), registry: registry, shape: network.shape, sizesFromData: false)
        try BatchBounds.check(steps: steps, batch: batch, inputs: net.inputs)
        var generator = SeededGenerator(seed: seed)
        let parameters = ParameterSet<Float>(randomFor: net, seed: seed, inputGain: 4, recurrentGain: 1)
        let inputs = (0..<(steps * batch * net.inputs)).map { _ in Double.random(in: 0..<1, using: &generator) < inputRate ? Float(1) : 0 }
        let labels = (0..<batch).map { _ in Int.random(in: 0..<net.outputs, using: &generator) }
        let (feedback, deep) = try feedbackOptions.parsed()
        let options = RuleOptions(feedback: feedback, deepFeedback: deep)
        if deep == .spatial { warn("spatial learning signals need the error at each step; comparing with the cross-entropy of the last step instead of the summed readout") }
        let loss = try Loss<Float>(deep == .spatial ? .crossEntropyLastStep : .crossEntropySummed, steps: steps, batch: batch,
                                   outputs: net.outputs, labels: labels)
        let comparison = try RuleComparison.run(network: net, parameters: parameters, inputs: inputs, steps: steps, batch: batch, loss: loss,
                                                rules: selected, memoryBudget: try MemorySize.parse(memory), timeLimit: timeLimit, options: options,
                                                parallelism: sharding.parallelism)
        let training = try train.map { epochs in try trainEach(selected, epochs: epochs, registry: registry, options: options) }
        let report = ComparisonReport(comparison: comparison, training: training)
        if json {
            try printJSON(ComparisonOutput(gradients: comparison, training: training))
        } else {
            print(report.text)
        }
        if let plot {
            try report.chart.svg.write(toFile: plot, atomically: true, encoding: .utf8)
        }
    }

    /// Trains a network per rule on the task, all from the same seed; rules predicted to
    /// exceed the time limit are skipped with the reason.
    private func trainEach(_ rules: [LearningRuleKind], epochs: Int, registry: ModelRegistry, options: RuleOptions) throws -> [TrainedRule] {
        let dataset = try task.dataset()
        let shape = NetworkShape(inputs: dataset.inputCount, hidden: network.hidden, outputs: dataset.outputCount, recurrent: network.recurrent,
                                 bias: true, readoutDecay: network.readoutDecay)
        let net = try graph.build(model: model, settings: try settings.settings(), registry: registry, shape: shape)
        let batchSize = Swift.min(32, dataset.count(.training))
        return try rules.map { rule in
            let perStep = CostModel(network: net, workload: Workload(batch: batchSize, steps: dataset.steps), deepFeedback: options.deepFeedback)
                .cost(of: rule).secondsPerStep
            let predicted = perStep * Double(dataset.steps) * Double(dataset.count(.training) / batchSize) * Double(epochs)
            if predicted > timeLimit {
                return TrainedRule(rule: rule, epochs: [], skipped: String(format: "predicted %.0f s of training exceeds the %.0f s time limit", predicted, timeLimit))
            }
            var configuration = TrainingConfiguration()
            configuration.rule = rule
            configuration.epochs = epochs
            configuration.batchSize = batchSize
            configuration.learningRate = 1e-2
            configuration.seed = seed
            configuration.feedback = options.feedback
            configuration.deepFeedback = options.deepFeedback
            let trainer = try Trainer(network: net, dataset: dataset, configuration: configuration, checkpoint: nil, resume: false)
            try trainer.run()
            return TrainedRule(rule: rule, epochs: trainer.state.history, skipped: nil)
        }
    }
}

/// One rule's training curve in a comparison.
struct TrainedRule: Codable {
    let rule: LearningRuleKind
    let epochs: [EpochMetrics]
    let skipped: String?
}

/// What `compare --json` prints.
struct ComparisonOutput: Codable {
    let gradients: RuleComparison
    let training: [TrainedRule]?
}

/// The table and chart of a comparison.
struct ComparisonReport {
    let comparison: RuleComparison
    let training: [TrainedRule]?

    var text: String {
        let workload = comparison.workload
        var lines = ["\(comparison.network.description)", "B=\(workload.batch) T=\(workload.steps)", ""]
        let agreement = comparison.timeRatioAgreement
        let reference = comparison.reference?.rawValue ?? "—"
        var rows = [["rule", "time/step", "predicted", "ratio agreement", "memory", "predicted", "cos vs \(reference)", "rel. error", "exact"]]
        for entry in comparison.rules {
            if let skipped = entry.skipped {
                rows.append([entry.rule.rawValue, "skipped: \(skipped)", "", "", "", "", "", "", entry.exactness.isExact ? "yes" : "no"])
                continue
            }
            rows.append([
                entry.rule.rawValue,
                formatDuration(entry.secondsPerStep!),
                formatDuration(entry.predicted.secondsPerStep),
                agreement[entry.rule].map { String(format: "%.2f", $0) } ?? "",
                MemorySize.format(entry.measuredBytes!),
                MemorySize.format(entry.predicted.peakBytes),
                entry.cosineToReference.map { String(format: "%.6f", $0) } ?? "",
                entry.relativeErrorToReference.map { String(format: "%.2e", $0) } ?? "",
                entry.exactness.isExact ? "yes" : "no",
            ])
        }
        lines += alignedColumns(rows)
        lines.append("")
        lines.append("ratio agreement: (measured/predicted) relative to the fastest rule; 1 = the cost model ranks it exactly as measured")
        for entry in comparison.rules where !entry.parameterAgreement.isEmpty {
            let parts = entry.parameterAgreement.map { agreement in
                "\(agreement.tensor) cos \(agreement.cosine.map { String(format: "%.6f", $0) } ?? "—"), rel. error \(agreement.relativeError.map { String(format: "%.2e", $0) } ?? "—")"
            }
            lines.append("\(entry.rule.rawValue) neuron parameters vs \(reference): \(parts.joined(separator: "; "))")
        }
        for entry in comparison.rules where !entry.exactness.isExact {
            lines.append("\(entry.rule.rawValue) is approximate: \(entry.exactness.reasons.joined(separator: "; "))")
        }
        if let training {
            lines.append("")
            lines.append("training (test accuracy and loss per epoch, same initial weights and data):")
            for trained in training {
                if let skipped = trained.skipped {
                    lines.append("  \(trained.rule.rawValue): skipped: \(skipped)")
                    continue
                }
                let curve = trained.epochs.map { metrics in
                    (metrics.testAccuracy.map { String(format: "%.1f%%", $0 * 100) } ?? "–") + (metrics.testLoss.map { String(format: " (%.3f)", $0) } ?? "")
                }
                let seconds = trained.epochs.map(\.seconds).reduce(0, +) / Double(Swift.max(1, trained.epochs.count))
                lines.append("  \(trained.rule.rawValue): " + curve.joined(separator: " → ") + String(format: "; %.1f s per epoch", seconds))
            }
        }
        return lines.joined(separator: "\n")
    }

    var chart: SVGChart {
        let ran = comparison.rules.filter { $0.secondsPerStep != nil }
        func note(_ entry: ComparedRule) -> String {
            entry.cosineToReference.map { String(format: "cos %.3f", $0) } ?? (entry.exactness.isExact ? "exact" : "approx.")
        }
        let skipped = comparison.rules.filter { $0.skipped != nil }.map { "\($0.rule.rawValue) skipped" }
        var trainingPanels: [SVGChart.Panel] = []
        if let training {
            let ran = training.filter { $0.skipped == nil }
            trainingPanels = [
                .lines(title: "test loss per epoch", xLabel: "epoch", yLabel: "loss", logarithmic: false,
                       series: ran.map { SVGChart.Series(name: $0.rule.rawValue, points: $0.epochs.compactMap { m in m.testLoss.map { (Double(m.epoch), $0) } }) }),
                .lines(title: "test accuracy per epoch", xLabel: "epoch", yLabel: "accuracy", logarithmic: false,
                       series: ran.map { SVGChart.Series(name: $0.rule.rawValue, points: $0.epochs.compactMap { m in m.testAccuracy.map { (Double(m.epoch), $0) } }) }),
            ]
        }
        return SVGChart(
            title: "\(comparison.model), N=\(comparison.network.populations.map { String($0.size) }.joined(separator: "+")), B=\(comparison.workload.batch), T=\(comparison.workload.steps)"
                + (skipped.isEmpty ? "" : " (" + skipped.joined(separator: ", ") + ")"),
            panels: [
                .bars(title: "time per step (dashed: predicted)", unit: "ms", logarithmic: true,
                      bars: ran.map { SVGChart.Bar(label: $0.rule.rawValue, value: $0.secondsPerStep! * 1e3, marker: $0.predicted.secondsPerStep * 1e3, note: note($0)) }),
                .bars(title: "storage held (dashed: predicted)", unit: "MiB", logarithmic: true,
                      bars: ran.map { SVGChart.Bar(label: $0.rule.rawValue, value: Double($0.measuredBytes!) / 1_048_576, marker: Double($0.predicted.peakBytes) / 1_048_576,
                                                   note: $0.exactness.isExact ? "exact" : "approx.") }),
            ] + trainingPanels)
    }
}
