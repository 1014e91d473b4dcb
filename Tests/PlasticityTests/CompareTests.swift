import Foundation
import PlasticityCore
import Testing

@Suite("Comparing rules")
struct CompareTests {
    @Test("every rule runs on the same batch; exact rules agree with BPTT; an unaffordable rule is skipped with its reason")
    func comparison() throws {
        let fixture = try RuleFixture(model: "ALIF", recurrent: true, readoutDecay: 0.5, lossKind: .crossEntropySummed)
        let full = try RuleComparison.run(network: fixture.network, parameters: fixture.parameters, inputs: fixture.inputs, steps: fixture.steps,
                                          batch: fixture.batch, loss: fixture.loss, rules: LearningRuleKind.allCases, memoryBudget: 1 << 30, timeLimit: 600)
        #expect(full.reference == .bptt)
        for entry in full.rules {
            #expect(entry.skipped == nil)
            #expect(entry.measuredBytes! > 0 && entry.secondsPerStep! > 0)
            if entry.exactness.isExact { #expect(entry.relativeErrorToReference! < 1e-10, "\(entry.rule)") }
            else { #expect(entry.cosineToReference! > 0.5 && entry.relativeErrorToReference! > 1e-8, "\(entry.rule)") }
        }
        let rtrlBytes = full.rules.first { $0.rule == .rtrl }!.predicted.peakBytes
        let tight = try RuleComparison.run(network: fixture.network, parameters: fixture.parameters, inputs: fixture.inputs, steps: fixture.steps,
                                           batch: fixture.batch, loss: fixture.loss, rules: [.eprop, .rtrl], memoryBudget: rtrlBytes - 1, timeLimit: 600)
        #expect(tight.rules[1].skipped?.contains("exceeds the") == true)
        #expect(tight.reference == nil, "without an exact rule there is nothing to compare against")
    }

    @Test("plasticity compare prints a table, JSON, and an SVG that shows every rule that ran")
    func commandLine() throws {
        let svg = try temporaryDirectory().appendingPathComponent("compare.svg")
        let table = try runTool(["compare", "--model", "LIF", "--hidden", "8", "--inputs", "6", "--outputs", "3", "--steps", "30", "--plot", svg.path])
        #expect(table.status == 0, "\(table.error)")
        for rule in LearningRuleKind.allCases { #expect(table.output.contains(rule.rawValue)) }
        let drawing = try String(contentsOf: svg, encoding: .utf8)
        #expect(drawing.hasPrefix("<svg"))
        for rule in LearningRuleKind.allCases { #expect(drawing.contains(">\(rule.rawValue)</text>")) }
        let json = try runTool(["compare", "--model", "AdLIF", "--no-recurrent", "--hidden", "6", "--inputs", "4", "--outputs", "2", "--steps", "20", "--json", "--rules", "eprop,bptt",
                                "--train", "2", "--train-examples", "32", "--test-examples", "16"])
        let decoded = try JSONDecoder().decode(ComparisonJSON.self, from: Data(json.output.utf8))
        #expect(decoded.gradients.rules.map(\.rule) == [.eprop, .bptt])
        #expect(decoded.gradients.rules[0].relativeErrorToReference! < 1e-4, "without W_rec e-prop is exact (to Float precision)")
        #expect(decoded.training?.map(\.epochs.count) == [2, 2], "each rule trained for two epochs")

        // Sharded as train runs it: the same agreement, storage priced per busy worker.
        let sharded = try runTool(["compare", "--model", "AdLIF", "--no-recurrent", "--hidden", "6", "--inputs", "4", "--outputs", "2", "--steps", "20", "--json",
                                   "--rules", "eprop,bptt", "--batch", "4", "--threads", "2", "--shards", "2"])
        let shardedRules = try JSONDecoder().decode(ComparisonJSON.self, from: Data(sharded.output.utf8)).gradients.rules
        #expect(shardedRules[0].relativeErrorToReference! < 1e-4)
        let whole = try JSONDecoder().decode(ComparisonJSON.self, from: Data(try runTool(["compare", "--model", "AdLIF", "--no-recurrent", "--hidden", "6", "--inputs", "4",
                                                                                          "--outputs", "2", "--steps", "20", "--json", "--rules", "eprop,bptt", "--batch", "4"]).output.utf8)).gradients.rules
        #expect(abs((shardedRules[0].loss ?? 0) - (whole[0].loss ?? 1)) <= 1e-5 * abs(whole[0].loss ?? 1), "the same batch, cut in two")
        #expect(shardedRules.map(\.predicted.peakBytes) != whole.map(\.predicted.peakBytes), "priced as two workers on half the batch each")
    }
}

/// The shape of `compare --json`.
struct ComparisonJSON: Decodable {
    struct Trained: Decodable {
        let rule: LearningRuleKind
        let epochs: [EpochMetrics]
    }
    let gradients: RuleComparison
    let training: [Trained]?
}
