import ArgumentParser
import Foundation
import PlasticityCore

extension PlanningPolicy: @retroactive ExpressibleByArgument {}

/// A network and workload described on the command line.
struct NetworkOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Hidden neurons N.")
    var hidden: Int = 128

    @Option(help: "Input channels I (a network file may state its own).")
    var inputs: Int = 140

    @Option(help: "Readout classes C (a network file may state its own).")
    var outputs: Int = 20

    @OptionGroup var recurrentWeights: RecurrentWeights
    var recurrent: Bool { recurrentWeights.enabled }

    @Flag(help: "Add a bias current.")
    var bias = false

    @Option(parsing: .unconditional, help: "Readout leak κ in [0, 1).")
    var readoutDecay: Double = 0

    var shape: NetworkShape {
        NetworkShape(inputs: inputs, hidden: hidden, outputs: outputs, recurrent: recurrent, bias: bias, readoutDecay: readoutDecay)
    }
}

/// The planner's inputs besides the network.
struct PlanOptions: ParsableArguments {
    @Option(help: "Memory budget, e.g. 4GiB, 512MiB (the planner's: plan, and train or grad with --rule auto).")
    var memory: String = "4GiB"

    @Option(help: "exact (cheapest exact rule), online (memory independent of T) or fastest (the planner's: plan, and train or grad with --rule auto).")
    var policy: PlanningPolicy = .exact
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Price every learning rule for a model and workload, say which are exact and why, and choose one.")

    @Option(help: "The neuron model (of every population of a short form; not needed with --network).")
    var model: String?

    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: "Sequences per batch B.")
    var batch: Int = 16

    @Option(help: "Time steps per sequence T.")
    var steps: Int = 1000

    @Option(help: "Fraction of input values that are spikes (non-zero): the products over inputs skip the others; 1 prices the dense worst case (train measures it on its data).")
    var inputDensity: Double = 1

    @Option(help: "Fraction of neurons that spike per step: the products over spikes skip the others; 1 prices the dense worst case (train measures it with its initial weights).")
    var spikeDensity: Double = 1

    @Option(help: "Loss: \(LossKind.allCases.map(\.rawValue).joined(separator: ", ")); ce-summed (SHD's) sends its error only at the end, which online rules pay for.")
    var loss: LossKind = .crossEntropyEveryStep

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @Option(help: "Processes sharing each batch's shards (mpirun -np K), each with --threads workers.")
    var ranks = 1

    @OptionGroup var exchangeOption: ExchangeOption

    @OptionGroup var network: NetworkOptions
    @OptionGroup var graph: GraphOptions
    @OptionGroup var planOptions: PlanOptions
    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var settings: ModelSettings
    @OptionGroup var pluginOptions: PluginOptions

    func validate() throws {
        guard inputDensity > 0, inputDensity <= 1 else { throw ValidationError("--input-density must be in (0, 1], got \(inputDensity)") }
        guard spikeDensity > 0, spikeDensity <= 1 else { throw ValidationError("--spike-density must be in (0, 1], got \(spikeDensity)") }
        guard (1...100_000).contains(ranks) else { throw ValidationError("--ranks must be 1…100000, got \(ranks)") }
        guard (1...Workload.maxBatch).contains(batch), (1...DatasetBounds.maxSteps).contains(steps) else {
            throw ValidationError("--batch must be 1…\(Workload.maxBatch) and --steps 1…\(DatasetBounds.maxSteps), got \(batch) and \(steps)")
        }
    }

    func run() throws {
        let built = try graph.build(model: model, settings: try settings.settings(), registry: try pluginOptions.loadRegistry(), shape: network.shape,
                                    sizesFromData: false)
        let workload = Workload(batch: batch, steps: steps, deferredLoss: loss == .crossEntropySummed, inputDensity: inputDensity, spikeDensity: spikeDensity)
        let plan = try Planner.plan(network: built, workload: workload,
                                    memoryBudget: try MemorySize.parse(planOptions.memory), policy: planOptions.policy,
                                    parallelism: threadOptions.parallelism(ranks: ranks, exchange: exchangeOption.exchange))
        if json {
            try printJSON(plan)
        } else {
            print(PlanReport(plan: plan).text)
        }
    }
}

/// The table `plasticity plan` prints.
struct PlanReport {
    let plan: Plan

    var text: String {
        let workload = plan.workload, parallel = plan.parallelism
        var lines = ["\(plan.network.description)",
                     "B=\(workload.batch) T=\(workload.steps) cut into the shards listed, "
                        + "\(parallel.threads) threads per process" + (parallel.ranks > 1 ? ", \(parallel.ranks) processes" : "")
                        + "; budget \(MemorySize.format(plan.memoryBudget)) per process, policy \(plan.policy.rawValue)", ""]
        let header = ["rule", "shards", "GFLOP/step", "MB moved/step", "time/step", "per worker", "per process", "exact", "verdict"]
        var rows = [header]
        for assessment in plan.assessments {
            let cost = assessment.cost
            var name = cost.rule.rawValue
            if let interval = cost.checkpointInterval { name += " (ckpt \(interval))" }
            let shardBatch = Parallelism(shards: assessment.shards, threads: parallel.threads).shardBatch(workload.batch)
            rows.append([
                name,
                "\(assessment.shards) × ≤\(shardBatch)",
                String(format: "%.4f", cost.flopsPerStep / 1e9),
                String(format: "%.2f", cost.bytesPerStep / 1e6),
                formatDuration(cost.secondsPerStep),
                MemorySize.format(assessment.workerBytes),
                MemorySize.format(assessment.processBytes),
                assessment.exactness.isExact ? "yes" : "no",
                assessment.ruledOut.map { "ruled out: \($0)" } ?? "CHOSEN",
            ])
        }
        lines += alignedColumns(rows)
        lines.append("")
        for assessment in plan.assessments where !assessment.exactness.isExact {
            lines.append("\(assessment.cost.rule.rawValue) is approximate: \(assessment.exactness.reasons.joined(separator: "; "))")
        }
        if let approximate = plan.assessments.first(where: { !$0.exactness.approximateTensors.isEmpty }) {
            lines.append("approximate tensors under \(approximate.cost.rule.rawValue): \(approximate.exactness.approximateTensors.joined(separator: ", "))")
        }
        lines.append("choice: \(plan.explanation)")
        return lines.joined(separator: "\n")
    }
}

func formatDuration(_ seconds: Double) -> String {
    if seconds >= 1 { return String(format: "%.2f s", seconds) }
    if seconds >= 1e-3 { return String(format: "%.2f ms", seconds * 1e3) }
    return String(format: "%.1f µs", seconds * 1e6)
}
