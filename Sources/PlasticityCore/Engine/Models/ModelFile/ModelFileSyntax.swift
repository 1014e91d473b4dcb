import PlasticityBase

/// The parsed form of a model file (`.neuron`): what each line declared, with where it stands
/// in the file so that every later check can point at it. Documentation/ModelFiles.md
/// describes the language.
struct ModelFileSyntax {
    /// A line and column (both from 1) in the file.
    struct Location: Equatable, CustomStringConvertible {
        let line: Int
        let column: Int
        var description: String { "\(line):\(column)" }
    }

    /// An arithmetic expression over names, numbers and the built-in functions.
    indirect enum Expression {
        case number(Double, Location)
        case name(String, Location)
        case negate(Expression, Location)
        case binary(BinaryOperator, Expression, Expression, Location)
        case call(String, [Expression], Location)

        var location: Location {
            switch self {
            case .number(_, let l), .name(_, let l), .negate(_, let l), .binary(_, _, _, let l), .call(_, _, let l): return l
            }
        }

        /// Every name the expression reads, with where it reads it, in reading order.
        var names: [(name: String, location: Location)] {
            switch self {
            case .number: return []
            case .name(let name, let location): return [(name, location)]
            case .negate(let inner, _): return inner.names
            case .binary(_, let left, let right, _): return left.names + right.names
            case .call(_, let arguments, _): return arguments.flatMap(\.names)
            }
        }
    }

    enum BinaryOperator: String {
        case add = "+", subtract = "-", multiply = "*", divide = "/", power = "^"
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    struct State {
        let name: String
        let initialValue: Double
        let summary: String
        let location: Location
    }

    struct Parameter {
        let name: String
        let defaultValue: Double
        let validRange: ClosedRange<Double>
        let summary: String
        let location: Location
    }

    /// `let name = expression`: a derived value, a constant if it reads parameters only.
    struct Definition {
        let name: String
        let expression: Expression
        let location: Location
    }

    /// How a state's new value is computed.
    enum Integrator: String, CaseIterable {
        /// h[t] = h + Δt · rhs.
        case euler
        /// The exact step of dh/dt = a + b·h for a coefficient b that depends on parameters only.
        case exponential
    }

    enum UpdateKind {
        /// `v' = expression`: the new value directly.
        case discrete
        /// `dv/dt = expression using integrator`.
        case differential(Integrator)
    }

    struct Update {
        let state: String
        let kind: UpdateKind
        let expression: Expression
        let location: Location
    }

    /// `reset v = expression`: the value v takes, in place of its update, where the neuron
    /// spiked at the previous step.
    struct Reset {
        let state: String
        let expression: Expression
        let location: Location
    }

    var name: (value: String, location: Location)?
    var summary = ""
    var states: [State] = []
    var parameters: [Parameter] = []
    var definitions: [Definition] = []
    var updates: [Update] = []
    var resets: [Reset] = []
    var spikeArgument: (expression: Expression, location: Location)?
    var surrogate: (text: String, location: Location)?
}
