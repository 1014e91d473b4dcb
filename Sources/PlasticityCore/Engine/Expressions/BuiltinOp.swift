import RealModule
import PlasticityBase

/// The primitives every model can use. The kernel evaluates these with tight vector loops;
/// other `Primitive`s are evaluated element by element through `value(_:)`.
public enum BuiltinOp: String, Primitive, CaseIterable {
    case add, subtract, multiply, divide, negate
    case exp, log, tanh, sigmoid, atan, sqrt, abs
    case minimum, maximum
    case less, lessOrEqual, greater, greaterOrEqual
    /// `select(condition, a, b)`: `a` where condition ≠ 0, otherwise `b`.
    case select
    /// Identity forward, zero derivative.
    case stopGradient
    /// H(x) = 1 if x > 0 else 0, with its true (zero) derivative. Use `spike` for a surrogate.
    case heaviside

    public var name: String { rawValue }

    public var arity: Int {
        switch self {
        case .add, .subtract, .multiply, .divide, .minimum, .maximum,
             .less, .lessOrEqual, .greater, .greaterOrEqual:
            return 2
        case .select:
            return 3
        default:
            return 1
        }
    }

    var isCommutative: Bool { self == .add || self == .multiply || self == .minimum || self == .maximum }

    public func value(_ a: [Double]) -> Double { evaluate(a[0], a.count > 1 ? a[1] : 0, a.count > 2 ? a[2] : 0) }

    /// Forward value for any floating-point type; the kernel's inner loops call this.
    @inline(__always)
    func evaluate<T: Real>(_ x: T, _ y: T, _ w: T) -> T {
        switch self {
        case .add: return x + y
        case .subtract: return x - y
        case .multiply: return x * y
        case .divide: return x / y
        case .negate: return -x
        case .exp: return T.exp(x)
        case .log: return T.log(x)
        case .tanh: return T.tanh(x)
        case .sigmoid: return 1 / (1 + T.exp(-x))
        case .atan: return T.atan(x)
        case .sqrt: return x.squareRoot()
        case .abs: return Swift.abs(x)
        case .minimum: return Swift.min(x, y)
        case .maximum: return Swift.max(x, y)
        case .less: return x < y ? 1 : 0
        case .lessOrEqual: return x <= y ? 1 : 0
        case .greater: return x > y ? 1 : 0
        case .greaterOrEqual: return x >= y ? 1 : 0
        case .select: return x != 0 ? y : w
        case .stopGradient: return x
        case .heaviside: return x > 0 ? 1 : 0
        }
    }

    public func partials(_ a: [Sym], result r: Sym) -> [Sym] {
        switch self {
        case .add: return [1, 1]
        case .subtract: return [1, -1]
        case .multiply: return [a[1], a[0]]
        case .divide: return [1 / a[1], -r / a[1]]
        case .negate: return [-1]
        case .exp: return [r]
        case .log: return [1 / a[0]]
        case .tanh: return [1 - r * r]
        case .sigmoid: return [r * (1 - r)]
        case .atan: return [1 / (1 + a[0] * a[0])]
        case .sqrt: return [0.5 / r]
        case .abs: return [PlasticityEngine.select(a[0] >= 0, 1, -1)]
        case .minimum:
            let first = a[0] <= a[1]
            return [PlasticityEngine.select(first, 1, 0), PlasticityEngine.select(first, 0, 1)]
        case .maximum:
            let first = a[0] >= a[1]
            return [PlasticityEngine.select(first, 1, 0), PlasticityEngine.select(first, 0, 1)]
        case .less, .lessOrEqual, .greater, .greaterOrEqual: return [0, 0]
        case .select: return [0, PlasticityEngine.select(a[0], 1, 0), PlasticityEngine.select(a[0], 0, 1)]
        case .stopGradient, .heaviside: return [0]
        }
    }

    /// Algebraic identities applied when a node is created, so that structural zeros and
    /// constants are recognised rather than computed. Returns nil when nothing applies.
    func simplify(_ a: [Sym]) -> Sym? {
        switch self {
        case .add:
            if a[0].isConstant(0) { return a[1] }
            if a[1].isConstant(0) { return a[0] }
        case .subtract:
            if a[1].isConstant(0) { return a[0] }
            if a[0].isConstant(0) { return -a[1] }
            if a[0].isSameNode(as: a[1]) { return 0 }
        case .multiply:
            if a[0].isConstant(0) || a[1].isConstant(0) { return 0 }
            if a[0].isConstant(1) { return a[1] }
            if a[1].isConstant(1) { return a[0] }
            if a[0].isConstant(-1) { return -a[1] }
            if a[1].isConstant(-1) { return -a[0] }
        case .divide:
            if a[0].isConstant(0) { return 0 }
            if a[1].isConstant(1) { return a[0] }
        case .negate:
            if let inner = a[0].negatedOperand { return inner }
        case .select:
            if let c = a[0].constantValue { return c != 0 ? a[1] : a[2] }
            if a[1].isSameNode(as: a[2]) { return a[1] }
        case .minimum, .maximum:
            if a[0].isSameNode(as: a[1]) { return a[0] }
        case .stopGradient:
            if a[0].isStopGradient { return a[0] }
        default:
            break
        }
        return nil
    }
}
