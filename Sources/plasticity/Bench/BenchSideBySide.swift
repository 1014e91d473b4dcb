import ArgumentParser
import Foundation
import PlasticityCore

/// Times several models under the same rules, network and input in one run, repetitions
/// interleaved (A, B, A, B, …) so that a change in the machine's load falls on every model
/// alike: how a model file compares with the Swift plugin of the same equations, or one model
/// with another.
struct BenchSideBySide: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "side-by-side",
        abstract: "Time per step of several models under every rule in one run, repetitions interleaved, as ratios to the first model.")

    @Option(help: "Comma-separated models; ratios are to the first.")
    var models: String = "LIF,TextLIF"

    @Option(help: "Comma-separated N, each at least 1 (default: 256).", transform: PositiveIntegers.parse)
    var sizes = PositiveIntegers([256])

    @Option(help: "Steps per repetition.")
    var steps: Int = 200

    @OptionGroup var options: BenchOptions

    struct Row: Codable {
        let model: String
        let rule: LearningRuleKind
        let hidden: Int
        let medianSecondsPerStep: Double
        let minSecondsPerStep: Double
        /// Median and fastest time per step over the first model's, same rule and size.
        let medianRatio: Double
        let minRatio: Double
    }

    struct Report: Codable {
        let machine: String
        let build: String
        let date: String
        let batch: Int
        let inputs: Int
        let recurrent: Bool
        let steps: Int
        let repetitions: Int
        let rows: [Row]
    }

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    func run() throws {
        let names = models.split(separator: ",").map(String.init)
        var single = options
        single.repetitions = 1
        let runners = try names.map { try single.runner(model: $0) }
        var rows: [Row] = []
        for hidden in sizes.values {
            let networks = try runners.map { try $0.network(hidden: hidden) }
            for rule in options.selectedRules() {
                var times = [[Double]](repeating: [], count: runners.count)
                for _ in 0..<options.repetitions {
                    for (index, runner) in runners.enumerated() {
                        times[index] += try runner.measure(rule: rule, network: networks[index], steps: steps, checkpointInterval: nil).times
                    }
                }
                let medians = times.map { $0.sorted()[$0.count / 2] }, minima = times.map { $0.min()! }
                for (index, name) in names.enumerated() {
                    rows.append(Row(model: name, rule: rule, hidden: hidden, medianSecondsPerStep: medians[index], minSecondsPerStep: minima[index],
                                    medianRatio: medians[index] / medians[0], minRatio: minima[index] / minima[0]))
                }
            }
        }
        let report = Report(machine: BenchReport.machineDescription(), build: BenchReport.buildConfiguration, date: ISO8601DateFormatter().string(from: Date()),
                            batch: options.batch, inputs: options.inputs, recurrent: options.recurrent, steps: steps, repetitions: options.repetitions, rows: rows)
        if options.json { try printJSON(report); return }
        print("side by side: B=\(report.batch), I=\(report.inputs)\(report.recurrent ? ", W_rec" : ""), T=\(steps); \(report.machine), \(report.build), "
              + "\(report.repetitions) interleaved repetitions, \(report.date)\n")
        var table = [["rule", "N", "model", "median/step", "min/step", "median ratio", "min ratio"]]
        for row in rows {
            table.append([row.rule.rawValue, "\(row.hidden)", row.model, formatDuration(row.medianSecondsPerStep), formatDuration(row.minSecondsPerStep),
                          String(format: "%.3f", row.medianRatio), String(format: "%.3f", row.minRatio)])
        }
        print(alignedColumns(table).joined(separator: "\n"))
    }
}
