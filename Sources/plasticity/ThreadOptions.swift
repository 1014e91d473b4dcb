import ArgumentParser
import PlasticityCore

/// `--threads` and `--shards`: how a batch is cut and how many workers run the pieces
/// (`ShardedComputation`). Results depend on the shards, never on the threads.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads for a batch's shards (default: every core); at most --shards of them are busy. Every thread count gives the same numbers.")
    var threads: Int = ShardedComputation.availableThreads

    @Option(help: "Fixed shards each batch is cut into (contiguous runs of sequences, reduced in order). More shards let more threads work but give each a smaller batch; the results depend on this, not on --threads. e-prop gains from small shards (its per-synapse values stay in cache), BPTT pays a fixed cost per shard: Documentation/Scaling.md.")
    var shards: Int = ShardedComputation.defaultShards

    /// These options for a job of `ranks` processes, as the planner prices them.
    func parallelism(ranks: Int, exchange: ShardExchange = .gather) -> Parallelism { Parallelism(shards: shards, threads: threads, ranks: ranks, exchange: exchange) }

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard shards >= 1 else { throw ValidationError("--shards must be at least 1, got \(shards)") }
    }
}
