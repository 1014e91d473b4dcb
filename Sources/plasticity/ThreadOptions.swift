import ArgumentParser
import PlasticityCore

/// `--threads`: how many workers a batch's shards run on (`ShardedComputation`). Results do
/// not depend on it.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads for each batch's shards (default: every core). A batch is cut into at most \(ShardedComputation.maximumShards) fixed shards whose results are added in order, so every thread count gives the same numbers.")
    var threads: Int = ShardedComputation.availableThreads

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }
}
