import PlasticityBase
import PlasticityEngine

/// Which validation measure chooses the best epoch.
public enum SelectionMetric: String, CaseIterable, Sendable, Codable {
    /// Highest validation accuracy (the loss for tasks without accuracy).
    case accuracy
    /// Lowest validation loss.
    case loss
}

/// The training split's samples divided into those trained on and those held out for
/// validation: a shuffle fixed by the seed, the first `fraction` held out.
public struct ValidationSplit: Sendable, Equatable {
    /// Sample indices of the training split, ascending.
    public let training: [Int]
    public let validation: [Int]

    public init(count: Int, fraction: Double, seed: UInt64) throws {
        guard fraction.isFinite, fraction >= 0, fraction < 1 else {
            throw PlasticityError.invalidConfiguration("the validation fraction must be in [0, 1), got \(fraction)")
        }
        let held = Int((Double(count) * fraction).rounded())
        guard fraction == 0 || (held >= 1 && held < count) else {
            throw PlasticityError.invalidConfiguration("a validation fraction of \(fraction) holds out \(held) of \(count) training samples; it must keep at least one on each side")
        }
        // A stream of its own, so that the split does not move when the batch order's does.
        var generator = SeededGenerator(seed: seed ^ 0x5A17_DA7A_0000_0001)
        let order = Array(0..<count).shuffled(using: &generator)
        validation = order[..<held].sorted()
        training = order[held...].sorted()
    }
}

/// The epoch with the best validation score so far, with its weights.
public struct BestEpoch: Codable, Equatable {
    /// 1-based, as `EpochMetrics.epoch`.
    public let epoch: Int
    /// Higher is better: the accuracy, or the negated loss.
    public let score: Double
    public let parameters: ParameterSet<Float>
}

/// The test split evaluated once a run with validation ends: with the best weights and the last.
public struct FinalTest: Codable, Equatable, Sendable {
    public let bestEpoch: Int
    public let bestLoss: Double
    public let bestAccuracy: Double?
    public let lastLoss: Double
    public let lastAccuracy: Double?
}

extension SelectionMetric {
    /// The score of a validation result (higher is better).
    func score(loss: Double, accuracy: Double?) -> Double {
        switch self {
        case .accuracy: return accuracy ?? -loss
        case .loss: return -loss
        }
    }
}
