import ArgumentParser
import Foundation
import PlasticityCore

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run several learning rules on the same network, weights and batch and compare them.",
        discussion: "Reports time per step, storage held, predicted against measured cost, gradient agreement with BPTT (or RTRL), and exactness. Rules predicted to exceed the memory budget or the time limit are listed as skipped with the reason.")

    @Option(help: "The neuron model.")
    var model: String

    @Option(help: "Comma-separated rules.")
    var rules: String = LearningRuleKind.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Sequences per batch B.")
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

    @OptionGroup var network: NetworkOptions
    @OptionGroup var settings: ModelSettings
    @OptionGroup var pluginOptions: PluginOptions

    func run() throws {
        let selected = try rules.split(separator: ",").map { name -> LearningRuleKind in
            guard let rule = LearningRuleKind(rawValue: String(name)) else { throw ValidationError("unknown rule '\(name)'") }
            return rule
        }
        let neuron = try pluginOptions.loadRegistry().model(named: model).compile(try settings.configuration())
        let shape = network.shape
        let net = try Network(shape: shape, neuron: neuron)
        var generator = SeededGenerator(seed: seed)
        let parameters = ParameterSet<Float>(randomFor: shape, seed: seed, inputGain: 4, recurrentGain: 1)
        let inputs = (0..<(steps * batch * shape.inputs)).map { _ in Double.random(in: 0..<1, using: &generator) < inputRate ? Float(1) : 0 }
        let labels = (0..<batch).map { _ in Int.random(in: 0..<shape.outputs, using: &generator) }
        let loss = try Loss<Float>(.crossEntropySummed, steps: steps, batch: batch, outputs: shape.outputs, labels: labels)
        let comparison = try RuleComparison.run(network: net, parameters: parameters, inputs: inputs, steps: steps, batch: batch, loss: loss,
                                                rules: selected, memoryBudget: try MemorySize.parse(memory), timeLimit: timeLimit)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(comparison), as: UTF8.self))
        } else {
            print(ComparisonReport(comparison: comparison).text)
        }
        if let plot {
            try ComparisonReport(comparison: comparison).chart.svg.write(toFile: plot, atomically: true, encoding: .utf8)
        }
    }
}

/// The table and chart of a comparison.
struct ComparisonReport {
    let comparison: RuleComparison

    var text: String {
        let shape = comparison.shape, workload = comparison.workload
        var lines = ["\(comparison.model): N=\(shape.hidden) I=\(shape.inputs) C=\(shape.outputs)\(shape.recurrent ? " with W_rec" : ""), B=\(workload.batch) T=\(workload.steps)", ""]
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
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        lines += rows.map { row in row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
        lines.append("")
        lines.append("ratio agreement: (measured/predicted) relative to the fastest rule; 1 = the cost model ranks it exactly as measured")
        for entry in comparison.rules where !entry.exactness.isExact {
            lines.append("\(entry.rule.rawValue) is approximate: \(entry.exactness.reasons.joined(separator: "; "))")
        }
        return lines.joined(separator: "\n")
    }

    var chart: SVGChart {
        let ran = comparison.rules.filter { $0.secondsPerStep != nil }
        func note(_ entry: ComparedRule) -> String {
            entry.cosineToReference.map { String(format: "cos %.3f", $0) } ?? (entry.exactness.isExact ? "exact" : "approx.")
        }
        let skipped = comparison.rules.filter { $0.skipped != nil }.map { "\($0.rule.rawValue) skipped" }
        return SVGChart(
            title: "\(comparison.model), N=\(comparison.shape.hidden), B=\(comparison.workload.batch), T=\(comparison.workload.steps)"
                + (skipped.isEmpty ? "" : " (" + skipped.joined(separator: ", ") + ")"),
            panels: [
                .bars(title: "time per step (dashed: predicted)", unit: "ms", logarithmic: true,
                      bars: ran.map { SVGChart.Bar(label: $0.rule.rawValue, value: $0.secondsPerStep! * 1e3, marker: $0.predicted.secondsPerStep * 1e3, note: note($0)) }),
                .bars(title: "storage held (dashed: predicted)", unit: "MiB", logarithmic: true,
                      bars: ran.map { SVGChart.Bar(label: $0.rule.rawValue, value: Double($0.measuredBytes!) / 1_048_576, marker: Double($0.predicted.peakBytes) / 1_048_576,
                                                   note: $0.exactness.isExact ? "exact" : "approx.") }),
            ])
    }
}
