import PlasticityEngine

/// How the trainer makes a batch: in parts which, put side by side
/// (`SequenceBatch.concatenating`), are the batch. A data set that makes its sequences
/// independently can be asked for any parts: one per thread when they are made beside the work
/// (several workers take them at once), and under a distribution one per shard at least, with
/// only this rank's shards made whole and the others' with their targets alone (a rank then
/// reads and bins 1/K of each batch, not all of it). Otherwise the batch is one part.
public struct BatchParts: Equatable, Sendable {
    public struct Part: Equatable, Sendable {
        /// Sequences of the batch.
        public let sequences: Range<Int>
        /// Whether their inputs are made (false: targets only, inputs never read here).
        public let inputs: Bool

        public init(sequences: Range<Int>, inputs: Bool) {
            self.sequences = sequences
            self.inputs = inputs
        }
    }

    public let parts: [Part]

    /// The parts of a batch of `batch` sequences cut into `shards` shards, made by `threads`
    /// workers at once (1: in one go), in a process that computes its rank's shards of
    /// `distribution` (nil: all of them).
    public init(batch: Int, independent: Bool, threads: Int, shards: Int, distribution: (any ShardDistribution)?) {
        guard independent else {
            parts = [Part(sequences: 0..<batch, inputs: true)]
            return
        }
        guard let distribution else {
            parts = ShardedComputation.shards(batch: batch, count: threads).map { Part(sequences: $0, inputs: true) }
            return
        }
        let ranges = ShardedComputation.shards(batch: batch, count: shards), own = distribution.ownShards(of: ranges.count)
        // Own shards cut further so that each of the threads has a part to make.
        let pieces = (threads + own.count - 1) / Swift.max(1, own.count)
        parts = ranges.enumerated().flatMap { index, shard -> [Part] in
            guard own.contains(index) else { return [Part(sequences: shard, inputs: false)] }
            return ShardedComputation.shards(batch: shard.count, count: pieces).map {
                Part(sequences: (shard.lowerBound + $0.lowerBound)..<(shard.lowerBound + $0.upperBound), inputs: true)
            }
        }
    }

    /// The jobs that make the batch of `indices` part by part: `make` makes sequences whole,
    /// `targetsOnly` with their targets alone (nil: the data set cannot, and they are made whole).
    public func jobs(indices: [Int], make: @escaping ([Int]) throws -> SequenceBatch<Float>,
                     targetsOnly: @escaping ([Int]) throws -> SequenceBatch<Float>?) -> [() throws -> SequenceBatch<Float>] {
        parts.map { part in
            let slice = Array(indices[part.sequences])
            return part.inputs ? { try make(slice) } : { try targetsOnly(slice) ?? make(slice) }
        }
    }

    /// The parts made, put together.
    public static func assemble(_ made: [SequenceBatch<Float>]) -> SequenceBatch<Float> {
        made.count == 1 ? made[0] : SequenceBatch.concatenating(made)
    }
}
