import Foundation
import PlasticityCore
import Testing

/// The benchmark commands on networks small enough for a debug build: what they report, not
/// how fast anything ran (no wall-clock time is asserted).
@Suite("plasticity bench")
struct BenchCommandTests {
    static func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try runTool(["bench"] + arguments + ["--json", "--batch", "2", "--inputs", "6", "--outputs", "3", "--repetitions", "1"])
        #expect(result.status == 0, "\(result.error)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
    }

    @Test("cost-model runs every rule for every model, size and recurrence and reports predicted and measured times")
    func costModel() throws {
        let report = try Self.json(["cost-model", "--models", "LIF,Izhikevich", "--sizes", "4,8", "--steps", "5"])
        let configurations = try #require(report["configurations"] as? [[String: Any]])
        #expect(configurations.count == 2 * 2 * 2)
        for configuration in configurations {
            let rules = try #require(configuration["rules"] as? [[String: Any]])
            #expect(Set(rules.compactMap { $0["rule"] as? String }) == Set(LearningRuleKind.allCases.map(\.rawValue)))
            for rule in rules {
                #expect((rule["predictedSecondsPerStep"] as? Double ?? 0) > 0)
                #expect((rule["measuredSecondsPerStep"] as? Double ?? 0) > 0)
            }
        }
        #expect(Set(configurations.compactMap { $0["model"] as? String }) == ["LIF", "Izhikevich"])
        #expect(Set(configurations.compactMap { $0["recurrent"] as? Bool }) == [false, true])
    }

    @Test("scaling fits an exponent per rule; memory holds e-prop's storage fixed as T grows")
    func scalingAndMemory() throws {
        let scaling = try Self.json(["scaling", "--model", "ALIF", "--sizes", "4,8,16", "--steps", "5"])
        let exponents = try #require(scaling["exponents"] as? [String: Double])
        #expect(Set(exponents.keys) == Set(LearningRuleKind.allCases.map(\.rawValue)))
        let memory = try Self.json(["memory", "--model", "ALIF", "--hidden", "4", "--lengths", "10,40", "--rules", "eprop,bptt"])
        let points = try #require(memory["points"] as? [[String: Any]])
        let storage = { (rule: String) in points.filter { $0["rule"] as? String == rule }.compactMap { $0["storageBytes"] as? Int } }
        #expect(storage("eprop").count == 2 && Set(storage("eprop")).count == 1)
        #expect(storage("bptt").count == 2 && storage("bptt")[1] > storage("bptt")[0])
    }

    /// Sharded, every worker holds its own buffers for its shard: the prediction must price the
    /// shards on their workers, not the batch whole (which under-predicted BPTT by a third).
    @Test("scaling with threads and shards predicts each rule's storage as it runs, within 10%")
    func shardedStoragePredicted() throws {
        for (threads, shards) in [("1", "1"), ("2", "2")] {
            let report = try Self.json(["scaling", "--model", "ALIF", "--sizes", "8,32", "--steps", "5", "--recurrent", "--threads", threads, "--shards", shards])
            let points = try #require(report["points"] as? [[String: Any]])
            #expect(points.count == 2 * LearningRuleKind.allCases.count)
            for point in points {
                let measured = try #require(point["storageBytes"] as? Int), predicted = try #require(point["predictedBytes"] as? Int)
                #expect(abs(Double(predicted) / Double(measured) - 1) < 0.1,
                        "\(point["rule"] ?? "") N=\(point["hidden"] ?? ""), \(threads) threads, \(shards) shards: predicted \(predicted) B, measured \(measured) B")
            }
        }
    }

    @Test("threads reports a row per rule and thread count, the first at 1.00×, from interleaved repetitions")
    func threads() throws {
        let result = try runTool(["bench", "threads", "--hidden", "6", "--steps", "4", "--batch", "4", "--inputs", "5", "--outputs", "3",
                                  "--shards", "2", "--thread-counts", "1,2", "--repetitions", "3", "--rules", "eprop,bptt"])
        #expect(result.status == 0, "\(result.error)")
        // Columns are separated by at least two spaces ("12.3 µs" is one).
        let rows = result.output.split(separator: "\n").map { $0.split(separator: #/ {2,}/#).map(String.init) }.filter { ["eprop", "bptt"].contains($0.first) }
        #expect(rows.map { [$0[0], $0[3]] } == [["eprop", "1"], ["eprop", "2"], ["bptt", "1"], ["bptt", "2"]])
        #expect(rows.filter { $0[3] == "1" }.allSatisfy { $0.contains("1.00×") }, "the first thread count is the reference")
        #expect(result.output.contains("median of the ratios within a round of interleaved repetitions"))
    }

    @Test("side-by-side times every model under every rule and reports ratios to the first model")
    func sideBySide() throws {
        let report = try Self.json(["side-by-side", "--models", "LIF,TextLIF", "--sizes", "8", "--steps", "5",
                                    "--plugin", TestPlugins.repository.appendingPathComponent("Models/LIF.neuron").path])
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.count == 2 * LearningRuleKind.allCases.count)
        for row in rows where row["model"] as? String == "LIF" { #expect(row["medianRatio"] as? Double == 1) }
        #expect(rows.filter { $0["model"] as? String == "TextLIF" }.allSatisfy { ($0["medianRatio"] as? Double ?? 0) > 0 })
    }
}
