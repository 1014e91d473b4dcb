import PlasticityBase

/// One block entry as the rules read it: skipped when zero, a folded constant, or a
/// per-(batch, neuron) array written by the step kernel.
public enum EntryValue<T: KernelScalar> {
    case zero
    case constant(T)
    case varying(UnsafeMutablePointer<T>)

    /// The value for element `index` (batch·N + neuron).
    @inline(__always)
    public subscript(_ index: Int) -> T {
        switch self {
        case .zero: return 0
        case .constant(let value): return value
        case .varying(let values): return values[index]
        }
    }

    public var isZero: Bool {
        if case .zero = self { return true }
        return false
    }

    /// out[e] = self[e] for e in 0..<count.
    @inline(__always)
    func write(into out: UnsafeMutablePointer<T>, count: Int) {
        switch self {
        case .zero: out.update(repeating: 0, count: count)
        case .constant(let value): out.update(repeating: value, count: count)
        case .varying(let values): out.update(from: values, count: count)
        }
    }

    /// out[e] += self[e] · other[e] for e in 0..<count.
    @inline(__always)
    func accumulateProduct(into out: UnsafeMutablePointer<T>, with other: EntryValue<T>, count: Int) {
        switch (self, other) {
        case (.zero, _), (_, .zero): return
        case (.constant(let a), .constant(let b)):
            let product = a * b
            for e in 0..<count { out[e] += product }
        case (.constant, .varying(let values)): accumulateProduct(into: out, with: values, count: count)
        case (.varying(let values), .constant): other.accumulateProduct(into: out, with: values, count: count)
        case (.varying(let a), .varying(let b)): LinearAlgebra.accumulateProducts(into: out, a, b, count: count)
        }
    }

    /// out[e] += self[e] · x[e] for e in 0..<count, the case decided once so the loop vectorises.
    @inline(__always)
    func accumulateProduct(into out: UnsafeMutablePointer<T>, with x: UnsafePointer<T>, count: Int) {
        switch self {
        case .zero: return
        case .constant(let value): for e in 0..<count { out[e] += value * x[e] }
        case .varying(let values): LinearAlgebra.accumulateProducts(into: out, values, x, count: count)
        }
    }
}

/// The current step's blocks A, r, b, c (and c of the previous step) of a population.
public struct BlockValues<T: KernelScalar> {
    /// A[i][j] = ∂h_i[t]/∂h_j[t-1] (partial).
    public let stateJacobian: [[EntryValue<T>]]
    /// r[i] = ∂h_i[t]/∂z[t-1].
    public let ownSpikeGain: [EntryValue<T>]
    /// b[i] = ∂h_i[t]/∂I[t].
    public let currentGain: [EntryValue<T>]
    /// c[j] = ∂z[t]/∂h_j[t].
    public let spikeGradient: [EntryValue<T>]
    /// c[j] of the previous step (zero before the first step).
    public let previousSpikeGradient: [EntryValue<T>]
    /// ∂h_m[t]/∂θ_q for each trained parameter q of the population ([m][q]).
    public var parameterGain: [[EntryValue<T>]] = []
    /// ∂z[t]/∂θ_q at fixed h[t], for each trained parameter q.
    public var spikeParameterGain: [EntryValue<T>] = []

    /// D[i][j] for elements 0..<count into `out`.
    func writeTotal(_ i: Int, _ j: Int, into out: UnsafeMutablePointer<T>, count: Int) {
        stateJacobian[i][j].write(into: out, count: count)
        ownSpikeGain[i].accumulateProduct(into: out, with: previousSpikeGradient[j], count: count)
    }

    /// Whether D[i][j] is zero by the model's structure: A[i][j] zero, and r[i] or c_prev[j] too.
    func totalIsZero(_ i: Int, _ j: Int) -> Bool {
        stateJacobian[i][j].isZero && (ownSpikeGain[i].isZero || previousSpikeGradient[j].isZero)
    }

    /// D[i][j] = A[i][j] + r[i]·c_prev[j] for element `index`: the total recurrence.
    @inline(__always)
    public func total(_ i: Int, _ j: Int, _ index: Int) -> T {
        stateJacobian[i][j][index] + ownSpikeGain[i][index] * previousSpikeGradient[j][index]
    }
}
