import ArgumentParser
import Foundation
import PlasticityCore

/// Checks the cost model's time predictions: for each model, size and recurrence, every rule's
/// measured time per step against its predicted one. What must agree is the ratio between
/// rules (the planner ranks rules by it), so each configuration reports the spread of
/// measured/predicted across its rules: 1 means every predicted ratio is exact, 2 means some
/// pair of rules is off by a factor of two.
struct BenchCostModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost-model",
        abstract: "Measured against predicted time per step for every rule, and how far the predicted ratios between rules are off.")

    @Option(help: "Comma-separated models (all loaded models when omitted).")
    var models: String?

    @Option(help: "Comma-separated N, each at least 1 (default: 32,64).", transform: PositiveIntegers.parse)
    var sizes = PositiveIntegers([32, 64])

    @Option(help: "Steps per repetition (fewer for a rule that would exceed --max-seconds).")
    var steps: Int = 200

    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    struct RuleTime: Codable {
        let rule: LearningRuleKind
        let measuredSecondsPerStep: Double
        let predictedSecondsPerStep: Double
        var measuredOverPredicted: Double { measuredSecondsPerStep / predictedSecondsPerStep }
    }

    struct Configuration: Codable {
        let model: String
        let hidden: Int
        let recurrent: Bool
        let rules: [RuleTime]
        let skipped: [String]
        /// max/min of measured/predicted over the rules: the worst factor by which a predicted
        /// ratio between two rules misses the measured one.
        var spread: Double {
            let factors = rules.map(\.measuredOverPredicted)
            guard let low = factors.min(), let high = factors.max(), low > 0 else { return 1 }
            return high / low
        }
        /// Among the rules run, the one priced fastest (what `plan --policy fastest` picks
        /// among them) and the one measured fastest.
        var predictedFastest: LearningRuleKind? { rules.min { $0.predictedSecondsPerStep < $1.predictedSecondsPerStep }?.rule }
        var measuredFastest: LearningRuleKind? { rules.min { $0.measuredSecondsPerStep < $1.measuredSecondsPerStep }?.rule }
    }

    struct Report: Codable {
        let machine: String
        let build: String
        let date: String
        let batch: Int
        let inputs: Int
        let steps: Int
        let inputRate: Double
        let loss: LossKind
        let repetitions: Int
        let configurations: [Configuration]
        var worstSpread: Double { configurations.map(\.spread).max() ?? 1 }
    }

    func run() throws {
        let names = try models.map { $0.split(separator: ",").map(String.init) } ?? options.pluginOptions.loadRegistry().all.map(\.name)
        var configurations: [Configuration] = []
        for name in names {
            let runner = try options.runner(model: name)
            for hidden in sizes.values {
                // Without and with W_rec, or only as --recurrent or --no-recurrent says.
                for recurrent in options.recurrentWeights.recurrent.map({ [$0] }) ?? [false, true] {
                    configurations.append(try measure(runner: runner, hidden: hidden, recurrent: recurrent))
                }
            }
        }
        let report = Report(machine: BenchReport.machineDescription(), build: BenchReport.buildConfiguration,
                            date: ISO8601DateFormatter().string(from: Date()), batch: options.batch, inputs: options.inputs,
                            steps: steps, inputRate: options.inputRate, loss: options.loss, repetitions: options.repetitions, configurations: configurations)
        if options.json {
            try printJSON(report)
        } else {
            print(table(report))
        }
    }

    private func measure(runner: BenchRunner, hidden: Int, recurrent: Bool) throws -> Configuration {
        let network = try runner.network(hidden: hidden, recurrent: recurrent)
        var times: [RuleTime] = [], skipped: [String] = []
        // Every rule runs the same forward pass; the first run measures how densely it spikes.
        var workload = runner.workload(steps: steps)
        for rule in options.selectedRules() {
            let bound = CostModel(network: network, workload: workload).cost(of: rule).secondsPerStep
            // Per-step time does not depend on T: a slow rule runs fewer steps.
            let affordable = Int(options.maxSeconds / Swift.max(bound, 1e-9))
            guard affordable >= 3 else {
                skipped.append("\(rule.rawValue) (predicted \(formatDuration(bound)) per step)")
                continue
            }
            let measuredSteps = Swift.min(steps, affordable)
            let measured = try runner.measure(rule: rule, network: network, steps: measuredSteps, checkpointInterval: nil)
            if times.isEmpty { workload = workload.measuring(spikes: measured.spikes, steps: measuredSteps, hidden: network.neuronCount) }
            let predicted = CostModel(network: network, workload: workload).cost(of: rule).secondsPerStep
            // The fastest repetition: another process on these shared machines only ever adds
            // time, and at microseconds per step one interruption moves a median visibly.
            times.append(RuleTime(rule: rule, measuredSecondsPerStep: measured.times[0], predictedSecondsPerStep: predicted))
        }
        return Configuration(model: options.describe(model: runner.model.name), hidden: hidden, recurrent: recurrent, rules: times, skipped: skipped)
    }

    private func table(_ report: Report) -> String {
        var lines = ["measured/predicted time per step: B=\(report.batch), I=\(report.inputs) at input rate \(report.inputRate), T=\(report.steps), \(report.loss.rawValue); \(report.machine), \(report.build), "
                     + "fastest of \(report.repetitions) repetitions, \(report.date)", ""]
        var rows = [["model", "N", "W_rec", "rule", "measured", "predicted", "measured/predicted", "spread", "fastest", "skipped"]]
        for configuration in report.configurations {
            for (index, time) in configuration.rules.enumerated() {
                let first = index == 0
                rows.append([first ? configuration.model : "", first ? "\(configuration.hidden)" : "", first ? (configuration.recurrent ? "yes" : "no") : "",
                             time.rule.rawValue, formatDuration(time.measuredSecondsPerStep), formatDuration(time.predictedSecondsPerStep),
                             String(format: "%.2f", time.measuredOverPredicted), first ? String(format: "%.2f", configuration.spread) : "",
                             [time.rule == configuration.predictedFastest ? "priced" : nil, time.rule == configuration.measuredFastest ? "measured" : nil]
                                .compactMap { $0 }.joined(separator: ", "),
                             first ? configuration.skipped.joined(separator: ", ") : ""])
            }
        }
        lines += alignedColumns(rows)
        let within = report.configurations.filter { $0.spread <= 2 }.count
        lines.append("")
        lines.append(String(format: "predicted time ratios between rules within 2× of measured in %d of %d configurations (worst spread %.2f)",
                            within, report.configurations.count, report.worstSpread))
        let agreeing = report.configurations.filter { $0.predictedFastest == $0.measuredFastest }.count
        lines.append("the rule priced fastest is the one measured fastest in \(agreeing) of \(report.configurations.count) configurations")
        return lines.joined(separator: "\n")
    }
}
