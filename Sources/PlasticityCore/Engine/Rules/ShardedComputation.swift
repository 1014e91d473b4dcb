import Foundation
import PlasticityBase

/// Data parallelism over threads: a batch is cut into shards — a fixed partition of its
/// sequences that depends only on the batch size and the shard count — each shard runs the
/// rule (or the forward pass) with buffers of its own on one of `threads` workers, and the
/// results are reduced in shard order. Losses are normalised by the whole batch
/// (`Loss.sequences`), so the shards' losses and gradients add up to the batch's, and the
/// result is bit-identical for any number of threads. More shards let more threads work but
/// give each a smaller batch, which costs per sequence (a rule's fixed cost per step is paid
/// per shard): Benchmarks.md measures it.
public enum ShardedComputation {
    /// Shards per batch unless chosen: enough for a workstation's worth of threads at a
    /// small cost per sequence.
    public static let defaultShards = 4

    /// Sequences per shard at most under the forward rules' default (`defaultShards(rule:batch:)`).
    public static let forwardShardSequences = 4

    /// The shard count `rule` runs a batch of `batch` with unless one is chosen. BPTT pays a
    /// fixed cost per shard (its weight gradients are transposed and reduced per shard), so
    /// it keeps `defaultShards`. The forward rules (e-prop, dense e-prop, RTRL) carry state per
    /// synapse and sequence through every step and pay almost nothing per shard, so their
    /// shards hold at most `forwardShardSequences` sequences, in a multiple of
    /// `defaultShards` so that 2 or 4 workers share them evenly: at SHD's shape (ALIF 256
    /// with W_rec, B = 32) e-prop's per-synapse values of four sequences stay in a core's L2
    /// cache where eight do not (Documentation/Scaling.md). It depends on the rule and the
    /// batch only, never on the machine, so a run gives the same numbers everywhere.
    public static func defaultShards(rule: LearningRuleKind, batch: Int) -> Int {
        switch rule {
        case .bptt:
            return defaultShards
        case .eprop, .denseEprop, .rtrl:
            let perGroup = defaultShards * forwardShardSequences
            return Swift.min(Swift.max(1, batch), defaultShards * Swift.max(1, (batch + perGroup - 1) / perGroup))
        }
    }

    /// The fixed partition of `batch` sequences: min(batch, `count`) contiguous ranges whose
    /// sizes differ by at most one.
    public static func shards(batch: Int, count: Int) -> [Range<Int>] {
        let count = Swift.max(1, Swift.min(batch, count))
        return (0..<count).map { index in (index * batch / count)..<((index + 1) * batch / count) }
    }

    /// The threads worth using on this machine: one per active core.
    public static var availableThreads: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// One batch's loss and gradients with `rule`, sharded over `threads` workers. With
    /// `workspaces` each shard reuses the rule it built for earlier batches. With a
    /// `distribution` this process computes its rank's shards and receives the others'.
    /// `alongside` runs on one of the workers too (`perform`).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public static func gradients<T: KernelScalar>(rule: LearningRuleKind, network: Network, parameters: ParameterSet<T>, batch: SequenceBatch<T>,
                                                  options: RuleOptions = .init(), shards: Int = defaultShards, threads: Int,
                                                  workspaces: ShardWorkspaces<T> = .init(), distribution: (any ShardDistribution)? = nil,
                                                  alongside: [() -> Void] = []) throws -> GradientResult<T> {
        // Checked whole, so that an error names the sequence in the batch.
        try GradientComputation.check(inputs: batch.inputs, steps: batch.steps, batch: batch.batch, loss: batch.loss, network: network)
        let ranges = Self.shards(batch: batch.batch, count: shards)
        let own = distribution?.ownShards(of: ranges.count) ?? Array(ranges.indices)
        let workers = workspaces.prepare(count: workerCount(own.count + alongside.count, threads: threads))
        let computed = Result {
            try perform(own.count, threads: threads, alongside: alongside) { position, worker in
                let index = own[position], shard = batch.sequences(ranges[index])
                do {
                    return try workers[worker].run(rule: rule, network: network, parameters: parameters, inputs: shard.inputs, steps: shard.steps,
                                                  batch: shard.batch, loss: shard.loss, options: options)
                } catch PlasticityError.nonFinite(let quantity, let value, let location) {
                    throw PlasticityError.nonFinite(quantity: quantity, value: value, location: "\(location) of sequences \(ranges[index].lowerBound)..<\(ranges[index].upperBound)")
                }
            }
        }
        if let distribution, distribution.exchange == .sum {
            var summed = try ShardSum.reduce(computed, own: own, ranges: ranges, steps: batch.steps, batch: batch.batch,
                                              outputs: options.recordReadouts ? network.outputs : nil, neurons: network.neuronCount,
                                              layout: parameters, distribution: distribution)
            summed.storageBytes = try computed.get().map(\.storageBytes).sorted(by: >).prefix(Swift.max(1, threads)).reduce(0, +)
            return summed
        }
        let results = try everyShard(computed, own: own, count: ranges.count, layout: parameters, distribution: distribution)
        var gradients = results[0].gradients
        for result in results.dropFirst() { gradients.add(result.gradients) }
        var neuronSpikes = results[0].neuronSpikes
        for result in results.dropFirst() { for index in neuronSpikes.indices { neuronSpikes[index] += result.neuronSpikes[index] } }
        // Peak memory: the largest shards, as many as run at once (in one process).
        let concurrent = own.map { results[$0].storageBytes }.sorted(by: >).prefix(Swift.max(1, threads)).reduce(0, +)
        return GradientResult(loss: results.map(\.loss).reduce(0, +), gradients: gradients, spikeCount: results.map(\.spikeCount).reduce(0, +),
                              storageBytes: concurrent, readouts: merge(results.map(\.readouts), ranges: ranges, steps: batch.steps),
                              neuronSpikes: neuronSpikes)
    }

    /// The loss and readouts (T×B×C) of a forward pass, sharded over `threads` workers (and,
    /// with a `distribution`, over its ranks).
    @_specialize(exported: true, where T == Float)
    public static func evaluate<T: KernelScalar>(network: Network, parameters: ParameterSet<T>, batch: SequenceBatch<T>, shards: Int = defaultShards,
                                                 threads: Int, distribution: (any ShardDistribution)? = nil,
                                                 alongside: [() -> Void] = []) throws -> (loss: Double, readouts: [T]) {
        try GradientComputation.check(inputs: batch.inputs, steps: batch.steps, batch: batch.batch, loss: batch.loss, network: network)
        let ranges = Self.shards(batch: batch.batch, count: shards)
        let own = distribution?.ownShards(of: ranges.count) ?? Array(ranges.indices)
        // As results without gradients, to share the gradients' exchange.
        let computed = Result {
            try perform(own.count, threads: threads, alongside: alongside) { position, _ in
                let outcome = try Evaluation.run(network: network, parameters: parameters, batch: batch.sequences(ranges[own[position]]))
                return GradientResult<T>(loss: outcome.loss, gradients: ParameterSet<T>([]), spikeCount: 0, storageBytes: 0, readouts: outcome.readouts)
            }
        }
        if let distribution, distribution.exchange == .sum {
            let summed = try ShardSum.reduce(computed, own: own, ranges: ranges, steps: batch.steps, batch: batch.batch, outputs: network.outputs,
                                             neurons: 0, layout: ParameterSet<T>([]), distribution: distribution)
            return (summed.loss, summed.readouts)
        }
        let results = try everyShard(computed, own: own, count: ranges.count, layout: ParameterSet<T>([]), distribution: distribution)
        return (results.map(\.loss).reduce(0, +), merge(results.map(\.readouts), ranges: ranges, steps: batch.steps))
    }

    /// Every shard's result in shard order: this process's `computed` results (of shards
    /// `own`), and with a `distribution` the other ranks' too — exchanged even when this
    /// process failed, so that no rank waits for it. Gradients have `layout`'s tensors.
    private static func everyShard<T: KernelScalar>(_ computed: Result<[GradientResult<T>], Error>, own: [Int], count: Int, layout: ParameterSet<T>,
                                                    distribution: (any ShardDistribution)?) throws -> [GradientResult<T>] {
        guard let distribution else { return try computed.get() }
        let contribution = ShardResultCoding.encode(computed.map { Array(zip(own, $0)).map { (index: $0.0, result: $0.1) } })
        return try ShardResultCoding.decode(try distribution.allGather(contribution), layout: layout, count: count)
    }

    /// Readouts of the shards (each T×B_s×C, in shard order) side by side as T×B×C; empty if
    /// not recorded.
    private static func merge<T: KernelScalar>(_ parts: [[T]], ranges: [Range<Int>], steps: Int) -> [T] {
        guard let first = parts.first, !first.isEmpty else { return [] }
        return timeMajorConcatenation(parts, batches: ranges.map(\.count), steps: steps, width: first.count / (steps * ranges[0].count))
    }

    /// Workers that `count` shards run on with `threads` threads.
    static func workerCount(_ count: Int, threads: Int) -> Int { Swift.max(1, Swift.min(threads, count)) }

    /// Runs `body(index, worker)` for indices 0..<count on up to `threads` workers, each taking
    /// the next index not yet taken, and returns the results in index order; the error of the
    /// lowest failing index is thrown. Taken, not dealt out in advance: a worker that the system
    /// interrupts (another process, the thread making the next batch) leaves its remaining
    /// shards to the others instead of making every one wait for it. Which worker ran a shard
    /// changes nothing in its result. `alongside` are more jobs taken the same way, after the
    /// shards, whose work the results do not depend on: the next batch being made (in parts), a
    /// checkpoint written. Taken last, they fill the time a worker that finished its shards early
    /// would otherwise wait for the others' (shards of equal size take unequal times).
    static func perform<R>(_ count: Int, threads: Int, alongside: [() -> Void] = [], _ body: (_ index: Int, _ worker: Int) throws -> R) throws -> [R] {
        let jobs = count + alongside.count
        let workers = workerCount(jobs, threads: threads)
        var results = [Result<R, Error>?](repeating: nil, count: count)
        if workers == 1 {
            for index in 0..<count { results[index] = Result { try body(index, 0) } }
            for job in alongside { job() }
        } else {
            let lock = NSLock()
            var next = 0
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                while true {
                    let job = lock.withLock {
                        defer { next += 1 }
                        return next
                    }
                    guard job < jobs else { return }
                    guard job < count else {
                        alongside[job - count]()
                        continue
                    }
                    let result = Result { try body(job, worker) }
                    lock.withLock { results[job] = result }
                }
            }
        }
        return try results.map { try $0!.get() }
    }
}

extension SequenceBatch {
    /// Sequences `range` of this batch, their loss normalised by the whole batch.
    public func sequences(_ range: Range<Int>) -> SequenceBatch {
        guard range != 0..<batch else { return self }
        let width = inputs.count / Swift.max(1, steps * batch)
        return SequenceBatch(inputs: timeMajorSequences(inputs, steps: steps, batch: batch, width: width, range: range), steps: steps, batch: range.count,
                             loss: loss.sequences(range))
    }
}

extension SequenceBatch {
    /// Whole batches side by side as one (their losses normalised by the total): a batch made
    /// in parts on several threads.
    @_specialize(exported: true, where T == Float)
    public static func concatenating(_ parts: [SequenceBatch]) -> SequenceBatch {
        let steps = parts[0].steps, batches = parts.map(\.batch)
        let width = parts[0].inputs.count / Swift.max(1, steps * parts[0].batch)
        return SequenceBatch(inputs: timeMajorConcatenation(parts.map(\.inputs), batches: batches, steps: steps, width: width), steps: steps,
                             batch: batches.reduce(0, +), loss: Loss.concatenating(parts.map(\.loss)))
    }
}

/// Time-major arrays (T × B_p × `width` each) side by side: T × ΣB_p × `width`.
func timeMajorConcatenation<V>(_ parts: [[V]], batches: [Int], steps: Int, width: Int) -> [V] {
    var joined: [V] = []
    joined.reserveCapacity(steps * batches.reduce(0, +) * width)
    for t in 0..<steps {
        for (part, batch) in zip(parts, batches) { joined.append(contentsOf: part[(t * batch * width)..<((t + 1) * batch * width)]) }
    }
    return joined
}

/// Sequences `range` of a time-major array (T × B × `width`): T × range.count × `width`.
func timeMajorSequences<V>(_ values: [V], steps: Int, batch: Int, width: Int, range: Range<Int>) -> [V] {
    var slice: [V] = []
    slice.reserveCapacity(steps * range.count * width)
    for t in 0..<steps { slice.append(contentsOf: values[((t * batch + range.lowerBound) * width)..<((t * batch + range.upperBound) * width)]) }
    return slice
}
