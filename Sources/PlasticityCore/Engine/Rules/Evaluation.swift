import PlasticityBase

/// Forward-only evaluation of a batch: its loss, readouts (T×B×C) and the spikes emitted.
public enum Evaluation {
    @_specialize(exported: true, where T == Float)
    public static func run<T: KernelScalar>(network: Network, parameters: ParameterSet<T>, batch: SequenceBatch<T>) throws -> (loss: Double, readouts: [T], spikes: Int) {
        let forward = try ForwardPass(network: network, parameters: parameters, batch: batch.batch)
        let driver = SequenceDriver(forward: forward, loss: batch.loss)
        let outcome = try batch.inputs.withUnsafeBufferPointer { x in
            try driver.run(inputs: x.baseAddress!, steps: 0..<batch.steps, recordReadouts: true) { _, _ in }
        }
        return (outcome.loss, outcome.readouts, outcome.spikes)
    }
}
