import ArgumentParser
import Foundation
import PlasticityCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reproduce the paper's Figure 1: time per step against N, and peak memory against T, for every rule.",
        subcommands: [BenchScaling.self, BenchMemory.self, BenchCostModel.self, BenchSideBySide.self, BenchThreads.self])
}

/// The model of a benchmark of one model (`scaling`, `memory`, `threads`; the others take several).
struct BenchModel: ParsableArguments {
    @Option(help: "The neuron model (of every population of a short form).")
    var model: String = "LIF"
}

/// What the figure benchmarks (`scaling`, `memory`) add: a memory budget and a chart.
struct BenchFigureOptions: ParsableArguments {
    @Option(help: "Memory budget: skip a point predicted to need more (memory: BPTT checkpoints beyond it).")
    var memory: String = "8GiB"

    @Option(help: "Also write an SVG chart (log–log) to this file.")
    var plot: String?
}

/// What every benchmark shares: the network around its models, the input and the output format.
struct BenchOptions: ParsableArguments {
    @Option(help: "Comma-separated rules, each once: \(RuleList.names) (default: all).", transform: RuleList.parse)
    var rules = RuleList(LearningRuleKind.allCases)

    @Option(help: "Input channels I.")
    var inputs: Int = 140

    @Option(help: "Readout classes C.")
    var outputs: Int = 20

    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: "Sequences per batch B.")
    var batch: Int = 16

    @Option(help: "Probability of an input spike per channel and step, in (0, 1].")
    var inputRate: Double = 0.05

    @Option(help: "Loss: ce-every-step, or ce-summed (SHD's: its error arrives only at the end), or ce-last-step.")
    var loss: LossKind = .crossEntropyEveryStep

    @OptionGroup var recurrentWeights: RecurrentWeights
    var recurrent: Bool { recurrentWeights.enabled }

    @Option(help: "Stacked populations of --model, each of N neurons: the network's cost per step against one layer's.")
    var layers: Int = 1

    @Option(help: "More models mixed into the population, as MODEL:N[,MODEL:N…] (fixed sizes, beside N neurons of --model).", transform: MixList.parse)
    var mix: MixList?

    @Option(help: "Repetitions per point (median, min and max are reported).")
    var repetitions: Int = 3

    @Option(help: "Skip a point predicted to take longer than this many seconds per repetition.")
    var maxSeconds: Double = 60

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var settings: ModelSettings
    @OptionGroup var pluginOptions: PluginOptions

    func validate() throws {
        guard repetitions >= 1, (1...Workload.maxBatch).contains(batch), inputs >= 1, outputs >= 1 else {
            throw ValidationError("--repetitions, --inputs and --outputs must each be at least 1, and --batch 1…\(Workload.maxBatch)")
        }
        guard maxSeconds.isFinite, maxSeconds > 0 else { throw ValidationError("--max-seconds must be a positive number of seconds, got \(maxSeconds)") }
        guard inputRate > 0, inputRate <= 1 else { throw ValidationError("--input-rate must be in (0, 1], got \(inputRate)") }
        guard loss != .meanSquaredError else { throw ValidationError("--loss mse needs targets the benchmark does not make: use a cross-entropy loss") }
        try GraphOptions.validateShortForm(layers: layers, mix: mix)
    }

    func selectedRules() -> [LearningRuleKind] { rules.rules }

    /// A runner for the model called `name`.
    func runner(model name: String) throws -> BenchRunner {
        let registry = try pluginOptions.loadRegistry()
        let settings = try settings.settings()
        let description = try registry.model(named: name).model
        if mix != nil { try MixList.refuseParameterData(settings) }
        return BenchRunner(model: description, settings: settings, mixed: try mix?.compile(registry: registry, surrogate: settings.surrogate) ?? [], options: self)
    }

    /// The benchmarked network in words, for reports: the model, and the layers or the mix.
    func describe(model name: String) -> String {
        if let mix { return "\(name) mixed with " + mix.groups.map { "\($0.model):\($0.size)" }.joined(separator: ",") }
        return layers > 1 ? "\(name), \(layers) stacked layers" : name
    }
}

/// One measured point.
struct BenchPoint: Codable {
    let rule: LearningRuleKind
    let hidden: Int
    let steps: Int
    /// Steps actually run per repetition (fewer than `steps` when a slow rule would exceed the time limit).
    let measuredSteps: Int?
    let medianSecondsPerStep: Double?
    let minSecondsPerStep: Double?
    let maxSecondsPerStep: Double?
    let predictedSecondsPerStep: Double
    let storageBytes: Int?
    let predictedBytes: Int
    let checkpointInterval: Int?
    let skipped: String?
}

/// A benchmark run with the facts needed to reproduce it.
struct BenchReport: Codable {
    let benchmark: String
    let model: String
    let machine: String
    let cores: Int
    let build: String
    let date: String
    let inputs: Int
    let outputs: Int
    let batch: Int
    let recurrent: Bool
    let repetitions: Int
    let points: [BenchPoint]
    /// Fitted exponent of median time per step against N, per rule (scaling only).
    let exponents: [String: Double]

    static func machineDescription() -> String { CPUFeatures.current.modelName }

    /// The build and what runs the dense matrix products.
    static var buildConfiguration: String {
        #if DEBUG
        let mode = "debug"
        #else
        let mode = "release"
        #endif
        return "\(mode) build; matrix products: \(MatrixBackend.description)"
    }

    func emit(json: Bool, plot: String?, xLabel: String, yLabel: String, x: (BenchPoint) -> Double, y: (BenchPoint) -> Double?) throws {
        if json {
            try printJSON(self)
        } else {
            print(table)
        }
        guard let plot else { return }
        let rules = points.map(\.rule).reduce(into: [LearningRuleKind]()) { if !$0.contains($1) { $0.append($1) } }
        let series = rules.map { rule in
            SVGChart.Series(name: rule.rawValue + (exponents[rule.rawValue].map { String(format: " (slope %.2f)", $0) } ?? ""),
                            points: points.filter { $0.rule == rule }.compactMap { point in y(point).map { (x(point), $0) } })
        }
        let chart = SVGChart(title: "\(benchmark): \(model), B=\(batch), I=\(inputs)\(recurrent ? ", W_rec" : ""), \(build), \(machine)",
                             panels: [.lines(title: benchmark, xLabel: xLabel, yLabel: yLabel, logarithmic: true, series: series)])
        try chart.svg.write(toFile: plot, atomically: true, encoding: .utf8)
    }

    var table: String {
        var lines = ["\(benchmark): \(model), I=\(inputs), C=\(outputs), B=\(batch)\(recurrent ? ", W_rec" : ""); \(machine), \(cores) cores, \(build), \(repetitions) repetitions, \(date)", ""]
        var rows = [["rule", "N", "T", "steps run", "median/step", "min", "max", "predicted", "storage", "predicted", "note"]]
        for p in points {
            rows.append([p.rule.rawValue, "\(p.hidden)", "\(p.steps)", p.measuredSteps.map(String.init) ?? "",
                         p.medianSecondsPerStep.map(formatDuration) ?? "", p.minSecondsPerStep.map(formatDuration) ?? "", p.maxSecondsPerStep.map(formatDuration) ?? "",
                         formatDuration(p.predictedSecondsPerStep), p.storageBytes.map(MemorySize.format) ?? "", MemorySize.format(p.predictedBytes),
                         p.skipped.map { "skipped: \($0)" } ?? (p.checkpointInterval.map { "checkpoint every \($0)" } ?? "")])
        }
        lines += alignedColumns(rows)
        if !exponents.isEmpty {
            lines.append("")
            lines.append("fitted exponent of time per step in N: " + exponents.sorted { $0.key < $1.key }.map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}

/// Runs one rule on random Poisson input and returns per-step times of each repetition.
struct BenchRunner {
    let model: ModelDescription
    /// `--set` and `--train-parameters`: what each population of `model` holds.
    let settings: PopulationSettings
    /// Models mixed into the population beside N neurons of `model` (`--mix`).
    let mixed: [(neuron: CompiledNeuron, size: Int)]
    let options: BenchOptions

    /// The network of a point: `options.layers` stacked populations of N neurons, or one
    /// mixed population.
    func network(hidden: Int, recurrent: Bool? = nil) throws -> Network {
        let shape = NetworkShape(inputs: options.inputs, hidden: hidden, outputs: options.outputs, recurrent: recurrent ?? options.recurrent, layers: options.layers)
        let population = { (name: String) in
            try Network.Population(name: name, model: model, size: hidden, bias: shape.bias, settings: settings, loadArray: NetworkArrays.parameterArray)
        }
        guard !mixed.isEmpty else { return try Network(shape: shape, population: population) }
        return try Network.mixed([(try population("main").neuron, hidden)] + mixed, shape: shape)
    }
    /// The workload `measure` runs, for the cost model.
    func workload(steps: Int) -> Workload {
        Workload(batch: options.batch, steps: steps, deferredLoss: options.loss == .crossEntropySummed, inputDensity: options.inputRate)
    }

    /// Per-step times of each repetition (sorted), with the batch whole on one thread unless
    /// `sharding` cuts it into shards run on threads (`ShardedComputation`).
    func measure(rule: LearningRuleKind, network: Network, steps: Int, checkpointInterval: Int?,
                 sharding: (shards: Int, threads: Int)? = nil) throws -> (times: [Double], storage: Int, spikes: Int) {
        let measurement = try prepare(rule: rule, network: network, steps: steps, checkpointInterval: checkpointInterval, sharding: sharding)
        var times: [Double] = []
        for _ in 0..<options.repetitions { times.append(try measurement.run()) }
        return (times.sorted(), measurement.storage, measurement.spikes)
    }

    /// A point ready to be timed one repetition at a time, so that several points' repetitions
    /// can be interleaved.
    func prepare(rule: LearningRuleKind, network: Network, steps: Int, checkpointInterval: Int?,
                 sharding: (shards: Int, threads: Int)? = nil) throws -> TimedRule {
        var generator = SeededGenerator(seed: 2)
        // Read once: an option's getter per value (millions of them) instantiates generic metadata
        // each time (6% of a short bench's time under perf).
        let batch = options.batch, rate = options.inputRate
        let inputs = (0..<(steps * batch * network.inputs)).map { _ in Double.random(in: 0..<1, using: &generator) < rate ? Float(1) : 0 }
        let labelCount = options.loss == .crossEntropyEveryStep ? steps * batch : batch
        let labels = (0..<labelCount).map { _ in Int.random(in: 0..<network.outputs, using: &generator) }
        let loss = try Loss<Float>(options.loss, steps: steps, batch: batch, outputs: network.outputs, labels: labels)
        return TimedRule(rule: rule, network: network, parameters: ParameterSet<Float>(randomFor: network, seed: 1, inputGain: 4),
                         batch: SequenceBatch(inputs: inputs, steps: steps, batch: batch, loss: loss), checkpointInterval: checkpointInterval,
                         sharding: sharding ?? (1, 1))
    }
}

struct BenchScaling: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scaling", abstract: "Time per step against the number of hidden neurons N (Figure 1a).")

    @Option(help: "Comma-separated N, each at least 1 (default: 32,64,128,256,512,1024).", transform: PositiveIntegers.parse)
    var sizes = PositiveIntegers([32, 64, 128, 256, 512, 1024])

    @Option(help: "Sequence length T.")
    var steps: Int = 1000

    @OptionGroup var sharding: MeasuredSharding
    @OptionGroup var model: BenchModel
    @OptionGroup var options: BenchOptions
    @OptionGroup var figure: BenchFigureOptions

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    func run() throws {
        let runner = try options.runner(model: model.model)
        let sizes = sizes.values
        var points: [BenchPoint] = []
        for rule in options.selectedRules() {
            for hidden in sizes {
                let network = try runner.network(hidden: hidden)
                // Priced as it runs: each shard by the model, on the workers that run them.
                let predicted = sharding.parallelism.processCost(of: rule, network: network, workload: runner.workload(steps: steps))
                // Per-step time does not depend on T: run fewer steps when T would exceed the limit.
                let affordable = Int(options.maxSeconds / Swift.max(predicted.secondsPerStep, 1e-9))
                let budget = try MemorySize.parse(figure.memory)
                guard affordable >= 3, predicted.peakBytes <= budget else {
                    points.append(BenchPoint(rule: rule, hidden: hidden, steps: steps, measuredSteps: nil, medianSecondsPerStep: nil, minSecondsPerStep: nil,
                                             maxSecondsPerStep: nil, predictedSecondsPerStep: predicted.secondsPerStep, storageBytes: nil,
                                             predictedBytes: predicted.peakBytes, checkpointInterval: nil,
                                             skipped: predicted.peakBytes > budget ? "needs \(MemorySize.format(predicted.peakBytes))"
                                                 : "predicted \(formatDuration(predicted.secondsPerStep)) per step"))
                    continue
                }
                let measuredSteps = Swift.min(steps, affordable)
                let (times, storage, _) = try runner.measure(rule: rule, network: network, steps: measuredSteps, checkpointInterval: nil,
                                                             sharding: (sharding.shards, sharding.threads))
                points.append(BenchPoint(rule: rule, hidden: hidden, steps: steps, measuredSteps: measuredSteps, medianSecondsPerStep: times[times.count / 2],
                                         minSecondsPerStep: times.first, maxSecondsPerStep: times.last, predictedSecondsPerStep: predicted.secondsPerStep,
                                         storageBytes: storage, predictedBytes: predicted.peakBytes, checkpointInterval: nil, skipped: nil))
            }
        }
        var exponents: [String: Double] = [:]
        for rule in options.selectedRules() {
            let measured = points.filter { $0.rule == rule && $0.medianSecondsPerStep != nil }
            if measured.count >= 2 {
                exponents[rule.rawValue] = Self.slope(measured.map { (Foundation.log(Double($0.hidden)), Foundation.log($0.medianSecondsPerStep!)) })
            }
        }
        let report = BenchReport(benchmark: "time per step against N", model: options.describe(model: runner.model.name), machine: BenchReport.machineDescription(),
                                 cores: ProcessInfo.processInfo.activeProcessorCount, build: BenchReport.buildConfiguration,
                                 date: ISO8601DateFormatter().string(from: Date()), inputs: options.inputs, outputs: options.outputs, batch: options.batch,
                                 recurrent: options.recurrent, repetitions: options.repetitions, points: points, exponents: exponents)
        try report.emit(json: options.json, plot: figure.plot, xLabel: "hidden neurons N", yLabel: "seconds per step",
                        x: { Double($0.hidden) }, y: { $0.medianSecondsPerStep })
    }

    /// Least-squares slope of y against x.
    static func slope(_ points: [(Double, Double)]) -> Double {
        let n = Double(points.count)
        let mx = points.map(\.0).reduce(0, +) / n, my = points.map(\.1).reduce(0, +) / n
        let covariance = points.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +)
        let variance = points.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
        return covariance / variance
    }
}

struct BenchMemory: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "memory", abstract: "Peak storage against the sequence length T (Figure 1b).")

    @Option(parsing: .unconditional, help: "Hidden neurons N.")
    var hidden: Int = 128

    @Option(help: "Comma-separated T, each at least 1 (default: 100,1000,10000,100000).", transform: PositiveIntegers.parse)
    var lengths = PositiveIntegers([100, 1000, 10000, 100000])

    @OptionGroup var model: BenchModel
    @OptionGroup var options: BenchOptions
    @OptionGroup var figure: BenchFigureOptions

    func run() throws {
        let runner = try options.runner(model: model.model)
        let budget = try MemorySize.parse(figure.memory)
        var points: [BenchPoint] = []
        for rule in options.selectedRules() {
            for steps in lengths.values {
                let network = try runner.network(hidden: hidden)
                let model = CostModel(network: network, workload: runner.workload(steps: steps))
                var predicted = model.cost(of: rule)
                if rule == .bptt, predicted.peakBytes > budget { predicted = model.bpttCheckpointing(within: budget) }
                let seconds = predicted.secondsPerStep * Double(steps)
                if seconds > options.maxSeconds || predicted.peakBytes > budget {
                    let reason = predicted.peakBytes > budget ? "needs \(MemorySize.format(predicted.peakBytes))" : String(format: "predicted %.0f s", seconds)
                    points.append(BenchPoint(rule: rule, hidden: hidden, steps: steps, measuredSteps: nil, medianSecondsPerStep: nil, minSecondsPerStep: nil,
                                             maxSecondsPerStep: nil, predictedSecondsPerStep: predicted.secondsPerStep, storageBytes: nil,
                                             predictedBytes: predicted.peakBytes, checkpointInterval: predicted.checkpointInterval, skipped: reason))
                    continue
                }
                let (times, storage, _) = try runner.measure(rule: rule, network: network, steps: steps, checkpointInterval: predicted.checkpointInterval)
                points.append(BenchPoint(rule: rule, hidden: hidden, steps: steps, measuredSteps: steps, medianSecondsPerStep: times[times.count / 2],
                                         minSecondsPerStep: times.first, maxSecondsPerStep: times.last, predictedSecondsPerStep: predicted.secondsPerStep,
                                         storageBytes: storage, predictedBytes: predicted.peakBytes, checkpointInterval: predicted.checkpointInterval, skipped: nil))
            }
        }
        let report = BenchReport(benchmark: "peak storage against T", model: options.describe(model: runner.model.name), machine: BenchReport.machineDescription(),
                                 cores: ProcessInfo.processInfo.activeProcessorCount, build: BenchReport.buildConfiguration,
                                 date: ISO8601DateFormatter().string(from: Date()), inputs: options.inputs, outputs: options.outputs, batch: options.batch,
                                 recurrent: options.recurrent, repetitions: options.repetitions, points: points, exponents: [:])
        try report.emit(json: options.json, plot: figure.plot, xLabel: "sequence length T", yLabel: "bytes held",
                        x: { Double($0.steps) }, y: { $0.storageBytes.map(Double.init) })
    }
}
