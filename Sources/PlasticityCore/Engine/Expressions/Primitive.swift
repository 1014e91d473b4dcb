import PlasticityBase

/// A differentiable scalar operation of the per-neuron expression language.
///
/// A primitive declares its forward value and, as expressions, its partial derivatives with
/// respect to each argument. Every derivative the core needs (Jacobian blocks, surrogate
/// gradients) is obtained by the chain rule over these declarations, so adding a primitive
/// never requires touching the differentiation or the learning rules.
public protocol Primitive: Sendable {
    /// A name shown in printed expressions, e.g. `exp`.
    var name: String { get }
    /// Identifies the operation including its configuration; two primitives with the same key
    /// are the same function (used to share common subexpressions).
    var key: String { get }
    /// The number of arguments.
    var arity: Int { get }
    /// Whether the operation reads values of other neurons (for example a population mean).
    /// Such a primitive makes the Jacobian blocks dense across neurons.
    var readsOtherNeurons: Bool { get }
    /// The forward value on concrete arguments.
    func value(_ arguments: [Double]) -> Double
    /// ∂result/∂argument_i for every argument, as expressions of the arguments and the result.
    func partials(_ arguments: [Sym], result: Sym) -> [Sym]
}

extension Primitive {
    public var key: String { name }
    public var readsOtherNeurons: Bool { false }
}
