import Foundation
import PlasticityBase

/// A partial derivative the verifier checks: of F_row with respect to one of its arguments
/// (h_0 … h_{k−1}, z[t−1], I[t], then the parameter inputs θ_q), or of the spike argument f
/// with respect to h_column (then θ_q at column k + q).
public enum CheckedEntry: Hashable, Sendable {
    case update(row: Int, argument: Int)
    case spikeArgument(column: Int)
}

/// The outcome of checking one entry.
public struct EntryCheck: Sendable {
    public let entry: CheckedEntry
    public let name: String
    public let declared: EntryAnnotation
    /// The largest |declared − finite difference| over the samples (scaled by max(1, |FD|)).
    public let maximumError: Double
    /// Where the worst mismatch occurred, in words.
    public let worstCase: String
    /// Why the entry is not checked (a stopped gradient, a partial no rule gives), if it is not.
    public let skipped: String?
    public var passed: Bool { skipped != nil || maximumError <= JacobianVerifier.tolerance }
}

/// What the samples covered, for the report: a check is only as good as the states it saw.
public struct VerificationCoverage: Sendable {
    public let samples: Int
    public let trajectorySamples: Int
    public let randomSamples: Int
    /// Samples whose spike argument f is positive (at or above threshold).
    public let aboveThreshold: Int
    /// Samples right after a spike (z[t-1] = 1).
    public let afterSpike: Int
    /// The range of each state variable over the samples, by name.
    public let stateRanges: [(name: String, range: ClosedRange<Double>)]
    public let currentRange: ClosedRange<Double>

    /// One sentence.
    public var description: String {
        func format(_ range: ClosedRange<Double>) -> String { String(format: "[%.3g, %.3g]", range.lowerBound, range.upperBound) }
        return "\(samples) samples (\(trajectorySamples) on simulated trajectories, \(randomSamples) random states): \(aboveThreshold) at or above threshold, "
            + "\(afterSpike) right after a spike; " + (stateRanges.map { "\($0.name) in \(format($0.range))" } + ["I in \(format(currentRange))"]).joined(separator: ", ")
    }
}

/// Everything the verifier found for one model.
public struct VerificationReport: Sendable {
    public let model: String
    /// The parameter values checked, where they differ from the model's defaults.
    public let parameters: [String: Double]
    public let coverage: VerificationCoverage
    public let checks: [EntryCheck]
    /// A non-finite forward value, if any kernel produced one.
    public let nonFinite: String?
    /// A kernel that broke its calling contract (wrong element, unwritten output, changed input).
    public let contractViolation: String?
    public var passed: Bool { nonFinite == nil && contractViolation == nil && checks.allSatisfy(\.passed) }

    /// The first failure as a sentence naming the model, the entry and the mismatch.
    public var failure: String? {
        let at = parameters.isEmpty ? "" : " with " + parameters.keys.sorted().map { "\($0)=\(parameters[$0]!)" }.joined(separator: ", ")
        if let contractViolation { return "model \(name(at)): \(contractViolation)" }
        if let nonFinite { return "model \(name(at)): \(nonFinite)" }
        guard let check = checks.first(where: { !$0.passed }) else { return nil }
        return "model \(name(at)): entry \(check.name) is declared \(check.declared) but finite differences disagree by \(String(format: "%.3g", check.maximumError)) (\(check.worstCase))"
    }

    private func name(_ at: String) -> String { model + at }
}

/// How thoroughly to verify.
public struct VerificationOptions: Sendable, Hashable {
    /// Points checked: a quarter random states, the rest on simulated trajectories.
    public var samples: Int
    public var seed: UInt64
    /// Values a population gives parameter inputs (one per neuron, or one shared): the points
    /// take theirs from these instead of varying the parameter around its value.
    public var parameterData: [String: [Double]]
    public static let defaultSamples = 96
    public init(samples: Int = VerificationOptions.defaultSamples, seed: UInt64 = 7, parameterData: [String: [Double]] = [:]) {
        self.samples = samples
        self.seed = seed
        self.parameterData = parameterData
    }
}

/// Checks a model's Jacobian rules against central finite differences of its forward
/// functions in Double: declared zeros must be zero, constants must have their value,
/// varying rules must match; forward values must be finite; vectorised kernels must keep
/// their calling contract. Points come from simulated trajectories that cross threshold and
/// from random states (`VerificationSamples`); all of them are evaluated at once by compiled
/// kernels, so the C kernels are called as training calls them, for many neurons. Stopped
/// gradients (stopGradient in Swift, STOPPED in C) are held fixed or skipped, as declared.
public enum JacobianVerifier {
    /// |declared − FD| ≤ tolerance · max(1, |FD|), or within the difference's own rounding
    /// error (which grows with |F|: a state of 1e6 loses digits). Central differences in
    /// Double with a relative step of 1e-6 are accurate to ~1e-9 for smooth kernels.
    public static let tolerance = 1e-5

    /// - Parameter skipped: entries not held to finite differences, with the reason.
    public static func verify(_ neuron: CompiledNeuron, skipped: [CheckedEntry: String] = [:], options: VerificationOptions = .init(),
                              parameters: [String: Double] = [:]) -> VerificationReport {
        let k = neuron.stateCount
        let graph = neuron.graph
        let parameterNames = neuron.parameterInputs, p = parameterNames.count
        let argumentNames = neuron.stateNames.map { "\($0)[t-1]" } + ["z[t-1]", "I[t]"] + parameterNames
        // Each entry with its expression and the variable slot and output it differentiates.
        var entries: [(entry: CheckedEntry, name: String, expression: Sym, slot: Int, output: Int)] = []
        for i in 0..<k {
            for a in 0..<(k + 2 + p) {
                let expression: Sym = a < k ? neuron.stateJacobian[i][a] : a == k ? neuron.ownSpikeGain[i] : a == k + 1 ? neuron.currentGain[i] : neuron.parameterGain[i][a - k - 2]
                let slot = a < k + 2 ? a : neuron.parameterSlot(a - k - 2)
                entries.append((.update(row: i, argument: a), "∂\(neuron.stateNames[i])[t]/∂\(argumentNames[a])", expression, slot, i))
            }
        }
        for j in 0..<k { entries.append((.spikeArgument(column: j), "∂f/∂\(neuron.stateNames[j])[t]", neuron.spikeArgumentGradient[j], neuron.newStateSlot(j), k)) }
        for q in 0..<p {
            let gradient = graph.derivatives(of: [neuron.spikeArgument], withRespectTo: neuron.parameterSlot(q))[0]
            entries.append((.spikeArgument(column: k + q), "∂f/∂\(parameterNames[q])", gradient, neuron.parameterSlot(q), k))
        }
        let samples = VerificationSamples(neuron: neuron, options: options)
        let contractViolation = KernelContractCheck.firstViolation(in: neuron, at: samples)
        let forwardOutputs = neuron.update + [neuron.spikeArgument]
        let stopNodes = graph.nodes.indices.filter { (graph.primitive(of: $0) as? BuiltinOp) == .stopGradient }.map(graph.symbol)
        let checked = entries.filter { skipped[$0.entry] == nil }
        let values = samples.evaluate(forwardOutputs + stopNodes + checked.map(\.expression), of: neuron)
        let forward = Array(values[0..<forwardOutputs.count])
        let frozen = Array(values[forwardOutputs.count..<(forwardOutputs.count + stopNodes.count)])
        let declared = Array(values[(forwardOutputs.count + stopNodes.count)...])

        func describe(_ n: Int) -> String {
            func format(_ names: [String], _ slots: [Int]) -> String {
                zip(names, slots).map { "\($0)=\(String(format: "%.4g", samples.columns[$1][n]))" }.joined(separator: ", ")
            }
            var text = "h = (\(format(neuron.stateNames, Array(0..<k)))), z = \(String(format: "%.3g", samples.columns[k][n])), I = \(String(format: "%.3g", samples.columns[k + 1][n]))"
            if p > 0 { text += ", θ = (\(format(parameterNames, (0..<p).map(neuron.parameterSlot))))" }
            return text + ", \(samples.origins[n])"
        }
        var nonFinite: String?
        for (output, column) in forward.enumerated() {
            if let n = column.firstIndex(where: { !$0.isFinite }) {
                nonFinite = "its \(output < k ? "state update for \(neuron.stateNames[output])" : "spike argument") is \(column[n].isNaN ? "NaN" : "\(column[n])") at \(describe(n))"
                break
            }
        }
        // Central differences of F and f with respect to every variable the entries need,
        // all samples at once.
        var differences: [Int: [[(derivative: Double, noise: Double)]]] = [:]
        if nonFinite == nil {
            let perturbed = samples.kernel(forwardOutputs, of: neuron, frozen: stopNodes)
            for slot in Set(checked.map(\.slot)) {
                let point = samples.columns[slot]
                let step = point.map { 1e-6 * Swift.max(1, Swift.abs($0)) }
                let plus = samples.evaluate(perturbed, frozenValues: frozen, replacing: (slot, zip(point, step).map { $0 + $1 }))
                let minus = samples.evaluate(perturbed, frozenValues: frozen, replacing: (slot, zip(point, step).map { $0 - $1 }))
                // The difference's rounding error: a few hundred ulps of F, over the step.
                differences[slot] = zip(plus, minus).map { upper, lower in
                    (0..<samples.count).map { n -> (derivative: Double, noise: Double) in
                        let magnitude: Double = Swift.max(Swift.abs(upper[n]), Swift.abs(lower[n]))
                        return ((upper[n] - lower[n]) / (2 * step[n]), 1e-13 * magnitude / step[n])
                    }
                }
            }
        }
        let checks = entries.map { item -> EntryCheck in
            guard let index = checked.firstIndex(where: { $0.entry == item.entry }), let numeric = differences[item.slot]?[item.output] else {
                return EntryCheck(entry: item.entry, name: item.name, declared: EntryAnnotation(item.expression), maximumError: 0, worstCase: "", skipped: skipped[item.entry])
            }
            var worst = 0.0, worstCase = ""
            for n in 0..<samples.count {
                let value = declared[index][n], (difference, noise) = numeric[n]
                let error = value.isFinite && difference.isFinite ? Swift.abs(value - difference) / Swift.max(1, Swift.abs(difference), noise / tolerance) : .infinity
                if error > worst || (worstCase.isEmpty && error > tolerance) {
                    worst = error
                    worstCase = "declared \(String(format: "%.6g", value)), finite differences \(String(format: "%.6g", difference)) at \(describe(n))"
                }
            }
            return EntryCheck(entry: item.entry, name: item.name, declared: EntryAnnotation(item.expression), maximumError: worst, worstCase: worstCase, skipped: nil)
        }
        let spikeArgument = forward[k]
        let coverage = VerificationCoverage(
            samples: samples.count, trajectorySamples: samples.trajectoryCount, randomSamples: samples.randomCount,
            aboveThreshold: spikeArgument.filter { $0 > 0 }.count, afterSpike: samples.columns[k].filter { $0 == 1 }.count,
            stateRanges: (0..<k).map { (neuron.stateNames[$0], samples.columns[$0].min()!...samples.columns[$0].max()!) },
            currentRange: samples.columns[k + 1].min()!...samples.columns[k + 1].max()!)
        return VerificationReport(model: neuron.name, parameters: parameters, coverage: coverage, checks: checks, nonFinite: nonFinite,
                                  contractViolation: contractViolation)
    }
}
