import PlasticityBase

/// The sparsity class of one Jacobian entry: the contract every learning rule reads.
public enum EntryAnnotation: Equatable, Sendable, CustomStringConvertible {
    /// Structurally zero: never computed, never stored.
    case zero
    /// Independent of every state and input: folded into the rule at compile time.
    case constant(Double)
    /// Constant in time but not the same for every neuron: it depends only on parameters that
    /// are set per neuron or trained. The kernel computes it like a varying entry, and it does
    /// not let a trace collapse (ε^{ji} then depends on j).
    case perNeuron
    /// Depends on the state or input: computed by the kernel every step, per neuron.
    case varying

    /// The class of `expression` of `graph`, whose `parameterSlots` hold per-neuron constants.
    init(_ expression: Sym, parameterSlots: Set<Int> = [], in graph: ExpressionGraph? = nil) {
        if let value = expression.constantValue {
            self = value == 0 ? .zero : .constant(value)
        } else if let graph, !parameterSlots.isEmpty, graph.variables(in: [expression]).isSubset(of: parameterSlots) {
            self = .perNeuron
        } else {
            self = .varying
        }
    }

    public var isZero: Bool { self == .zero }
    /// Whether the entry is computed per neuron (varying or a per-neuron constant), so that no
    /// value shared by all neurons stands for it.
    public var isVarying: Bool { self == .varying || self == .perNeuron }

    public var description: String {
        switch self {
        case .zero: return "0"
        case .constant(let value): return "const \(formatConstant(value))"
        case .perNeuron: return "per-neuron const"
        case .varying: return "varying"
        }
    }
}

/// An annotated per-neuron Jacobian block (rows × columns).
public struct AnnotatedBlock: Sendable, Equatable {
    /// e.g. `D = dh_t/dh_{t-1}`.
    public let title: String
    public let rowNames: [String]
    public let columnNames: [String]
    public let entries: [[EntryAnnotation]]
}

/// How one component of the eligibility vector ε^{ji} is stored by e-prop.
public enum TraceStorage: String, Sendable, Equatable {
    /// Identically zero: skipped.
    case zero
    /// Its recursion coefficients and input gain are constants shared by all neurons, so
    /// ε^{ji} does not depend on j: one trace per presynaptic input. A per-neuron constant
    /// (a parameter set per neuron or trained) does not qualify.
    case perPresynaptic = "per presynaptic input"
    /// One trace per synapse.
    case perSynapse = "per synapse"
}

/// Whether a per-neuron block couples different neurons.
public enum NeuronCoupling: String, Sendable {
    /// Every block is diagonal across neurons (the usual case).
    case diagonal
    /// A primitive reads other neurons: blocks are dense across neurons.
    case dense
}

/// All annotated blocks of a compiled neuron model.
///
/// With A = ∂F/∂h, r = ∂F/∂z_{t−1}, b = ∂F/∂I and c = ∂z/∂h, the total recurrence of one
/// neuron is D_t = A_t + r_t c_{t−1}ᵀ (its own spike feeds back through reset or adaptation).
public struct BlockStructure: Sendable {
    public let stateJacobian: AnnotatedBlock
    public let ownSpikeGain: AnnotatedBlock
    public let currentGain: AnnotatedBlock
    public let spikeGradient: AnnotatedBlock
    public let total: AnnotatedBlock
    /// One entry per state variable: how e-prop stores that component of the trace.
    public let traceStorage: [TraceStorage]
    public let coupling: NeuronCoupling

    init(stateNames: [String], a: [[EntryAnnotation]], r: [EntryAnnotation], b: [EntryAnnotation], c: [EntryAnnotation], coupling: NeuronCoupling) {
        let k = stateNames.count
        let previous = stateNames.map { "\($0)[t-1]" }
        let current = stateNames.map { "\($0)[t]" }
        stateJacobian = AnnotatedBlock(title: "A = ∂F/∂h[t-1]", rowNames: current, columnNames: previous, entries: a)
        ownSpikeGain = AnnotatedBlock(title: "r = ∂F/∂z[t-1]", rowNames: current, columnNames: ["z[t-1]"], entries: r.map { [$0] })
        currentGain = AnnotatedBlock(title: "b = ∂h[t]/∂I[t]", rowNames: current, columnNames: ["I[t]"], entries: b.map { [$0] })
        spikeGradient = AnnotatedBlock(title: "c = ∂z[t]/∂h[t]", rowNames: ["z[t]"], columnNames: current, entries: [c])
        let d = (0..<k).map { i in (0..<k).map { j in Self.totalEntry(a[i][j], r[i], c[j]) } }
        total = AnnotatedBlock(title: "D = dh[t]/dh[t-1] = A + r·c[t-1]", rowNames: current, columnNames: previous, entries: d)
        traceStorage = Self.classifyTraces(d: d, b: b)
        self.coupling = coupling
    }

    /// D_ij = A_ij + r_i c_j.
    static func totalEntry(_ a: EntryAnnotation, _ r: EntryAnnotation, _ c: EntryAnnotation) -> EntryAnnotation {
        let product: EntryAnnotation
        switch (r, c) {
        case (.zero, _), (_, .zero): product = .zero
        case (.constant(let x), .constant(let y)): product = .constant(x * y)
        case (.varying, _), (_, .varying): product = .varying
        default: product = .perNeuron
        }
        switch (a, product) {
        case (.varying, _), (_, .varying): return .varying
        case (.perNeuron, _), (_, .perNeuron): return .perNeuron
        case (.zero, let other), (let other, .zero): return other
        case (.constant(let x), .constant(let y)): return x + y == 0 ? .zero : .constant(x + y)
        }
    }

    /// ε_t = D_t ε_{t−1} + b_t x̂_t, component by component. A component is zero if its
    /// input gain is zero and it only reads zero components; it is per-presynaptic if its gain
    /// and every coefficient are constants and it only reads zero or per-presynaptic
    /// components (so the trace is the same for every postsynaptic neuron).
    static func classifyTraces(d: [[EntryAnnotation]], b: [EntryAnnotation]) -> [TraceStorage] {
        let k = b.count
        func largestClosedSet(_ candidate: (Int) -> Bool, allowedOutside: Set<Int>) -> Set<Int> {
            var set = Set((0..<k).filter(candidate))
            var changed = true
            while changed {
                changed = false
                for m in set where (0..<k).contains(where: { n in !set.contains(n) && !allowedOutside.contains(n) && !d[m][n].isZero }) {
                    set.remove(m)
                    changed = true
                }
            }
            return set
        }
        let zero = largestClosedSet({ b[$0].isZero }, allowedOutside: [])
        let shared = largestClosedSet({ m in !zero.contains(m) && !b[m].isVarying && !d[m].contains(where: \.isVarying) }, allowedOutside: zero)
        return (0..<k).map { zero.contains($0) ? .zero : shared.contains($0) ? .perPresynaptic : .perSynapse }
    }
}
