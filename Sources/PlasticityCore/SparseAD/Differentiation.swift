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

    /// Evaluates `outputs` at concrete variable values (a reference interpreter in Double;
    /// the compiled kernels are what run in training).
    public func evaluate(_ outputs: [Sym], variables: [Double], spikes: SpikeMode = .heaviside) -> [Double] {
        precondition(variables.count == variableNames.count, "expected \(variableNames.count) variable values")
        let outputNodes = outputs.compactMap { $0.graph == nil ? nil : node(of: $0) }
        var values = [Double](repeating: 0, count: (outputNodes.max() ?? -1) + 1)
        for index in values.indices {
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
        return outputs.map { $0.constantValue ?? values[node(of: $0)] }
    }
}
