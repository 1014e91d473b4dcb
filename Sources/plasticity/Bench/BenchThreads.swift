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
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        for rule in options.selectedRules() {
            // Repetitions interleaved across the points and speed-ups taken within each round,
            // so that a machine whose speed drifts slows every point of a round alike.
            let whole = try runner.prepare(rule: rule, network: network, steps: steps, checkpointInterval: nil)
            let sharded = try counts.map { try runner.prepare(rule: rule, network: network, steps: steps, checkpointInterval: nil, sharding: (shards, $0)) }
            var wholeTimes: [Double] = [], times = counts.map { _ in [Double]() }
            for _ in 0..<options.repetitions {
                wholeTimes.append(try whole.run())
                for index in sharded.indices { times[index].append(try sharded[index].run()) }
            }
            for (index, threads) in counts.enumerated() {
                let speedUp = median(zip(times[0], times[index]).map { $0 / $1 }), vsWhole = median(zip(wholeTimes, times[index]).map { $0 / $1 })
                rows.append([rule.rawValue, formatDuration(median(wholeTimes)), "\(shards)", "\(threads)", formatDuration(median(times[index])),
                             String(format: "%.2f×", speedUp), String(format: "%.2f×", vsWhole)])
            }
        }
        print("\(options.describe(model: runner.model.name)) N=\(hidden) B=\(options.batch) T=\(steps)\(options.recurrent ? " with W_rec" : ""), "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores, median of \(options.repetitions)")
        alignedColumns(rows).forEach { print($0) }
        print("speed-up: against the first thread count with the same shards; vs whole batch: against the batch unsharded on one thread; "
              + "each the median of the ratios within a round of interleaved repetitions")
    }
}
