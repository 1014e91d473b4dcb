import PlasticityBase

/// Turns a checked model file's expressions into symbolic values for one step: the same
/// `Sym` operations a Swift model performs, so a text model compiles to the same kernel.
struct ModelFileEvaluator {
    let declarations: [String: ModelFileChecker.Declaration]
    let parameters: ParameterValues
    /// The value each state name stands for here (h[t-1] in updates, h[t] in the spike).
    var states: [String: Sym]
    /// z[t-1] and I[t] (absent in the spike argument, which the checker ensures never reads them).
    var stepInputs: [String: Sym]

    func value(of expression: ModelFileSyntax.Expression) -> Sym {
        switch expression {
        case .number(let value, _):
            return Sym(value)
        case .name(let name, _):
            if let bound = states[name] ?? stepInputs[name] { return bound }
            switch declarations[name] {
            case .definition(let inner): return value(of: inner)
            case .parameter: return parameters.symbol(name)
            // The checker refuses unknown names and step inputs in the spike argument.
            case .state, nil: return Sym(.nan)
            }
        case .negate(let inner, _):
            return -value(of: inner)
        case .binary(let op, let left, let right, _):
            let a = value(of: left)
            if op == .power { return Self.power(a, ModelFileChecker.integerExponent(right) ?? 0) }
            let b = value(of: right)
            switch op {
            case .add: return a + b
            case .subtract: return a - b
            case .multiply: return a * b
            case .divide: return a / b
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            case .power: return a
            }
        case .call("if", let arguments, _):
            // A condition fixed by the parameters picks its branch now, so the other one
            // leaves no trace in the step's graph.
            let condition = value(of: arguments[0])
            if let fixed = condition.constantValue { return value(of: arguments[fixed != 0 ? 1 : 2]) }
            return select(condition, value(of: arguments[1]), value(of: arguments[2]))
        case .call(let name, let arguments, _):
            let x = arguments.map(value(of:))
            switch name {
            case "exp": return exp(x[0])
            case "log": return log(x[0])
            case "tanh": return tanh(x[0])
            case "sigmoid": return sigmoid(x[0])
            case "atan": return atan(x[0])
            case "sqrt": return sqrt(x[0])
            case "abs": return abs(x[0])
            case "min": return min(x[0], x[1])
            case "max": return max(x[0], x[1])
            case "heaviside": return heaviside(x[0])
            case "stopGradient": return stopGradient(x[0])
            default: return Sym(.nan)  // the checker refuses unknown functions
            }
        }
    }

    /// x^n as repeated products (1/x^|n| for negative n), so its derivative is exact.
    static func power(_ x: Sym, _ n: Int) -> Sym {
        guard n != 0 else { return 1 }
        var result = x
        for _ in 1..<Swift.abs(n) { result = result * x }
        return n < 0 ? 1 / result : result
    }
}
