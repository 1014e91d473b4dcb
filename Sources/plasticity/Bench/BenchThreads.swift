import ArgumentParser
import Foundation
import PlasticityCore

/// Time per step against the number of threads, a batch cut into fixed shards
/// (`ShardedComputation`): the speed-up data parallelism gives on this machine, and what the
/// shards cost on one thread against the whole batch.
struct BenchThreads: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "threads", abstract: "Time per step against the number of threads (data parallelism over a batch's shards).")

    @Option(parsing: .unconditional, help: "Hidden neurons N.")
    var hidden: Int = 256

    @Option(help: "Sequence length T.")
    var steps: Int = 200

    @Option(help: "Fixed shards per batch (default: one per core).")
    var shards: Int = ShardedComputation.availableThreads

    @Option(help: "Comma-separated thread counts (default: 1 … every core).", transform: PositiveIntegers.parse)
    var threadCounts: PositiveIntegers?

    @OptionGroup var model: BenchModel
    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard hidden >= 1, steps >= 1, shards >= 1 else { throw ValidationError("--hidden, --steps and --shards must each be at least 1") }
    }

    func run() throws {
        let runner = try options.runner(model: model.model)
        let network = try runner.network(hidden: hidden)
        let counts = threadCounts?.values ?? Array(1...ShardedComputation.availableThreads)
        var rows = [["rule", "batch whole", "shards", "threads", "time/step", "speed-up", "vs whole batch"]]
        for rule in options.selectedRules() {
            let whole = try runner.measure(rule: rule, network: network, steps: steps, checkpointInterval: nil).times
            let wholeMedian = whole[whole.count / 2]
            var single: Double?
            for threads in counts {
                let times = try runner.measure(rule: rule, network: network, steps: steps, checkpointInterval: nil, sharding: (shards, threads)).times
                let median = times[times.count / 2]
                if single == nil { single = median }
                rows.append([rule.rawValue, formatDuration(wholeMedian), "\(shards)", "\(threads)", formatDuration(median),
                             String(format: "%.2f×", single! / median), String(format: "%.2f×", wholeMedian / median)])
            }
        }
        print("\(options.describe(model: runner.model.name)) N=\(hidden) B=\(options.batch) T=\(steps)\(options.recurrent ? " with W_rec" : ""), "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores, median of \(options.repetitions)")
        alignedColumns(rows).forEach { print($0) }
        print("speed-up: against the first thread count with the same shards; vs whole batch: against the batch unsharded on one thread")
    }
}
