import Foundation
import PlasticityBase
import PlasticityEngine

/// How the planner chooses among the rules that fit.
public enum PlanningPolicy: String, CaseIterable, Sendable, Codable {
    /// The cheapest exact rule that fits the memory budget.
    case exact
    /// The fastest rule whose memory does not grow with the sequence length.
    case online
    /// The fastest rule that fits.
    case fastest
}

/// The planner's verdict on one rule.
public struct RuleAssessment: Sendable, Codable {
    /// The cost of the whole batch in one process: per step, the time the process's workers
    /// take for its shards; at the peak, every busy worker's buffers and the exchange between
    /// ranks (`processBytes`). With one worker and one process, the rule's own cost.
    public let cost: RuleCost
    public let exactness: Exactness
    /// The shards the batch is cut into for this rule (`Parallelism.of(_:batch:)`).
    public let shards: Int
    /// Bytes one worker holds: the rule on one shard.
    public let workerBytes: Int
    /// Bytes one process holds: its busy workers and, between ranks, the exchange.
    public let processBytes: Int
    public let fitsBudget: Bool
    /// Why the rule was not chosen (nil for the chosen rule).
    public var ruledOut: String?
}

/// A plan: every rule priced and judged, and the one chosen with the reason.
public struct Plan: Sendable, Codable {
    public let model: String
    public let network: NetworkSummary
    public let workload: Workload
    public let parallelism: Parallelism
    public let memoryBudget: Int
    public let policy: PlanningPolicy
    public let assessments: [RuleAssessment]
    public let chosen: LearningRuleKind
    public let explanation: String

    /// The chosen rule's assessment.
    public var choice: RuleAssessment { assessments.first { $0.cost.rule == chosen }! }
}

/// Chooses a learning rule per model for a network, workload, memory budget and policy.
public enum Planner {
    /// - Parameter parallelism: how the batch is cut and shared; the budget is one process's.
    public static func plan(network: Network, workload: Workload, memoryBudget: Int, policy: PlanningPolicy,
                            feedback: Feedback = .symmetric, deepFeedback: DeepFeedback = .standard, machine: MachineModel = .reference,
                            parallelism: Parallelism = .single) throws -> Plan {
        var assessments = LearningRuleKind.allCases.map { rule -> RuleAssessment in
            // Each worker runs the rule on one shard at a time.
            let parallelism = parallelism.of(rule, batch: workload.batch)
            let model = CostModel(network: network, workload: parallelism.shard(of: workload), machine: machine, deepFeedback: deepFeedback)
            let workers = parallelism.workers(workload.batch)
            let exchange = parallelism.exchangeBytes(network: network, workload: workload)
            var cost = model.cost(of: rule)
            if rule == .bptt, cost.peakBytes * workers + exchange > memoryBudget {
                cost = model.bpttCheckpointing(within: Swift.max(0, memoryBudget - exchange) / workers)
            }
            let batchCost = parallelism.processCost(cost, batch: workload.batch, exchangeBytes: exchange)
            return RuleAssessment(cost: batchCost, exactness: .of(rule, network: network, feedback: feedback, deepFeedback: deepFeedback),
                                  shards: Swift.min(workload.batch, parallelism.shards), workerBytes: cost.peakBytes, processBytes: batchCost.peakBytes,
                                  fitsBudget: batchCost.peakBytes <= memoryBudget, ruledOut: nil)
        }
        func admissible(_ a: RuleAssessment) -> String? {
            if !a.fitsBudget { return "needs \(MemorySize.format(a.cost.peakBytes)), over the \(MemorySize.format(memoryBudget)) budget" }
            switch policy {
            case .exact where !a.exactness.isExact: return "not exact"
            case .online where !a.cost.rule.isOnline: return "its memory grows with the sequence length"
            default: return nil
            }
        }
        let candidates = assessments.filter { admissible($0) == nil }.sorted { $0.cost.secondsPerStep < $1.cost.secondsPerStep }
        guard let best = candidates.first else {
            let reasons = assessments.map { assessment in
                let reason = admissible(assessment)!
                return "\(assessment.cost.rule.rawValue): \(reason == "not exact" ? "not exact (" + assessment.exactness.reasons.joined(separator: "; ") + ")" : reason)"
            }.joined(separator: "; ")
            throw PlasticityError.noRuleFits(policy: policy.rawValue, reasons: reasons)
        }
        for index in assessments.indices where assessments[index].cost.rule != best.cost.rule {
            let other = assessments[index]
            assessments[index].ruledOut = admissible(other)
                ?? String(format: "%.1f× slower per step", other.cost.secondsPerStep / best.cost.secondsPerStep)
        }
        var explanation = "\(best.cost.rule.rawValue): "
        switch policy {
        case .exact: explanation += "the cheapest exact rule that fits"
        case .online: explanation += "the fastest rule with memory independent of T that fits"
        case .fastest: explanation += "the fastest rule that fits"
        }
        if best.exactness.isExact, policy != .exact { explanation += "; it is exact here" }
        if !best.exactness.isExact { explanation += "; approximate: " + best.exactness.reasons.joined(separator: "; ") }
        if let interval = best.cost.checkpointInterval { explanation += "; storing every \(interval)th state to fit the budget" }
        return Plan(model: network.modelNames, network: NetworkSummary(network), workload: workload, parallelism: parallelism, memoryBudget: memoryBudget, policy: policy,
                    assessments: assessments, chosen: best.cost.rule, explanation: explanation)
    }
}

/// Memory sizes as users write them: 4GiB, 512MiB, 2GB, 1000000.
public enum MemorySize {
    public static func parse(_ text: String) throws -> Int {
        let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            if let value = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value > 0 {
                // A budget past what any machine has is refused, not converted into a trap.
                guard value * factor < Double(1 << 60) else {
                    throw PlasticityError.invalidConfiguration("the memory size '\(text)' is more than any machine has (at most 1 EiB)")
                }
                return Swift.max(1, Int(value * factor))
            }
        }
        if let bytes = Int(trimmed), bytes > 0 { return bytes }
        throw PlasticityError.invalidConfiguration("cannot read the memory size '\(text)' (write e.g. 4GiB, 512MiB or 2GB)")
    }

    public static func format(_ bytes: Int) -> String {
        let value = Double(bytes)
        if value >= 1_073_741_824 { return String(format: "%.2f GiB", value / 1_073_741_824) }
        if value >= 1_048_576 { return String(format: "%.1f MiB", value / 1_048_576) }
        if value >= 1024 { return String(format: "%.1f KiB", value / 1024) }
        return "\(bytes) B"
    }
}
