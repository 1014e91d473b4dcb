import PlasticityBase

/// The expression DAG that a neuron model's step is traced into.
///
/// Nodes are created only through `apply`, which folds constants, applies algebraic identities
/// and shares identical subexpressions (hash-consing). Every node's arguments have smaller
/// indices than the node itself, so index order is a topological order.
public final class ExpressionGraph {
    enum Operation {
        case constant(Double)
        case variable(Int)
        case apply(any Primitive)
    }

    struct Node {
        let operation: Operation
        let arguments: [Int]
    }

    /// Identity of a node for sharing: the operation's key and its argument nodes.
    private struct NodeKey: Hashable {
        let tag: String
        let bits: UInt64
        let arguments: [Int]
    }

    private(set) var nodes: [Node] = []
    private var lookup: [NodeKey: Int] = [:]
    /// Names of the graph's input variables, in slot order.
    public let variableNames: [String]

    public init(variableNames: [String]) {
        self.variableNames = variableNames
    }

    /// The symbol of input variable `slot`.
    public func variable(_ slot: Int) -> Sym {
        precondition(variableNames.indices.contains(slot), "no variable slot \(slot)")
        return Sym(graph: self, node: intern(.variable(slot), key: NodeKey(tag: "var", bits: UInt64(slot), arguments: [])))
    }

    /// The number of nodes created so far.
    public var nodeCount: Int { nodes.count }

    /// Applies `primitive` to `arguments`, simplifying where possible.
    public static func apply(_ primitive: any Primitive, _ arguments: [Sym]) -> Sym {
        precondition(arguments.count == primitive.arity,
                     "\(primitive.name) takes \(primitive.arity) arguments, got \(arguments.count)")
        let graphs = arguments.compactMap(\.graph)
        guard let graph = graphs.first else {
            return Sym(constant: primitive.value(arguments.map { $0.constantValue! }))
        }
        precondition(graphs.allSatisfy { $0 === graph }, "symbols from different traces cannot be combined")
        if arguments.allSatisfy({ $0.constantValue != nil }) {
            return Sym(constant: primitive.value(arguments.map { $0.constantValue! }))
        }
        var arguments = arguments
        if let builtin = primitive as? BuiltinOp {
            if let simplified = builtin.simplify(arguments) { return simplified }
            if builtin.isCommutative {
                let ids = arguments.map { graph.node(of: $0) }
                if ids[1] < ids[0] { arguments.swapAt(0, 1) }
            }
        }
        let ids = arguments.map { graph.node(of: $0) }
        return Sym(graph: graph, node: graph.internApplication(primitive, ids))
    }

    /// The node holding `symbol`, interning a free constant if needed.
    func node(of symbol: Sym) -> Int {
        if let graph = symbol.graph {
            precondition(graph === self, "symbols from different traces cannot be combined")
            return symbol.node
        }
        return constantNode(symbol.constantValue!)
    }

    func constantNode(_ value: Double) -> Int {
        intern(.constant(value), key: NodeKey(tag: "const", bits: value.bitPattern, arguments: []))
    }

    /// The symbol for an existing node index.
    func symbol(_ node: Int) -> Sym {
        if case .constant(let value) = nodes[node].operation { return Sym(constant: value) }
        return Sym(graph: self, node: node)
    }

    private func intern(_ operation: Operation, key: NodeKey, arguments: [Int] = []) -> Int {
        if let existing = lookup[key] { return existing }
        nodes.append(Node(operation: operation, arguments: arguments))
        lookup[key] = nodes.count - 1
        return nodes.count - 1
    }

    /// The node of `primitive` applied to `ids`. Hash-consing trusts `key` to name the
    /// function, but a primitive that keeps the default key (its name) for two configurations
    /// would be merged with the other one (pow(v, 3) becoming pow(v, 2)). So a node found
    /// under the same key is reused only if both primitives agree at a few probe points;
    /// otherwise the new one is keyed apart.
    private func internApplication(_ primitive: any Primitive, _ ids: [Int]) -> Int {
        var tag = primitive.key
        while let existing = lookup[NodeKey(tag: tag, bits: 0, arguments: ids)], let other = self.primitive(of: existing),
              !Self.sameFunction(other, primitive) {
            tag += "′"
        }
        return intern(.apply(primitive), key: NodeKey(tag: tag, bits: 0, arguments: ids), arguments: ids)
    }

    /// Whether two primitives give the same values (bit for bit, NaN alike) at fixed probe
    /// points inside every built-in's domain.
    private static func sameFunction(_ first: any Primitive, _ second: any Primitive) -> Bool {
        guard first.arity == second.arity else { return false }
        return (0..<4).allSatisfy { k in
            let point = (0..<first.arity).map { i in 0.37 + 0.61 * Double(k) + 0.23 * Double(i) }
            let a = first.value(point), b = second.value(point)
            return a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
        }
    }

    /// The primitive of `node`, if it is an application.
    func primitive(of node: Int) -> (any Primitive)? {
        if case .apply(let primitive) = nodes[node].operation { return primitive }
        return nil
    }
}
