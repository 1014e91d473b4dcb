/// Computes one batch's loss and gradients with a chosen rule.
public enum GradientComputation {
    /// - Parameters:
    ///   - inputs: x, T×B×I (time-major).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public static func run<T: KernelScalar>(rule: LearningRuleKind, network: Network, parameters: ParameterSet<T>, inputs: [T],
                                            steps: Int, batch: Int, loss: Loss<T>, options: RuleOptions = .init()) throws -> GradientResult<T> {
        let shape = network.shape
        guard inputs.count == steps * batch * shape.inputs else {
            throw PlasticityError.shapeMismatch(name: "inputs", expected: "\(steps)×\(batch)×\(shape.inputs)", found: "\(inputs.count) values")
        }
        guard loss.steps == steps, loss.batch == batch, loss.outputs == shape.outputs else {
            throw PlasticityError.invalidConfiguration("the loss is for \(loss.steps) steps × \(loss.batch) sequences × \(loss.outputs) outputs, the data for \(steps) × \(batch) × \(shape.outputs)")
        }
        guard steps > 0 else { throw PlasticityError.invalidConfiguration("a sequence needs at least one step") }
        switch rule {
        case .bptt:
            let bptt = try BPTT(network: network, parameters: parameters, batch: batch, options: options)
            return try bptt.run(inputs: inputs, steps: steps, loss: loss)
        case .eprop:
            return runOnline(try EProp(network: network, parameters: parameters, batch: batch, options: options, deferred: loss.isDeferred), inputs, steps, loss)
        case .rtrl:
            return runOnline(try RTRL(network: network, parameters: parameters, batch: batch, options: options, deferred: loss.isDeferred), inputs, steps, loss)
        case .denseEprop:
            return runOnline(try DenseEProp(network: network, parameters: parameters, batch: batch, options: options, deferred: loss.isDeferred), inputs, steps, loss)
        }
    }

    /// Drives an online rule through whole sequences.
    static func runOnline<Rule: OnlineRule>(_ rule: Rule, _ inputs: [Rule.Scalar], _ steps: Int, _ loss: Loss<Rule.Scalar>) -> GradientResult<Rule.Scalar> {
        let forward = rule.forward
        let batch = forward.batch, outputs = forward.shape.outputs, stride = batch * forward.shape.inputs
        let delta = ScalarBuffer<Rule.Scalar>(count: batch * outputs)
        let summedReadout = ScalarBuffer<Rule.Scalar>(count: loss.isDeferred ? batch * outputs : 0)
        var total = 0.0
        var spikes = 0
        forward.reset()
        rule.resetTraces()
        inputs.withUnsafeBufferPointer { x in
            for t in 0..<steps {
                forward.step(input: x.baseAddress! + t * stride)
                spikes += forward.spike.array.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
                total += loss.stepSignal(t: t, readout: forward.readout.pointer, delta: delta.pointer)
                if loss.isDeferred {
                    for index in 0..<summedReadout.count { summedReadout[index] += forward.readout[index] }
                }
                rule.learn(delta: delta.pointer)
            }
        }
        if loss.isDeferred {
            total += loss.finalSignal(summedReadout: summedReadout.pointer, delta: delta.pointer)
            rule.finishDeferred(delta: delta.pointer)
        }
        return GradientResult(loss: total, gradients: rule.takeGradients(), spikeCount: spikes,
                              storageBytes: rule.storageBytes + forward.bytes + forward.parameters.bytes)
    }
}
