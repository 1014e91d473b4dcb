import Foundation
import PlasticityBase

/// The losses a network can be trained on. E = (1/B) Σ_b Σ_t m_{t,b} ℓ_{t,b}.
public enum LossKind: String, CaseIterable, Sendable, Codable {
    /// Cross-entropy of softmax(y_t) against a label at every step (labels T×B, mask T×B).
    case crossEntropyEveryStep = "ce-every-step"
    /// Cross-entropy of softmax(y_T) at the last step (labels B).
    case crossEntropyLastStep = "ce-last-step"
    /// Cross-entropy of softmax(Σ_t y_t) (labels B). Its error signal is known only at the
    /// end of the sequence, so online rules accumulate their traces and apply it then.
    case crossEntropySummed = "ce-summed"
    /// ½ Σ_c (y_t − y*_t)² at every step (targets T×B×C, mask T×B).
    case meanSquaredError = "mse"
}

/// A loss with its targets for one batch of sequences.
public struct Loss<T: KernelScalar> {
    public let kind: LossKind
    public let steps: Int
    public let batch: Int
    public let outputs: Int
    let labels: [Int]
    let targets: [T]
    let mask: [T]?
    /// The B of E = (1/B) Σ_b …: this batch's size, or the whole batch's when this loss is a
    /// shard of it (`sequences(_:)`), so that the shards' losses and gradients add up to the
    /// whole batch's.
    public let normalization: Int

    /// - Parameters:
    ///   - labels: class labels, T×B for `crossEntropyEveryStep`, B for the other cross-entropies.
    ///   - targets: T×B×C values for `meanSquaredError`.
    ///   - mask: optional T×B weights for the per-step losses (0 ignores a step).
    public init(_ kind: LossKind, steps: Int, batch: Int, outputs: Int, labels: [Int] = [], targets: [T] = [], mask: [T]? = nil) throws {
        self.init(parts: kind, steps: steps, batch: batch, outputs: outputs, labels: labels, targets: targets, mask: mask, normalization: batch)
        switch kind {
        case .crossEntropyEveryStep:
            try Self.check("labels", labels.count, "\(steps)×\(batch)", steps * batch)
        case .crossEntropyLastStep, .crossEntropySummed:
            try Self.check("labels", labels.count, "\(batch)", batch)
        case .meanSquaredError:
            try Self.check("targets", targets.count, "\(steps)×\(batch)×\(outputs)", steps * batch * outputs)
        }
        if let label = labels.first(where: { $0 < 0 || $0 >= outputs }) {
            throw PlasticityError.invalidConfiguration("label \(label) is outside the \(outputs) readout classes")
        }
        if let mask {
            try Self.check("mask", mask.count, "\(steps)×\(batch)", steps * batch)
        }
    }

    /// A loss from parts known to be consistent (the public initialiser checks them; slices of
    /// a checked loss are consistent).
    private init(parts kind: LossKind, steps: Int, batch: Int, outputs: Int, labels: [Int], targets: [T], mask: [T]?, normalization: Int) {
        self.kind = kind
        self.steps = steps
        self.batch = batch
        self.outputs = outputs
        self.labels = labels
        self.targets = targets
        self.mask = mask
        self.normalization = normalization
    }

    /// The loss of sequences `range` of this batch, still normalised by the whole batch.
    public func sequences(_ range: Range<Int>) -> Loss {
        precondition(range.lowerBound >= 0 && range.upperBound <= batch && !range.isEmpty, "sequences \(range) of a batch of \(batch)")
        func perStep<V>(_ values: [V], width: Int) -> [V] { timeMajorSequences(values, steps: steps, batch: batch, width: width, range: range) }
        let labels: [Int]
        switch kind {
        case .crossEntropyEveryStep: labels = perStep(self.labels, width: 1)
        case .crossEntropyLastStep, .crossEntropySummed: labels = Array(self.labels[range])
        case .meanSquaredError: labels = []
        }
        return Loss(parts: kind, steps: steps, batch: range.count, outputs: outputs, labels: labels,
                    targets: kind == .meanSquaredError ? perStep(targets, width: outputs) : [],
                    mask: mask.map { perStep($0, width: 1) }, normalization: normalization)
    }

    /// The loss of whole batches `parts` (each normalised by its own size) side by side, as
    /// one batch normalised by their total: the inverse of cutting a batch with `sequences`.
    public static func concatenating(_ parts: [Loss]) -> Loss {
        let first = parts[0], batches = parts.map(\.batch)
        precondition(parts.allSatisfy { $0.kind == first.kind && $0.steps == first.steps && $0.outputs == first.outputs && $0.normalization == $0.batch
                                        && ($0.mask == nil) == (first.mask == nil) }, "parts of one batch")
        func perStep<V>(_ values: [[V]], width: Int) -> [V] { timeMajorConcatenation(values, batches: batches, steps: first.steps, width: width) }
        let labels: [Int]
        switch first.kind {
        case .crossEntropyEveryStep: labels = perStep(parts.map(\.labels), width: 1)
        case .crossEntropyLastStep, .crossEntropySummed: labels = parts.flatMap(\.labels)
        case .meanSquaredError: labels = []
        }
        let total = batches.reduce(0, +)
        return Loss(parts: first.kind, steps: first.steps, batch: total, outputs: first.outputs, labels: labels,
                    targets: first.kind == .meanSquaredError ? perStep(parts.map(\.targets), width: first.outputs) : [],
                    mask: first.mask == nil ? nil : perStep(parts.map { $0.mask! }, width: 1), normalization: total)
    }

    private static func check(_ name: String, _ count: Int, _ expected: String, _ expectedCount: Int) throws {
        guard count == expectedCount else {
            throw PlasticityError.shapeMismatch(name: name, expected: expected, found: "\(count) values")
        }
    }

    /// How much step t of sequence b counts: the mask, or whether the loss reads that step.
    public func weight(step t: Int, sequence b: Int) -> T {
        switch kind {
        case .crossEntropyLastStep: return t == steps - 1 ? 1 : 0
        case .crossEntropySummed: return 1
        case .crossEntropyEveryStep, .meanSquaredError: return mask?[t * batch + b] ?? 1
        }
    }

    /// Whether the loss reads step t of sequence b (`weight` ≠ 0), without arithmetic in T:
    /// per-batch accuracy loops reach it through a protocol, unspecialised.
    public func reads(step t: Int, sequence b: Int) -> Bool {
        switch kind {
        case .crossEntropyLastStep: return t == steps - 1
        case .crossEntropySummed: return true
        case .crossEntropyEveryStep, .meanSquaredError: return weight(step: t, sequence: b) != 0
        }
    }

    /// The class label of sequence b at step t (cross-entropy losses).
    public func label(sequence b: Int, step t: Int) -> Int {
        kind == .crossEntropyEveryStep ? labels[t * batch + b] : labels[b]
    }

    /// Whether the error signal is only known after the last step.
    public var isDeferred: Bool { kind == .crossEntropySummed }

    /// The loss contribution of step `t` given the readout y_t (B×C), writing
    /// δ_t = ∂E/∂y_t into `delta`. Zero (and δ = 0) at steps that do not contribute.
    func stepSignal(t: Int, readout y: UnsafePointer<T>, delta: UnsafeMutablePointer<T>) -> Double {
        delta.update(repeating: 0, count: batch * outputs)
        switch kind {
        case .crossEntropySummed:
            return 0
        case .crossEntropyLastStep:
            return t == steps - 1 ? StepLoss.crossEntropy(y, batch: batch, normalization: normalization, outputs: outputs, labelOf: { labels[$0] },
                                                          weight: { _ in 1 }, delta: delta) : 0
        case .crossEntropyEveryStep:
            return StepLoss.crossEntropy(y, batch: batch, normalization: normalization, outputs: outputs, labelOf: { labels[t * batch + $0] },
                                         weight: { mask?[t * batch + $0] ?? 1 }, delta: delta)
        case .meanSquaredError:
            return targets.withUnsafeBufferPointer { all in
                StepLoss.squaredError(y, targets: all.baseAddress! + t * batch * outputs, batch: batch, normalization: normalization, outputs: outputs,
                                      weight: { mask?[t * batch + $0] ?? 1 }, delta: delta)
            }
        }
    }

    /// For deferred losses: the loss and δ = ∂E/∂y_t (the same at every step) from Σ_t y_t.
    func finalSignal(summedReadout: UnsafePointer<T>, delta: UnsafeMutablePointer<T>) -> Double {
        StepLoss.crossEntropy(summedReadout, batch: batch, normalization: normalization, outputs: outputs, labelOf: { labels[$0] }, weight: { _ in 1 }, delta: delta)
    }
}

/// The per-step loss terms and their error signals δ = ∂E/∂y (averaged over the batch: divided
/// by `normalization`, the whole batch's size).
enum StepLoss {
    /// Σ_b w_b (−log softmax(y_b)[label_b]) / B.
    static func crossEntropy<T: KernelScalar>(_ y: UnsafePointer<T>, batch: Int, normalization: Int, outputs: Int, labelOf: (Int) -> Int, weight: (Int) -> T,
                                              delta: UnsafeMutablePointer<T>) -> Double {
        var loss = 0.0
        // Plain loops and scratch on the stack: this runs every step for every sequence. Each
        // exponential is taken once (they were a twentieth of LIF e-prop's step, taken twice).
        withUnsafeTemporaryAllocation(of: Double.self, capacity: outputs) { exponentials in
            for b in 0..<batch {
                let w = weight(b)
                guard w != 0 else { continue }
                let row = y.advanced(by: b * outputs)
                var largest = -Double.infinity
                for c in 0..<outputs { largest = Swift.max(largest, Double(row[c])) }
                var total = 0.0
                for c in 0..<outputs {
                    exponentials[c] = Foundation.exp(Double(row[c]) - largest)
                    total += exponentials[c]
                }
                let label = labelOf(b)
                loss += Double(w) * (Foundation.log(total) - (Double(row[label]) - largest))
                for c in 0..<outputs {
                    let probability = exponentials[c] / total
                    let value = w * (T(probability) - (c == label ? 1 : 0)) / T(normalization)
                    // A saturated softmax gives subnormal errors (p ~ 1e-40 in Float), and every
                    // product with a subnormal takes a slow microcode path: BPTT multiplies δ into
                    // W_outᵀ at every step, and ran 3–8× slower than its price on LIF networks with a
                    // summed readout. Flushed to zero, as XLA and most CPU frameworks do.
                    delta[b * outputs + c] = value.magnitude < T.leastNormalMagnitude ? 0 : value
                }
            }
        }
        return loss / Double(normalization)
    }

    /// Σ_b w_b ½‖y_b − y*_b‖² / B.
    static func squaredError<T: KernelScalar>(_ y: UnsafePointer<T>, targets: UnsafePointer<T>, batch: Int, normalization: Int, outputs: Int, weight: (Int) -> T,
                                              delta: UnsafeMutablePointer<T>) -> Double {
        var loss = 0.0
        for b in 0..<batch {
            let w = weight(b)
            guard w != 0 else { continue }
            for c in 0..<outputs {
                let error = y[b * outputs + c] - targets[b * outputs + c]
                loss += 0.5 * Double(w * error * error)
                delta[b * outputs + c] = w * error / T(normalization)
            }
        }
        return loss / Double(normalization)
    }
}
