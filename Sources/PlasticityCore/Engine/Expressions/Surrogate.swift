import Foundation
import PlasticityBase

/// A pseudo-derivative ψ used in place of the Heaviside step's derivative.
///
/// `derivative` is the expression the Jacobians use; `antiderivative` is its integral Ψ,
/// which the core's smooth mode substitutes for the spike so that ψ becomes the true
/// derivative and finite differences can check whole-step Jacobians.
public protocol Surrogate: Sendable {
    /// The family name used on the command line, e.g. `triangle`.
    var family: String { get }
    /// The surrogate's parameters, by name, in a fixed order.
    var parameters: [(name: String, value: Double)] { get }
    /// ψ(x) as an expression.
    func derivative(_ x: Sym) -> Sym
    /// Ψ(x), an antiderivative of ψ.
    func antiderivative(_ x: Double) -> Double
}

extension Surrogate {
    /// The family and its parameters, e.g. `triangle(dampening=0.3, width=1)`.
    public var key: String {
        "\(family)(" + parameters.map { "\($0.name)=\(formatConstant($0.value))" }.joined(separator: ", ") + ")"
    }
}

/// Bellec et al. (2020): ψ(x) = γ · max(0, 1 − |x|/w).
public struct TriangleSurrogate: Surrogate {
    public var dampening: Double
    public var width: Double
    public init(dampening: Double = 0.3, width: Double = 1) {
        self.dampening = dampening
        self.width = width
    }
    public var family: String { "triangle" }
    public var parameters: [(name: String, value: Double)] { [("dampening", dampening), ("width", width)] }
    public func derivative(_ x: Sym) -> Sym { dampening * max(0, 1 - abs(x) / width) }
    public func antiderivative(_ x: Double) -> Double {
        let w = width
        if x <= -w { return 0 }
        if x <= 0 { return dampening * (x + w) * (x + w) / (2 * w) }
        if x < w { return dampening * (w - (w - x) * (w - x) / (2 * w)) }
        return dampening * w
    }
}

/// SuperSpike (Zenke & Ganguli 2018): ψ(x) = 1 / (1 + β|x|)².
public struct FastSigmoidSurrogate: Surrogate {
    public var slope: Double
    public init(slope: Double = 10) { self.slope = slope }
    public var family: String { "fast-sigmoid" }
    public var parameters: [(name: String, value: Double)] { [("slope", slope)] }
    public func derivative(_ x: Sym) -> Sym {
        let d = 1 + slope * abs(x)
        return 1 / (d * d)
    }
    public func antiderivative(_ x: Double) -> Double { x / (1 + slope * Swift.abs(x)) + 1 / slope }
}

/// The logistic sigmoid's derivative with a slope k: ψ(x) = k σ(kx)(1 − σ(kx)).
public struct SigmoidSurrogate: Surrogate {
    public var slope: Double
    public init(slope: Double = 5) { self.slope = slope }
    public var family: String { "sigmoid" }
    public var parameters: [(name: String, value: Double)] { [("slope", slope)] }
    public func derivative(_ x: Sym) -> Sym {
        let s = sigmoid(slope * x)
        return slope * s * (1 - s)
    }
    public func antiderivative(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-slope * x)) }
}

/// Arctan (Fang et al. 2021): ψ(x) = (α/2) / (1 + (π α x / 2)²).
public struct ArctanSurrogate: Surrogate {
    public var alpha: Double
    public init(alpha: Double = 2) { self.alpha = alpha }
    public var family: String { "arctan" }
    public var parameters: [(name: String, value: Double)] { [("alpha", alpha)] }
    public func derivative(_ x: Sym) -> Sym {
        let u = (Double.pi * alpha / 2) * x
        return (alpha / 2) / (1 + u * u)
    }
    public func antiderivative(_ x: Double) -> Double { Foundation.atan(Double.pi * alpha / 2 * x) / Double.pi + 0.5 }
}

/// The spike H(x) with a surrogate derivative.
public struct SpikePrimitive: Primitive {
    public let surrogate: any Surrogate
    public init(surrogate: any Surrogate) { self.surrogate = surrogate }
    public var name: String { "spike" }
    public var key: String { "spike[\(surrogate.key)]" }
    public var arity: Int { 1 }
    public func value(_ arguments: [Double]) -> Double { arguments[0] > 0 ? 1 : 0 }
    public func partials(_ arguments: [Sym], result: Sym) -> [Sym] { [surrogate.derivative(arguments[0])] }
}

/// Parses surrogate specifications such as `triangle`, `fast-sigmoid(slope=25)` or
/// `triangle(dampening=0.5, width=1)`.
public enum SurrogateParser {
    /// The families a user can name.
    public static let families = ["triangle", "fast-sigmoid", "sigmoid", "arctan"]

    public static func parse(_ text: String) throws -> any Surrogate {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var family = trimmed
        var values: [String: Double] = [:]
        if let open = trimmed.firstIndex(of: "(") {
            guard trimmed.hasSuffix(")") else { throw PlasticityError.invalidSurrogate(text, "missing ')'") }
            family = String(trimmed[..<open])
            let body = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
            for item in body.split(separator: ",") {
                let parts = item.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let value = Double(parts[1]), value.isFinite else {
                    throw PlasticityError.invalidSurrogate(text, "expected name=value, got '\(item)'")
                }
                values[parts[0]] = value
            }
        }
        let surrogate: any Surrogate
        switch family {
        case "triangle": surrogate = TriangleSurrogate(dampening: values["dampening"] ?? 0.3, width: values["width"] ?? 1)
        case "fast-sigmoid": surrogate = FastSigmoidSurrogate(slope: values["slope"] ?? 10)
        case "sigmoid": surrogate = SigmoidSurrogate(slope: values["slope"] ?? 5)
        case "arctan": surrogate = ArctanSurrogate(alpha: values["alpha"] ?? 2)
        default:
            throw PlasticityError.invalidSurrogate(text, "unknown family '\(family)'; choose one of \(families.joined(separator: ", "))")
        }
        let known = Set(surrogate.parameters.map(\.name))
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw PlasticityError.invalidSurrogate(text, "\(family) has no parameter '\(unknown)' (it has \(known.sorted().joined(separator: ", ")))")
        }
        if surrogate.parameters.contains(where: { $0.value <= 0 }) {
            throw PlasticityError.invalidSurrogate(text, "parameters must be positive")
        }
        return surrogate
    }
}
