import PlasticityBase

/// Learns while the input streams in, one time step at a time, with e-prop, dense e-prop or
/// RTRL: it never holds the sequence. Gradients accumulate each step and the optimizer is
/// applied every `updateInterval` steps (the traces carry on across updates, as in online
/// e-prop).
public final class OnlineLearner<T: KernelScalar> {
    /// What the learner is told at each step.
    public enum Target {
        /// No error at this step (e.g. during a cue or delay period).
        case none
        /// Class labels (B), with a cross-entropy loss on softmax(y_t).
        case labels([Int])
        /// Target values (B×C), with ½‖y_t − y*_t‖².
        case values([T])
    }

    public private(set) var parameters: ParameterSet<T>
    public let updateInterval: Int
    public var learningRate: Double
    /// Sum of per-step losses since the last `reset`.
    public private(set) var loss = 0.0
    public private(set) var stepsTaken = 0
    public private(set) var updatesApplied = 0
    private var optimizer: any Optimizer<T>
    private let rule: any OnlineRule<T>
    private let delta: ScalarBuffer<T>

    public init(rule kind: LearningRuleKind, network: Network, parameters: ParameterSet<T>, batch: Int, optimizer: any Optimizer<T>,
                learningRate: Double, updateInterval: Int, options: RuleOptions = .init()) throws {
        guard updateInterval > 0 else { throw PlasticityError.invalidConfiguration("the update interval must be at least one step") }
        switch kind {
        case .eprop: rule = try EProp(network: network, parameters: parameters, batch: batch, options: options, deferredSteps: nil)
        case .rtrl: rule = try RTRL(network: network, parameters: parameters, batch: batch, options: options, deferred: false)
        case .denseEprop: rule = try DenseEProp(network: network, parameters: parameters, batch: batch, options: options, deferred: false)
        case .bptt: throw PlasticityError.invalidConfiguration("BPTT needs the whole sequence; online learning uses e-prop, dense e-prop or RTRL")
        }
        self.parameters = parameters
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.updateInterval = updateInterval
        delta = ScalarBuffer(count: batch * network.outputs)
        rule.forward.reset()
        rule.resetTraces()
    }

    /// Starts new sequences (weights and the optimizer state are kept).
    public func reset() {
        rule.forward.reset()
        rule.resetTraces()
        loss = 0
    }

    /// The readout y_t (B×C) after the last step.
    public var readout: [T] { rule.forward.readout.array }

    /// Consumes x_t (B×I) and the step's target; returns the step's loss.
    @discardableResult
    public func step(input: [T], target: Target) throws -> Double {
        let forward = rule.forward
        let batch = forward.batch, outputs = forward.outputs
        guard input.count == batch * forward.inputs else {
            throw PlasticityError.shapeMismatch(name: "input", expected: "\(batch)×\(forward.inputs)", found: "\(input.count) values")
        }
        input.withUnsafeBufferPointer { forward.step(input: $0.baseAddress!) }
        let stepLoss: Double
        switch target {
        case .none:
            delta.zero()
            stepLoss = 0
        case .labels(let labels):
            guard labels.count == batch, labels.allSatisfy({ (0..<outputs).contains($0) }) else {
                throw PlasticityError.shapeMismatch(name: "labels", expected: "\(batch) labels in 0..<\(outputs)", found: "\(labels)")
            }
            stepLoss = StepLoss.crossEntropy(forward.readout.pointer, batch: batch, normalization: batch, outputs: outputs, labelOf: { labels[$0] }, weight: { _ in 1 }, delta: delta.pointer)
        case .values(let values):
            guard values.count == batch * outputs else {
                throw PlasticityError.shapeMismatch(name: "target", expected: "\(batch)×\(outputs)", found: "\(values.count) values")
            }
            stepLoss = values.withUnsafeBufferPointer {
                StepLoss.squaredError(forward.readout.pointer, targets: $0.baseAddress!, batch: batch, normalization: batch, outputs: outputs, weight: { _ in 1 }, delta: delta.pointer)
            }
        }
        rule.learn(delta: delta.pointer)
        loss += stepLoss
        stepsTaken += 1
        if stepsTaken % updateInterval == 0 { try applyUpdate() }
        return stepLoss
    }

    private func applyUpdate() throws {
        let gradients = rule.takeGradients()
        if let bad = gradients.firstNonFiniteTensor {
            throw PlasticityError.invalidConfiguration("the gradient of \(bad) is not finite at step \(stepsTaken); nothing was updated")
        }
        let previous = parameters
        optimizer.update(&parameters, gradients: gradients, rate: learningRate)
        rule.forward.network.finishNeuronParameterUpdate(&parameters, previous: previous)
        try rule.forward.setParameters(parameters)
        updatesApplied += 1
    }
}
