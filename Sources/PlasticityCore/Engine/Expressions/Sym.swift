import PlasticityBase

/// A symbolic per-neuron scalar. Models write their step with ordinary Swift operators on
/// `Sym`; the core records the operations in an `ExpressionGraph` and differentiates them.
///
/// A `Sym` is either a free constant (from a literal or a `Double`) or a node of a graph.
public struct Sym: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, CustomStringConvertible {
    let graph: ExpressionGraph?
    let node: Int
    private let value: Double

    init(graph: ExpressionGraph, node: Int) {
        self.graph = graph
        self.node = node
        self.value = .nan
    }

    /// A constant.
    public init(constant: Double) {
        graph = nil
        node = -1
        value = constant
    }

    public init(_ constant: Double) { self.init(constant: constant) }
    public init(floatLiteral value: Double) { self.init(constant: value) }
    public init(integerLiteral value: Int) { self.init(constant: Double(value)) }

    /// The value if this symbol is a constant (free or folded), otherwise nil.
    public var constantValue: Double? {
        guard let graph else { return value }
        if case .constant(let v) = graph.nodes[node].operation { return v }
        return nil
    }

    func isConstant(_ v: Double) -> Bool { constantValue == v }

    func isSameNode(as other: Sym) -> Bool {
        if let a = constantValue, let b = other.constantValue { return a == b }
        return graph != nil && graph === other.graph && node == other.node
    }

    private var application: (primitive: any Primitive, arguments: [Int])? {
        guard let graph, let primitive = graph.primitive(of: node) else { return nil }
        return (primitive, graph.nodes[node].arguments)
    }

    /// `x` when this symbol is `-x`.
    var negatedOperand: Sym? {
        guard let (primitive, arguments) = application, primitive as? BuiltinOp == .negate else { return nil }
        return graph!.symbol(arguments[0])
    }

    var isStopGradient: Bool { (application?.primitive as? BuiltinOp) == .stopGradient }

    public var description: String {
        guard let graph else { return formatConstant(value) }
        return ExpressionPrinter(graph: graph).text(of: node)
    }
}

// MARK: Operators

public func + (a: Sym, b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.add, [a, b]) }
public func - (a: Sym, b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.subtract, [a, b]) }
public func * (a: Sym, b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.multiply, [a, b]) }
public func / (a: Sym, b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.divide, [a, b]) }
public prefix func - (a: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.negate, [a]) }
@_disfavoredOverload public func + (a: Sym, b: Double) -> Sym { a + Sym(b) }
@_disfavoredOverload public func + (a: Double, b: Sym) -> Sym { Sym(a) + b }
@_disfavoredOverload public func - (a: Sym, b: Double) -> Sym { a - Sym(b) }
@_disfavoredOverload public func - (a: Double, b: Sym) -> Sym { Sym(a) - b }
@_disfavoredOverload public func * (a: Sym, b: Double) -> Sym { a * Sym(b) }
@_disfavoredOverload public func * (a: Double, b: Sym) -> Sym { Sym(a) * b }
@_disfavoredOverload public func / (a: Sym, b: Double) -> Sym { a / Sym(b) }
@_disfavoredOverload public func / (a: Double, b: Sym) -> Sym { Sym(a) / b }

/// Comparisons yield 1 where true and 0 where false; use them with `select`.
public func < (a: Sym, b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.less, [a, b]) }
public func <= (a: Sym, b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.lessOrEqual, [a, b]) }
public func > (a: Sym, b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.greater, [a, b]) }
public func >= (a: Sym, b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.greaterOrEqual, [a, b]) }

// MARK: Functions

public func exp(_ x: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.exp, [x]) }
public func log(_ x: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.log, [x]) }
public func tanh(_ x: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.tanh, [x]) }
public func sigmoid(_ x: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.sigmoid, [x]) }
public func atan(_ x: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.atan, [x]) }
public func sqrt(_ x: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.sqrt, [x]) }
public func abs(_ x: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.abs, [x]) }
public func min(_ a: Sym, _ b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.minimum, [a, b]) }
public func max(_ a: Sym, _ b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.maximum, [a, b]) }
/// `a` where `condition` ≠ 0, otherwise `b`.
public func select(_ condition: Sym, _ a: Sym, _ b: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.select, [condition, a, b]) }
/// `x` in the forward pass; no gradient flows through it.
public func stopGradient(_ x: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.stopGradient, [x]) }
/// The Heaviside step with its true derivative (zero). For a trainable spike use `spike`.
public func heaviside(_ x: Sym) -> Sym { ExpressionGraph.apply(BuiltinOp.heaviside, [x]) }
/// A spike H(x) whose derivative is the surrogate's pseudo-derivative ψ(x).
public func spike(_ x: Sym, surrogate: any Surrogate) -> Sym { ExpressionGraph.apply(SpikePrimitive(surrogate: surrogate), [x]) }
