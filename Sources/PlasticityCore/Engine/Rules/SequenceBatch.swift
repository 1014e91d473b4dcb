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

/// The largest batch of inputs a command makes: T×B×I values within 16 GiB of Float.
public enum BatchBounds {
    public static let maxValues = 4 << 30

    /// Throws, naming the sizes, unless `steps` × `batch` × `inputs` is positive and within
    /// `maxValues`: checked before a batch is allocated.
    public static func check(steps: Int, batch: Int, inputs: Int) throws {
        var total = 1, overflow = false
        for size in [steps, batch, inputs] {
            let product = total.multipliedReportingOverflow(by: Swift.max(0, size))
            (total, overflow) = (product.partialValue, overflow || product.overflow)
        }
        guard steps > 0, batch > 0, inputs > 0, !overflow, total <= maxValues else {
            throw PlasticityError.invalidConfiguration("a batch of \(batch) sequences of \(steps) steps × \(inputs) inputs is "
                                                       + (steps > 0 && batch > 0 && inputs > 0 ? "more than 16 GiB of inputs; use a smaller batch or shorter sequences" : "empty"))
        }
    }
}
