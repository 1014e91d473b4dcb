import ArgumentParser
import PlasticityCore

/// `--threads` and `--shards` of the commands that time rules (`compare`, `bench scaling`):
/// by default the batch whole on one thread, the comparison the paper's figure makes; with
/// more, what `train` would run (`ShardedComputation`).
struct MeasuredSharding: ParsableArguments {
    @Option(help: "Worker threads for the batch's shards (default 1: the batch whole on one thread).")
    var threads = 1

    @Option(help: "Shards each batch is cut into (default 1).")
    var shards = 1

    func validate() throws {
        guard (1...1024).contains(threads), (1...Workload.maxBatch).contains(shards) else {
            throw ValidationError("--threads must be 1…1024 and --shards 1…\(Workload.maxBatch), got \(threads) and \(shards)")
        }
    }

    var parallelism: Parallelism { Parallelism(shards: shards, threads: threads) }
}
