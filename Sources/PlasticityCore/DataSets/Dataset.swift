import PlasticityBase
import PlasticityEngine
import PlasticityIO

/// Which part of a dataset.
public enum Split: String, Sendable, Codable {
    case training, test
}


/// A source of labelled or target sequences. Implement it to train on your own data: the
/// trainer asks only for batches by index, so data can be generated, read or streamed.
public protocol SequenceDataset {
    var name: String { get }
    var inputCount: Int { get }
    var outputCount: Int { get }
    /// Time steps per sequence.
    var steps: Int { get }
    func count(_ split: Split) -> Int
    /// The sequences `indices` of `split`, deterministic for the same indices.
    func batch<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T>
    /// How well `readouts` (T×B×C) solve the batch: for classification the fraction of
    /// sequences whose decision is right; nil for regression.
    func accuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double?
}

extension SequenceDataset {
    /// Classification accuracy by the readout summed over the steps the loss weighs (the
    /// recall window, or every step), for cross-entropy losses.
    public func summedReadoutAccuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double? {
        let loss = batch.loss
        guard loss.kind != .meanSquaredError else { return nil }
        let outputs = loss.outputs
        var correct = 0
        for b in 0..<batch.batch {
            var sums = [Double](repeating: 0, count: outputs)
            for t in 0..<batch.steps where loss.weight(step: t, sequence: b) != 0 {
                for c in 0..<outputs { sums[c] += Double(readouts[(t * batch.batch + b) * outputs + c]) }
            }
            let decision = sums.indices.max { sums[$0] < sums[$1] }!
            if decision == loss.label(sequence: b, step: batch.steps - 1) { correct += 1 }
        }
        return Double(correct) / Double(batch.batch)
    }
}
