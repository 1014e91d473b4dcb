import PlasticityBase

/// A batch of sequences with its loss, ready for a learning rule.
public struct SequenceBatch<T: KernelScalar> {
    /// x, T×B×I (time-major).
    public let inputs: [T]
    public let steps: Int
    public let batch: Int
    public let loss: Loss<T>

    public init(inputs: [T], steps: Int, batch: Int, loss: Loss<T>) {
        self.inputs = inputs
        self.steps = steps
        self.batch = batch
        self.loss = loss
    }
}
