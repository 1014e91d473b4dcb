import PlasticityEngine

/// How a batch is computed: cut into `shards` (`ShardedComputation`), run on up to `threads`
/// workers per process, the shards shared by `ranks` processes (MPI). The planner prices a
/// rule on one shard and scales it to what each worker and each process holds and takes.
public struct Parallelism: Sendable, Codable, Equatable {
    public var shards: Int
    public var threads: Int
    public var ranks: Int
    /// How the ranks combine their shards' results.
    public var exchange: ShardExchange
    /// Whether each rule runs at its own default shard count
    /// (`ShardedComputation.defaultShards(rule:batch:)`) instead of `shards`: see `of(_:batch:)`.
    public var shardsByRule: Bool

    /// One worker, one process, the batch whole.
    public static let single = Parallelism(shards: 1, threads: 1, ranks: 1)

    public init(shards: Int, threads: Int, ranks: Int = 1, exchange: ShardExchange = .gather, shardsByRule: Bool = false) {
        self.shards = Swift.max(1, shards)
        self.threads = Swift.max(1, threads)
        self.ranks = Swift.max(1, ranks)
        self.exchange = exchange
        self.shardsByRule = shardsByRule
    }

    /// How `rule` runs a batch of `batch`: with `shardsByRule`, in its default shard count;
    /// otherwise as given.
    public func of(_ rule: LearningRuleKind, batch: Int) -> Parallelism {
        guard shardsByRule else { return self }
        return Parallelism(shards: ShardedComputation.defaultShards(rule: rule, batch: batch), threads: threads, ranks: ranks, exchange: exchange)
    }

    /// Sequences in the largest shard of a batch of `batch` (shards differ by at most one).
    public func shardBatch(_ batch: Int) -> Int {
        let count = Swift.min(batch, shards)
        return (batch + count - 1) / count
    }

    /// Shards one process computes (the most any rank gets).
    public func shardsPerProcess(_ batch: Int) -> Int {
        let count = Swift.min(batch, shards)
        return (count + ranks - 1) / ranks
    }

    /// Workers busy in one process, and the rounds of shards they run one after another.
    public func workers(_ batch: Int) -> Int { Swift.min(threads, shardsPerProcess(batch)) }
    public func rounds(_ batch: Int) -> Int { (shardsPerProcess(batch) + workers(batch) - 1) / workers(batch) }

    /// A process's cost of a batch of `batch` from one shard's: the rounds of shards its workers
    /// run one after another, and every busy worker's buffers plus `exchangeBytes`.
    public func processCost(_ shard: RuleCost, batch: Int, exchangeBytes: Int = 0) -> RuleCost {
        let workers = workers(batch), rounds = rounds(batch), scale = Double(workers * rounds)
        return RuleCost(rule: shard.rule, flopsPerStep: shard.flopsPerStep * scale, bytesPerStep: shard.bytesPerStep * scale,
                        peakBytes: shard.peakBytes * workers + exchangeBytes, secondsPerStep: shard.secondsPerStep * Double(rounds),
                        checkpointInterval: shard.checkpointInterval)
    }

    /// A process's cost of `rule` on `workload`, its shards priced by the cost model: what
    /// `bench scaling --threads --shards` measures.
    public func processCost(of rule: LearningRuleKind, network: Network, workload: Workload) -> RuleCost {
        let parallelism = of(rule, batch: workload.batch)
        return parallelism.processCost(CostModel(network: network, workload: parallelism.shard(of: workload)).cost(of: rule), batch: workload.batch)
    }

    /// A workload's shard: its largest.
    public func shard(of workload: Workload) -> Workload {
        var shard = workload
        shard.batch = shardBatch(workload.batch)
        return shard
    }

    /// Bytes a process holds for the exchange between ranks (none in one process), as Double:
    /// gathering, its shards' results sent and every shard's received, each result the
    /// gradients, the readouts of its sequences and a spike count per neuron; summing, one
    /// vector of the gradients, the whole batch's readouts and the spike counts sent and one
    /// received, whatever the shards.
    public func exchangeBytes(network: Network, workload: Workload) -> Int {
        guard ranks > 1 else { return 0 }
        let gradients = network.tensors.reduce(0) { $0 + $1.count }
        switch exchange {
        case .gather:
            let perShard = gradients + workload.steps * shardBatch(workload.batch) * network.outputs + network.neuronCount + 8
            let received = ranks * shardsPerProcess(workload.batch) * perShard
            return (received + shardsPerProcess(workload.batch) * perShard) * MemoryLayout<Double>.size
        case .sum:
            let vector = ranks + 2 + network.neuronCount + workload.steps * workload.batch * network.outputs + gradients
            return 2 * vector * MemoryLayout<Double>.size
        }
    }
}
