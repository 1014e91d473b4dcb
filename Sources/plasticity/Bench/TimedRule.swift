import Dispatch
import PlasticityCore

/// A rule on a network and a batch, timed one repetition at a time.
final class TimedRule {
    let rule: LearningRuleKind, network: Network, parameters: ParameterSet<Float>, batch: SequenceBatch<Float>
    let checkpointInterval: Int?, sharding: (shards: Int, threads: Int)
    /// Rules reused from one repetition to the next, as training reuses them from batch to
    /// batch: the fastest repetition is the steady state.
    private let workspaces = ShardWorkspaces<Float>()
    private(set) var storage = 0, spikes = 0

    init(rule: LearningRuleKind, network: Network, parameters: ParameterSet<Float>, batch: SequenceBatch<Float>, checkpointInterval: Int?,
         sharding: (shards: Int, threads: Int)) {
        self.rule = rule
        self.network = network
        self.parameters = parameters
        self.batch = batch
        self.checkpointInterval = checkpointInterval
        self.sharding = sharding
    }

    /// One repetition's time per step.
    func run() throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try ShardedComputation.gradients(rule: rule, network: network, parameters: parameters, batch: batch,
                                                      options: RuleOptions(checkpointInterval: checkpointInterval), shards: sharding.shards,
                                                      threads: sharding.threads, workspaces: workspaces)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(batch.steps)
        storage = result.storageBytes
        spikes = result.spikeCount
        return seconds
    }
}
