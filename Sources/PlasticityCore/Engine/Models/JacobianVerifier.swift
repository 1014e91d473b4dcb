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
    public let skipped: Bool
    public var passed: Bool { skipped || maximumError <= JacobianVerifier.tolerance }
}

/// Everything the verifier found for one model.
public struct VerificationReport: Sendable {
    public let model: String
    public let samples: Int
    public let checks: [EntryCheck]
    /// A non-finite forward value, if any kernel produced one.
    public let nonFinite: String?
    public var passed: Bool { nonFinite == nil && checks.allSatisfy(\.passed) }

    /// The first failure as a sentence naming the model, the entry and the mismatch.
    public var failure: String? {
        if let nonFinite { return "model \(model): \(nonFinite)" }
        guard let check = checks.first(where: { !$0.passed }) else { return nil }
        return "model \(model): entry \(check.name) is declared \(check.declared) but finite differences disagree by \(String(format: "%.3g", check.maximumError)) (\(check.worstCase))"
    }
}

/// Checks a model's Jacobian rules against central finite differences of its forward
/// functions in Double, on random states: declared zeros must be zero, constants must have
/// their value, varying rules must match; forward values must be finite. Stopped gradients
/// (stopGradient in Swift, STOPPED in C) are held fixed or skipped, as declared.
public enum JacobianVerifier {
    /// |declared − FD| ≤ tolerance · max(1, |FD|). Central differences in Double with a
    /// relative step of 1e-6 are accurate to ~1e-9 for smooth kernels.
    public static let tolerance = 1e-5

    public static func verify(_ neuron: CompiledNeuron, stopped: Set<CheckedEntry> = [], samples: Int = 12, seed: UInt64 = 7) -> VerificationReport {
        let k = neuron.stateCount
        let graph = neuron.graph
        var generator = SeededGenerator(seed: seed)
        // Parameter inputs are checked at the model's values for them (its defaults unless set).
        let parameterNames = neuron.parameterInputs, p = parameterNames.count
        let theta = parameterNames.map { name in neuron.parameters.first { $0.name == name }!.value }
        let argumentNames = neuron.stateNames.map { "\($0)[t-1]" } + ["z[t-1]", "I[t]"] + parameterNames
        var entries: [(CheckedEntry, String, Sym)] = []
        for i in 0..<k {
            for a in 0..<(k + 2 + p) {
                let expression: Sym = a < k ? neuron.stateJacobian[i][a] : a == k ? neuron.ownSpikeGain[i] : a == k + 1 ? neuron.currentGain[i] : neuron.parameterGain[i][a - k - 2]
                entries.append((.update(row: i, argument: a), "∂\(neuron.stateNames[i])[t]/∂\(argumentNames[a])", expression))
            }
        }
        for j in 0..<k { entries.append((.spikeArgument(column: j), "∂f/∂\(neuron.stateNames[j])[t]", neuron.spikeArgumentGradient[j])) }
        for q in 0..<p {
            let gradient = graph.derivatives(of: [neuron.spikeArgument], withRespectTo: neuron.parameterSlot(q))[0]
            entries.append((.spikeArgument(column: k + q), "∂f/∂\(parameterNames[q])", gradient))
        }
        var worst = [Double](repeating: 0, count: entries.count)
        var worstCase = [String](repeating: "", count: entries.count)
        var nonFinite: String?

        for _ in 0..<samples {
            let state = neuron.initialState.map { $0 + Double.random(in: -1...1, using: &generator) * Swift.max(1, Swift.abs($0)) / 2 }
            let spike = Double.random(in: 0...1, using: &generator)
            let current = Double.random(in: -2...2, using: &generator)
            let point = state + [spike, current] + theta
            let variables = state + [spike, current] + state + theta
            let describe = "h = (\(state.map { String(format: "%.4g", $0) }.joined(separator: ", "))), z = \(String(format: "%.3g", spike)), I = \(String(format: "%.3g", current))"
            let frozen = graph.stopGradientValues(variables: variables)
            let forward = graph.evaluate(neuron.update + [neuron.spikeArgument], variables: variables, frozen: frozen)
            if let bad = forward.firstIndex(where: { !$0.isFinite }) {
                nonFinite = "its \(bad < k ? "state update for \(neuron.stateNames[bad])" : "spike argument") is \(forward[bad].isNaN ? "NaN" : "\(forward[bad])") at \(describe)"
                break
            }
            for (index, (entry, _, expression)) in entries.enumerated() where !stopped.contains(entry) {
                let declared = graph.evaluate([expression], variables: variables, frozen: frozen)[0]
                let numeric: Double
                switch entry {
                case .update(let row, let argument):
                    // point = (h[t-1], z, I, θ); the graph's variables put h[t] before θ.
                    numeric = derivative(at: point, index: argument) { x in
                        graph.evaluate([neuron.update[row]], variables: Array(x[0..<(k + 2)]) + Array(x[0..<k]) + Array(x[(k + 2)...]), frozen: frozen)[0]
                    }
                case .spikeArgument(let column):
                    numeric = derivative(at: state + theta, index: column) { x in
                        graph.evaluate([neuron.spikeArgument], variables: Array(x[0..<k]) + [spike, current] + x, frozen: frozen)[0]
                    }
                }
                let error = declared.isFinite ? Swift.abs(declared - numeric) / Swift.max(1, Swift.abs(numeric)) : .infinity
                if error > worst[index] || error.isNaN {
                    worst[index] = error.isNaN ? .infinity : error
                    worstCase[index] = "declared \(String(format: "%.6g", declared)), finite differences \(String(format: "%.6g", numeric)) at \(describe)"
                }
            }
        }
        let checks = entries.enumerated().map { index, item in
            EntryCheck(entry: item.0, name: item.1, declared: EntryAnnotation(item.2), maximumError: worst[index], worstCase: worstCase[index],
                       skipped: stopped.contains(item.0))
        }
        return VerificationReport(model: neuron.name, samples: samples, checks: checks, nonFinite: nonFinite)
    }

    /// Central difference with a step relative to the coordinate's size.
    private static func derivative(at point: [Double], index: Int, _ f: ([Double]) -> Double) -> Double {
        let h = 1e-6 * Swift.max(1, Swift.abs(point[index]))
        var plus = point, minus = point
        plus[index] += h
        minus[index] -= h
        return (f(plus) - f(minus)) / (2 * h)
    }
}
