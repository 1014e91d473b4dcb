import PlasticityBase

/// The processes of a distributed job (MPI ranks, through the tool's run-time shim) sharing
/// each batch's shards: rank r computes shards r, r + size, r + 2·size, …; every rank receives
/// every shard's result and reduces them in shard order, exactly as one process does, so the
/// job's gradients are bit-identical to a single process's with the same shards.
public protocol ShardDistribution: AnyObject, Sendable {
    var rank: Int { get }
    var size: Int { get }
    /// How the ranks' results meet.
    var exchange: ShardExchange { get }
    /// Every rank's `contribution`, in rank order, on every rank (a collective: every rank
    /// calls it, in the same order).
    func allGather(_ contribution: [Double]) throws -> [[Double]]
    /// The element-wise sum of every rank's `values` (all of one length), on every rank, in an
    /// order the library chooses (a collective).
    func allReduceSum(_ values: [Double]) throws -> [Double]
}

/// How the ranks of a job combine their shards' results.
public enum ShardExchange: String, Sendable, CaseIterable, Codable {
    /// Every shard's result reaches every rank (`allGather`), which adds them in shard order:
    /// bit-identical to one process, but each rank receives every shard's gradients.
    case gather
    /// Each rank adds its own shards, and the ranks' sums are added by the library
    /// (`allReduceSum`, in Double): what each rank receives does not grow with the shards, and
    /// the results agree with one process's to rounding, not bit for bit.
    case sum
}

extension ShardDistribution {
    /// The shards of `count` this rank computes.
    public func ownShards(of count: Int) -> [Int] { Array(stride(from: rank, to: count, by: size)) }
}

/// One shard's result as numbers for the exchange: Float gradients and readouts, counts and
/// the loss are all exact in Double.
enum ShardResultCoding {
    /// A rank's contribution: 0 and its shards' results, or 1 and its error as UTF-8 bytes,
    /// so that every rank learns of a failure in the same collective instead of waiting.
    static func encode<T: KernelScalar>(_ results: Result<[(index: Int, result: GradientResult<T>)], Error>) -> [Double] {
        switch results {
        case .failure(let error):
            return [1] + "\(error)".utf8.map(Double.init)
        case .success(let shards):
            var values: [Double] = [0]
            for (index, result) in shards {
                values += [Double(index), result.loss, Double(result.spikeCount), Double(result.storageBytes), Double(result.neuronSpikes.count)]
                values += result.neuronSpikes.map(Double.init)
                values.append(Double(result.readouts.count))
                values += result.readouts.map { Double($0) }
                values += result.gradients.flattened.map { Double($0) }
            }
            return values
        }
    }

    /// Every shard's result, by shard index, from every rank's contribution; gradients take
    /// the names and sizes of `layout`. A rank's error is thrown, naming the rank.
    static func decode<T: KernelScalar>(_ contributions: [[Double]], layout: ParameterSet<T>, count: Int) throws -> [GradientResult<T>] {
        var results = [GradientResult<T>?](repeating: nil, count: count)
        for (rank, values) in contributions.enumerated() {
            guard let status = values.first else { throw PlasticityError.invalidConfiguration("rank \(rank) sent nothing") }
            if status == 1 {
                throw PlasticityError.distributedFailure(rank: rank, message: String(decoding: values.dropFirst().map { UInt8($0) }, as: UTF8.self))
            }
            var position = 1
            func take(_ n: Int) -> ArraySlice<Double> {
                defer { position += n }
                return values[position..<(position + n)]
            }
            while position < values.count {
                // As `encode` wrote it: index, loss, spikes, storage, the neurons' spike counts,
                // the readouts, the gradients.
                let header = Array(take(5))
                let neuronSpikes = take(Int(header[4])).map { Int($0) }
                let readouts = take(Int(take(1).first!)).map { T($0) }
                let gradients = ParameterSet<T>(layout.named.map { ($0.name, take($0.values.count).map { T($0) }) })
                results[Int(header[0])] = GradientResult(loss: header[1], gradients: gradients, spikeCount: Int(header[2]), storageBytes: Int(header[3]),
                                                         readouts: readouts, neuronSpikes: neuronSpikes)
            }
        }
        return try results.enumerated().map { index, result in
            guard let result else { throw PlasticityError.invalidConfiguration("no rank computed shard \(index)") }
            return result
        }
    }
}

/// The `.sum` exchange: a rank's own shards added in shard order, then every rank's sum added
/// by the library. Every rank sends one vector of the same length — a flag per rank (set by a
/// rank that failed, so that none waits for it), the loss, the spike counts, the readouts in
/// their place in the batch (zero elsewhere: the sum puts every shard's in place) and the
/// gradients.
enum ShardSum {
    static func reduce<T: KernelScalar>(_ computed: Result<[GradientResult<T>], Error>, own: [Int], ranges: [Range<Int>], steps: Int, batch: Int,
                                        outputs: Int?, neurons: Int, layout: ParameterSet<T>, distribution: any ShardDistribution) throws -> GradientResult<T> {
        let gradientCount = layout.named.map(\.values.count).reduce(0, +), readoutCount = outputs.map { steps * batch * $0 } ?? 0
        let size = distribution.size
        // Where each part starts.
        let loss = size, spikes = size + 1, neuronStart = size + 2, readoutStart = neuronStart + neurons, gradientStart = readoutStart + readoutCount
        var values = [Double](repeating: 0, count: gradientStart + gradientCount)
        switch computed {
        case .failure:
            values[distribution.rank] = 1
        case .success(let results):
            // Other ranks' shards' readouts are zeros here.
            var readouts = ranges.map { [Double](repeating: 0, count: steps * $0.count * (outputs ?? 0)) }
            for (index, result) in zip(own, results) {
                values[loss] += result.loss
                values[spikes] += Double(result.spikeCount)
                for (neuron, count) in result.neuronSpikes.enumerated() where neuron < neurons { values[neuronStart + neuron] += Double(count) }
                if outputs != nil, !result.readouts.isEmpty { readouts[index] = result.readouts.map { Double($0) } }
                for (offset, value) in result.gradients.flattened.enumerated() { values[gradientStart + offset] += Double(value) }
            }
            values.replaceSubrange(readoutStart..<gradientStart,
                                   with: timeMajorConcatenation(readouts, batches: ranges.map(\.count), steps: steps, width: outputs ?? 0))
        }
        let sums = try distribution.allReduceSum(values)
        if let failed = (0..<size).first(where: { sums[$0] != 0 }) {
            // The failing rank reports its own error; the others learn only that it failed.
            _ = try computed.get()
            throw PlasticityError.distributedFailure(rank: failed, message: "failed (its own output says why)")
        }
        var position = gradientStart
        let gradients = ParameterSet<T>(layout.named.map { tensor in
            defer { position += tensor.values.count }
            return (tensor.name, sums[position..<(position + tensor.values.count)].map { T($0) })
        })
        let readouts = sums[readoutStart..<gradientStart].map { T($0) }, neuronSpikes = sums[neuronStart..<readoutStart].map { Int($0) }
        return GradientResult(loss: sums[loss], gradients: gradients, spikeCount: Int(sums[spikes]), storageBytes: 0, readouts: readouts,
                              neuronSpikes: neuronSpikes)
    }
}
