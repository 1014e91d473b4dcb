import ArgumentParser
import PlasticityCore

/// `--threads` and `--shards`: how a batch is cut and how many workers run the pieces
/// (`ShardedComputation`). Results depend on the shards, never on the threads.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads for a batch's shards (default: every core); at most --shards of them are busy. Every thread count gives the same numbers.")
    var threads: Int = ShardedComputation.availableThreads

    @Option(help: "Fixed shards each batch is cut into (contiguous runs of sequences, reduced in order). More shards let more threads work but give each a smaller batch; the results depend on this, not on --threads. Default: e-prop, dense e-prop and RTRL at most 4 sequences a shard in a multiple of 4 shards (their per-synapse values stay in cache), BPTT 4 (it pays a fixed cost per shard); a resumed run keeps its checkpoint's. Documentation/Scaling.md.")
    var shards: Int?

    /// These options for a job of `ranks` processes, as the planner prices them: each rule
    /// at its own default shard count unless `--shards` was given.
    func parallelism(ranks: Int, exchange: ShardExchange = .gather) -> Parallelism {
        Parallelism(shards: shards ?? ShardedComputation.defaultShards, threads: threads, ranks: ranks, exchange: exchange, shardsByRule: shards == nil)
    }

    /// The shards `rule` runs a batch of `batch` in: `--shards`, or the rule's default.
    func shards(rule: LearningRuleKind, batch: Int) -> Int { parallelism(ranks: 1).of(rule, batch: batch).shards }

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let shards, shards < 1 { throw ValidationError("--shards must be at least 1, got \(shards)") }
    }
}
