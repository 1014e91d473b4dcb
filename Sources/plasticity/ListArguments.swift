import ArgumentParser
import Foundation
import PlasticityCore

/// Comma-separated positive integers (`--sizes 32,64`, `--lengths 100,1000`): every item must
/// parse and be at least 1, so a typo is refused by name instead of dropped.
struct PositiveIntegers: CustomStringConvertible {
    let values: [Int]

    init(_ values: [Int]) { self.values = values }

    static func parse(_ argument: String) throws -> Self {
        let items = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if let bad = items.first(where: { (Int($0) ?? 0) < 1 }) {
            throw ValidationError("'\(bad)' in '\(argument)' is not a whole number of at least 1")
        }
        return Self(items.map { Int($0)! })
    }

    var description: String { values.map(String.init).joined(separator: ",") }
}

/// Comma-separated learning rules, each named once.
struct RuleList: CustomStringConvertible {
    let rules: [LearningRuleKind]

    init(_ rules: [LearningRuleKind]) { self.rules = rules }

    static let names = LearningRuleKind.allCases.map(\.rawValue).joined(separator: ", ")

    static func parse(_ argument: String) throws -> Self {
        var rules: [LearningRuleKind] = []
        for item in argument.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard let rule = LearningRuleKind(rawValue: item) else { throw ValidationError("unknown rule '\(item)'; the rules are \(names)") }
            guard !rules.contains(rule) else { throw ValidationError("rule '\(item)' is named twice in '\(argument)'") }
            rules.append(rule)
        }
        return Self(rules)
    }

    var description: String { rules.map(\.rawValue).joined(separator: ",") }
}
