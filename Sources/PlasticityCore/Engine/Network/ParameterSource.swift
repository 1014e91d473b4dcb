import Foundation
import PlasticityBase

/// Where a population's values of one model parameter come from, as `--set name=…` and
/// network files state it: one value (shared, folded into the model unless trained), a list
/// (one per neuron), a seeded distribution (one draw per neuron), or an array of an `.npz` file.
public enum ParameterSource: Sendable, Equatable, CustomStringConvertible {
    case constant(Double)
    case list([Double])
    case uniform(low: Double, high: Double)
    case normal(mean: Double, deviation: Double)
    /// exp of a normal draw with mean μ and deviation σ (in log space).
    case logNormal(mu: Double, sigma: Double)
    case array(path: String, name: String)

    /// The accepted forms, for help and errors.
    public static let forms = "a number, uniform(LOW,HIGH), normal(MEAN,SD), lognormal(MU,SIGMA) or FILE.npz:ARRAY"

    /// Parses `30`, `uniform(5,50)`, `normal(20,3)`, `lognormal(3,0.5)` or `taus.npz:tau`.
    public static func parse(_ text: String) throws -> ParameterSource {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let value = Double(trimmed) {
            guard value.isFinite else { throw PlasticityError.invalidConfiguration("parameter value '\(text)' is not finite") }
            return .constant(value)
        }
        if let open = trimmed.firstIndex(of: "("), trimmed.hasSuffix(")") {
            let family = trimmed[..<open].lowercased()
            let arguments = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)].split(separator: ",", omittingEmptySubsequences: false)
                .map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard arguments.count == 2, let a = arguments[0], let b = arguments[1], a.isFinite, b.isFinite else {
                throw PlasticityError.invalidConfiguration("'\(text)' needs two finite numbers in the parentheses, e.g. uniform(5,50)")
            }
            switch family {
            case "uniform":
                guard a < b else { throw PlasticityError.invalidConfiguration("uniform(\(a),\(b)): the low end must be below the high end") }
                return .uniform(low: a, high: b)
            case "normal":
                guard b > 0 else { throw PlasticityError.invalidConfiguration("normal(\(a),\(b)): the deviation must be positive") }
                return .normal(mean: a, deviation: b)
            case "lognormal":
                guard b > 0 else { throw PlasticityError.invalidConfiguration("lognormal(\(a),\(b)): σ must be positive") }
                return .logNormal(mu: a, sigma: b)
            default:
                throw PlasticityError.invalidConfiguration("unknown distribution '\(family)' in '\(text)'; use \(forms)")
            }
        }
        if let colon = trimmed.lastIndex(of: ":"), trimmed[..<colon].hasSuffix(".npz"), colon < trimmed.index(before: trimmed.endIndex) {
            return .array(path: String(trimmed[..<colon]), name: String(trimmed[trimmed.index(after: colon)...]))
        }
        throw PlasticityError.invalidConfiguration("parameter value '\(text)' is not \(forms)")
    }

    public var description: String {
        switch self {
        case .constant(let value): return formatConstant(value)
        case .list(let values): return "[\(values.count) values]"
        case .uniform(let low, let high): return "uniform(\(formatConstant(low)),\(formatConstant(high)))"
        case .normal(let mean, let deviation): return "normal(\(formatConstant(mean)),\(formatConstant(deviation)))"
        case .logNormal(let mu, let sigma): return "lognormal(\(formatConstant(mu)),\(formatConstant(sigma)))"
        case .array(let path, let name): return "\(path):\(name)"
        }
    }

    /// Whether the source states a single value.
    public var isConstant: Bool { if case .constant = self { return true } else { return false } }

    /// One value (a constant) or `count` values; distributions draw from `seed`.
    /// - Parameter loadArray: reads array `name` of `.npz` file `path` as Doubles.
    public func values(count: Int, seed: UInt64, loadArray: (_ path: String, _ name: String) throws -> [Double]) throws -> [Double] {
        var generator = SeededGenerator(seed: seed)
        switch self {
        case .constant(let value): return [value]
        case .list(let values): return values
        case .uniform(let low, let high): return (0..<count).map { _ in Double.random(in: low..<high, using: &generator) }
        case .normal(let mean, let deviation): return (0..<count).map { _ in mean + deviation * generator.nextGaussian() }
        case .logNormal(let mu, let sigma): return (0..<count).map { _ in Foundation.exp(mu + sigma * generator.nextGaussian()) }
        case .array(let path, let name): return try loadArray(path, name)
        }
    }
}
