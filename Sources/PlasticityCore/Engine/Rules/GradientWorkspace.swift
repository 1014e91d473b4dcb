import PlasticityBase

/// One worker's learning rules, each built for its first batch and reused for every later
/// batch of the same shape and options (two shapes are kept: a batch cut into shards of two
/// sizes alternates between them): traces, influence matrices, BPTT's records and the forward
/// pass's buffers are allocated — and their pages touched — once instead of per batch, which at
/// the short sequences people train on (T ≈ 100) was a third of e-prop's time per batch
/// (Documentation/Benchmarks.md). A reused rule gives bit-identical results: every run starts
/// from the reset state, loads the weights and the spike error anew, and taking the gradients
/// zeroes the accumulators. Not thread-safe: one workspace per worker.
final class GradientWorkspace<T: KernelScalar> {
    private enum Built {
        case bptt(BPTT<T>)
        case eprop(EProp<T>)
        case rtrl(RTRL<T>)
        case denseEprop(DenseEProp<T>)

        var forward: ForwardPass<T> {
            switch self {
            case .bptt(let rule): return rule.forward
            case .eprop(let rule): return rule.forward
            case .rtrl(let rule): return rule.forward
            case .denseEprop(let rule): return rule.forward
            }
        }

        var spikeErrors: [ScalarBuffer<T>]? {
            switch self {
            case .bptt(let rule): return rule.spikeErrors
            case .eprop(let rule): return rule.spikeErrors
            case .rtrl(let rule): return rule.state.spikeErrors
            case .denseEprop(let rule): return rule.state.spikeErrors
            }
        }
    }

    /// What a built rule depends on besides the weights and the spike error's values.
    private struct Key: Equatable {
        let rule: LearningRuleKind
        let network: ObjectIdentifier
        let batch: Int, steps: Int
        let deferred: Bool
        let feedback: Feedback
        let deepFeedback: DeepFeedback
        let smoothSpikes: Bool
        let checkpointInterval: Int?
        let spikeError: Bool

        init(rule: LearningRuleKind, network: Network, batch: Int, steps: Int, deferred: Bool, options: RuleOptions) {
            self.rule = rule
            self.network = ObjectIdentifier(network)
            self.batch = batch
            self.steps = steps
            self.deferred = deferred
            feedback = options.feedback
            deepFeedback = options.deepFeedback
            if case .smooth = options.spikes { smoothSpikes = true } else { smoothSpikes = false }
            checkpointInterval = options.checkpointInterval
            spikeError = options.spikeError != nil
        }
    }

    /// The rules kept, the most recently used last.
    private var built: [(key: Key, rule: Built)] = []
    private static var kept: Int { 2 }

    /// One batch's loss and gradients with `rule`; inputs x are T×B×I (time-major), already
    /// checked (`GradientComputation.check`).
    func run(rule kind: LearningRuleKind, network: Network, parameters: ParameterSet<T>, inputs: [T],
             steps: Int, batch: Int, loss: Loss<T>, options: RuleOptions) throws -> GradientResult<T> {
        let key = Key(rule: kind, network: network, batch: batch, steps: steps, deferred: loss.isDeferred, options: options)
        let rule: Built
        if let index = built.firstIndex(where: { $0.key == key }) {
            rule = built.remove(at: index).rule
            try rule.forward.setParameters(parameters)
            if let errors = options.spikeError, let buffers = rule.spikeErrors { try SpikeErrors.write(errors, into: buffers, network: network) }
        } else {
            // The least recently used rule's buffers go before the new ones are allocated.
            if built.count == Self.kept { built.removeFirst() }
            rule = try Self.build(kind, network: network, parameters: parameters, batch: batch, steps: steps, deferred: loss.isDeferred, options: options)
        }
        built.append((key, rule))
        switch rule {
        case .bptt(let bptt): return try bptt.run(inputs: inputs, steps: steps, loss: loss, recordReadouts: options.recordReadouts)
        case .eprop(let eprop): return try GradientComputation.runOnline(eprop, inputs, steps, loss, recordReadouts: options.recordReadouts)
        case .rtrl(let rtrl): return try GradientComputation.runOnline(rtrl, inputs, steps, loss, recordReadouts: options.recordReadouts)
        case .denseEprop(let dense): return try GradientComputation.runOnline(dense, inputs, steps, loss, recordReadouts: options.recordReadouts)
        }
    }

    private static func build(_ kind: LearningRuleKind, network: Network, parameters: ParameterSet<T>, batch: Int, steps: Int, deferred: Bool,
                              options: RuleOptions) throws -> Built {
        switch kind {
        case .bptt: return .bptt(try BPTT(network: network, parameters: parameters, batch: batch, options: options))
        case .eprop: return .eprop(try EProp(network: network, parameters: parameters, batch: batch, options: options, deferredSteps: deferred ? steps : nil))
        case .rtrl: return .rtrl(try RTRL(network: network, parameters: parameters, batch: batch, options: options, deferred: deferred))
        case .denseEprop: return .denseEprop(try DenseEProp(network: network, parameters: parameters, batch: batch, options: options, deferred: deferred))
        }
    }
}

/// One `GradientWorkspace` per worker of `ShardedComputation`, kept across batches: a worker
/// runs its shards one after another with the same rule, whose buffers stay in cache (a
/// workspace per shard would hold shards × the memory and run slower whenever there are fewer
/// threads than shards).
public final class ShardWorkspaces<T: KernelScalar> {
    private var workspaces: [GradientWorkspace<T>] = []

    public init() {}

    /// Workspaces for workers 0..<count (made on first use).
    func prepare(count: Int) -> [GradientWorkspace<T>] {
        while workspaces.count < count { workspaces.append(GradientWorkspace()) }
        return Array(workspaces.prefix(count))
    }
}
