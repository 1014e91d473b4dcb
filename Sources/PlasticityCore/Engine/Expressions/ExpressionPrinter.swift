import Foundation
import PlasticityBase

/// Formats a constant compactly: integers without a fraction, others with up to 6 significant digits.
func formatConstant(_ value: Double) -> String {
    if value == value.rounded(), Swift.abs(value) < 1e15 { return String(Int(value)) }
    return String(format: "%.6g", value)
}

/// A valid range as messages write it: `0.001...1000000000`.
func formatRange(_ range: ClosedRange<Double>) -> String { "\(formatConstant(range.lowerBound))...\(formatConstant(range.upperBound))" }

/// Renders graph nodes as readable infix expressions (for `plasticity inspect` and errors).
struct ExpressionPrinter {
    let graph: ExpressionGraph

    func text(of node: Int) -> String {
        let entry = graph.nodes[node]
        switch entry.operation {
        case .constant(let value): return formatConstant(value)
        case .variable(let slot): return graph.variableNames[slot]
        case .apply(let primitive):
            let args = entry.arguments.map { text(of: $0) }
            guard let builtin = primitive as? BuiltinOp else {
                return "\(primitive.name)(\(args.joined(separator: ", ")))"
            }
            switch builtin {
            case .add: return "(\(args[0]) + \(args[1]))"
            case .subtract: return "(\(args[0]) - \(args[1]))"
            case .multiply: return "\(args[0])·\(args[1])"
            case .divide: return "\(args[0])/\(args[1])"
            case .negate: return "-\(args[0])"
            case .less: return "(\(args[0]) < \(args[1]))"
            case .lessOrEqual: return "(\(args[0]) ≤ \(args[1]))"
            case .greater: return "(\(args[0]) > \(args[1]))"
            case .greaterOrEqual: return "(\(args[0]) ≥ \(args[1]))"
            default: return "\(builtin.name)(\(args.joined(separator: ", ")))"
            }
        }
    }
}
