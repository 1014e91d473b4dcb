import PlasticityBase

/// Symbolic differentiation of traced expressions by forward accumulation over the DAG.
extension ExpressionGraph {
    /// ∂output/∂variable for each output, as simplified expressions. A structurally zero
    /// derivative comes back as the constant 0 and one independent of every variable as a
    /// constant, which is what the Jacobian annotations read.
    public func derivatives(of outputs: [Sym], withRespectTo slot: Int) -> [Sym] {
        let outputNodes = outputs.compactMap { $0.graph == nil ? nil : node(of: $0) }
        guard let last = outputNodes.max() else { return outputs.map { _ in 0 } }
        var tangents = [Sym](repeating: 0, count: last + 1)
        for index in 0...last {
            let entry = nodes[index]
            switch entry.operation {
            case .constant:
                continue
            case .variable(let variable):
                tangents[index] = variable == slot ? 1 : 0
            case .apply(let primitive):
                let argumentTangents = entry.arguments.map { tangents[$0] }
                if argumentTangents.allSatisfy({ $0.isConstant(0) }) { continue }
                let partials = primitive.partials(entry.arguments.map(symbol), result: symbol(index))
                var total: Sym = 0
                for (partial, tangent) in zip(partials, argumentTangents) where !tangent.isConstant(0) {
                    total = total + partial * tangent
                }
                tangents[index] = total
            }
        }
        return outputs.map { $0.graph == nil ? 0 : tangents[node(of: $0)] }
    }

    /// How spikes are evaluated.
    public enum SpikeMode: Sendable {
        /// spike(x) = H(x); its derivative is the surrogate.
        case heaviside
        /// spike(x) = Ψ(x), the surrogate's antiderivative, so the surrogate is the true derivative.
        case smooth
    }

    /// The values of every stopGradient node at a point. Finite differences of a model must
    /// hold these fixed while they perturb the inputs: a stopped gradient declares that value
    /// a constant, so that is the function whose derivative the Jacobian describes.
    public struct FrozenValues: Sendable {
        let values: [Int: Double]
        public static let none = FrozenValues(values: [:])
    }

    /// The stopGradient values of the whole graph at `variables`.
    public func stopGradientValues(variables: [Double], spikes: SpikeMode = .heaviside) -> FrozenValues {
        let all = evaluateNodes(upTo: nodes.count - 1, variables: variables, spikes: spikes, frozen: .none)
        var frozen: [Int: Double] = [:]
        for index in nodes.indices where (primitive(of: index) as? BuiltinOp) == .stopGradient {
            frozen[index] = all[index]
        }
        return FrozenValues(values: frozen)
    }

    /// Evaluates `outputs` at concrete variable values (a reference interpreter in Double;
    /// the compiled kernels are what run in training). `frozen` replaces stopGradient nodes
    /// by fixed values.
    public func evaluate(_ outputs: [Sym], variables: [Double], spikes: SpikeMode = .heaviside, frozen: FrozenValues = .none) -> [Double] {
        let outputNodes = outputs.compactMap { $0.graph == nil ? nil : node(of: $0) }
        let values = evaluateNodes(upTo: outputNodes.max() ?? -1, variables: variables, spikes: spikes, frozen: frozen)
        return outputs.map { $0.constantValue ?? values[node(of: $0)] }
    }

    private func evaluateNodes(upTo last: Int, variables: [Double], spikes: SpikeMode, frozen: FrozenValues) -> [Double] {
        precondition(variables.count == variableNames.count, "expected \(variableNames.count) variable values")
        var values = [Double](repeating: 0, count: last + 1)
        for index in values.indices {
            if let fixed = frozen.values[index] {
                values[index] = fixed
                continue
            }
            let entry = nodes[index]
            switch entry.operation {
            case .constant(let value):
                values[index] = value
            case .variable(let slot):
                values[index] = variables[slot]
            case .apply(let primitive):
                let arguments = entry.arguments.map { values[$0] }
                if spikes == .smooth, let spike = primitive as? SpikePrimitive {
                    values[index] = spike.surrogate.antiderivative(arguments[0])
                } else {
                    values[index] = primitive.value(arguments)
                }
            }
        }
        return values
    }
}
