import PlasticityBase

/// Computes one batch's loss and gradients with a chosen rule.
public enum GradientComputation {
    /// - Parameters:
    ///   - inputs: x, T×B×I (time-major).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public static func run<T: KernelScalar>(rule: LearningRuleKind, network: Network, parameters: ParameterSet<T>, inputs: [T],
                                            steps: Int, batch: Int, loss: Loss<T>, options: RuleOptions = .init()) throws -> GradientResult<T> {
        try check(inputs: inputs, steps: steps, batch: batch, loss: loss, network: network)
        return try GradientWorkspace<T>().run(rule: rule, network: network, parameters: parameters, inputs: inputs, steps: steps, batch: batch,
                                              loss: loss, options: options)
    }

    /// Inputs and loss shaped for the network and each other, at least one step, every input
    /// finite (else the error names its step, sequence and channel).
    static func check<T: KernelScalar>(inputs: [T], steps: Int, batch: Int, loss: Loss<T>, network: Network) throws {
        let width = network.inputs
        guard inputs.count == steps * batch * width else {
            throw PlasticityError.shapeMismatch(name: "inputs", expected: "\(steps)×\(batch)×\(width)", found: "\(inputs.count) values")
        }
        guard loss.steps == steps, loss.batch == batch, loss.outputs == network.outputs else {
            throw PlasticityError.invalidConfiguration("the loss is for \(loss.steps) steps × \(loss.batch) sequences × \(loss.outputs) outputs, the data for \(steps) × \(batch) × \(network.outputs)")
        }
        guard steps > 0, batch > 0 else { throw PlasticityError.invalidConfiguration("a batch needs at least one sequence of at least one step") }
        try checkFinite(inputs, batch: batch, width: width)
    }

    private static func checkFinite<T: KernelScalar>(_ inputs: [T], batch: Int, width: Int) throws {
        // Every batch's inputs pass through here, on the thread the workers wait for.
        guard !inputs.withUnsafeBufferPointer({ ScalarLoops.allFinite($0) }), let bad = inputs.firstIndex(where: { !$0.isFinite }) else { return }
        let (t, rest) = bad.quotientAndRemainder(dividingBy: batch * width)
        throw PlasticityError.nonFinite(quantity: "input x[t=\(t), b=\(rest / width), i=\(rest % width)]", value: "\(inputs[bad])",
                                        location: "time step \(t)")
    }

    /// Drives an online rule through whole sequences.
    static func runOnline<Rule: OnlineRule>(_ rule: Rule, _ inputs: [Rule.Scalar], _ steps: Int, _ loss: Loss<Rule.Scalar>,
                                            recordReadouts: Bool) throws -> GradientResult<Rule.Scalar> {
        let forward = rule.forward
        let driver = SequenceDriver(forward: forward, loss: loss)
        forward.reset()
        rule.resetTraces()
        let outcome = try inputs.withUnsafeBufferPointer { x in
            try driver.run(inputs: x.baseAddress!, steps: 0..<steps, recordReadouts: recordReadouts) { _, delta in rule.learn(delta: delta) }
        }
        if loss.isDeferred { rule.finishDeferred(delta: driver.delta.pointer) }
        return GradientResult(loss: outcome.loss, gradients: rule.takeGradients(), spikeCount: outcome.spikes,
                              storageBytes: rule.storageBytes + forward.bytes + forward.parameters.bytes, readouts: outcome.readouts,
                              neuronSpikes: outcome.neuronSpikes)
    }
}
