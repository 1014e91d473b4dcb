import PlasticityBase

/// The learning rules, all built from a model's annotated blocks.
public enum LearningRuleKind: String, CaseIterable, Sendable, Codable {
    /// Eligibility propagation with sparse, annotation-driven traces (online, memory flat in T).
    case eprop
    /// e-prop with every block materialised densely and contracted by matrix products.
    case denseEprop = "dense-eprop"
    /// Real-time recurrent learning: exact forward-mode influence matrices (online).
    case rtrl
    /// Backpropagation through time: exact reverse mode over stored or recomputed states.
    case bptt

    /// Whether the rule's memory is independent of the sequence length.
    public var isOnline: Bool { self != .bptt }
}

/// Where e-prop's learning signal L_t = δ_t F comes from.
public enum Feedback: Sendable, Equatable, Codable {
    /// F = W_out: the symmetric e-prop learning signal.
    case symmetric
    /// A fixed random C×N matrix (random e-prop), drawn from a seed.
    case random(seed: UInt64)
}

/// Options shared by every rule.
public struct RuleOptions: Sendable {
    public var feedback: Feedback
    /// e-prop and dense e-prop: the learning signal of populations the readout does not read.
    public var deepFeedback: DeepFeedback
    public var spikes: ExpressionGraph.SpikeMode
    /// BPTT only: store every k-th state and recompute the rest (nil: store every step).
    public var checkpointInterval: Int?
    /// Keep y_t of every step in the result (for accuracy).
    public var recordReadouts: Bool
    /// A direct error on each neuron's spikes, ∂E/∂z_t^j, the same at every step (one value
    /// per neuron of every population, in step order): how the firing-rate regulariser enters
    /// every rule.
    public var spikeError: [Double]?

    public init(feedback: Feedback = .symmetric, deepFeedback: DeepFeedback = .standard, spikes: ExpressionGraph.SpikeMode = .heaviside, checkpointInterval: Int? = nil,
                recordReadouts: Bool = false, spikeError: [Double]? = nil) {
        self.feedback = feedback
        self.deepFeedback = deepFeedback
        self.spikes = spikes
        self.checkpointInterval = checkpointInterval
        self.recordReadouts = recordReadouts
        self.spikeError = spikeError
    }
}

/// One batch's loss and gradients, and what the computation held.
public struct GradientResult<T: KernelScalar> {
    public var loss: Double
    public var gradients: ParameterSet<T>
    /// Spikes emitted over the batch and sequence.
    public var spikeCount: Int
    /// Bytes of every buffer the computation held at its peak: the forward pass's state and
    /// blocks, the rule's traces, influence matrices or stored states, gradient accumulators
    /// and the weights.
    public var storageBytes: Int
    /// y_t for every step (T×B×C) if `RuleOptions.recordReadouts`, otherwise empty.
    public var readouts: [T] = []
    /// Spikes per neuron (every population, in step order) over the batch and sequence.
    public var neuronSpikes: [Int] = []

    /// Spikes per neuron and step, averaged over the batch.
    public func firingRates(steps: Int, batch: Int) -> [Double] {
        neuronSpikes.map { Double($0) / Double(steps * batch) }
    }

    /// Throws, naming the quantity and `location`, if the loss or a gradient is NaN or infinite:
    /// a result no one should save or apply.
    public func checkFinite(location: String) throws {
        guard loss.isFinite else { throw PlasticityError.nonFinite(quantity: "the loss", value: "\(loss)", location: location) }
        if let bad = gradients.firstNonFiniteTensor { throw PlasticityError.nonFinite(quantity: "the gradient of \(bad)", value: "NaN or infinity", location: location) }
    }
}

/// A rule that learns while the sequence runs: after each forward step it updates its traces
/// and accumulates gradients with that step's error signal δ_t = ∂E/∂y_t (B×C).
protocol OnlineRule<Scalar>: AnyObject {
    associatedtype Scalar: KernelScalar
    var forward: ForwardPass<Scalar> { get }
    /// Zeroes traces and filters (not gradients) for new sequences.
    func resetTraces()
    /// Updates traces from the forward pass's current step and accumulates gradients.
    func learn(delta: UnsafePointer<Scalar>)
    /// For deferred losses: applies the final error signal to the accumulated traces.
    func finishDeferred(delta: UnsafePointer<Scalar>)
    /// Gradients accumulated since the last `takeGradients`, which zeroes them.
    func takeGradients() -> ParameterSet<Scalar>
    /// Bytes of the rule's own traces and accumulators.
    var storageBytes: Int { get }
}
