import Foundation
import PlasticityCore
import Testing

@Suite("Cost model and planner")
struct PlannerTests {
    static func shape(hidden: Int, recurrent: Bool, inputs: Int = 12, decay: Double = 0.5) -> NetworkShape {
        NetworkShape(inputs: inputs, hidden: hidden, outputs: 3, recurrent: recurrent, bias: true, readoutDecay: decay)
    }

    /// Two workloads: a deferred loss with a leaky readout (per-synapse sums), and a loss at
    /// every step with a non-leaky readout (a collapsing model's chunked gradient).
    @Test("predicted peak memory is within 25% of the measured storage for every rule on a grid of N and T", arguments: TestPlugins.names)
    func memoryPrediction(model: String) throws {
        let neuron = try TestPlugins.compile(model)
        for (lossKind, decay) in [(LossKind.crossEntropySummed, 0.5), (.crossEntropyEveryStep, 0)] {
            for hidden in [4, 16] {
                for steps in [10, 40] {
                    for recurrent in [false, true] {
                        let shape = Self.shape(hidden: hidden, recurrent: recurrent, decay: decay)
                        let network = try Network(shape: shape, neuron: neuron)
                        let parameters = ParameterSet<Float>(randomFor: network, seed: 1, inputGain: 3)
                        let batch = 2
                        let inputs = [Float](repeating: 0.5, count: steps * batch * shape.inputs)
                        let labels = (0..<(lossKind == .crossEntropySummed ? batch : steps * batch)).map { $0 % 3 }
                        let loss = try Loss<Float>(lossKind, steps: steps, batch: batch, outputs: 3, labels: labels)
                        let costs = CostModel(network: network,
                                              workload: Workload(batch: batch, steps: steps, deferredLoss: lossKind == .crossEntropySummed))
                        for rule in LearningRuleKind.allCases {
                            let measured = try GradientComputation.run(rule: rule, network: network, parameters: parameters, inputs: inputs,
                                                                       steps: steps, batch: batch, loss: loss).storageBytes
                            let predicted = costs.cost(of: rule).peakBytes
                            let ratio = Double(predicted) / Double(measured)
                            #expect(ratio > 0.75 && ratio < 1.25,
                                    "\(model) \(lossKind) \(rule) N=\(hidden) T=\(steps) recurrent=\(recurrent): predicted \(predicted), measured \(measured)")
                        }
                    }
                }
            }
        }
    }

    @Test("the exactness analysis agrees with the rules' actual agreement with BPTT", arguments: TestPlugins.names)
    func exactnessMatchesAgreement(model: String) throws {
        for recurrent in [false, true] {
            let fixture = try RuleFixture(model: model, recurrent: recurrent, readoutDecay: 0.5)
            let bptt = try fixture.gradients(.bptt).gradients
            for rule in LearningRuleKind.allCases {
                let agrees = relativeError(try fixture.gradients(rule).gradients, bptt) < 1e-9
                let exactness = Exactness.of(rule, network: fixture.network)
                #expect(exactness.isExact == agrees, "\(model) \(rule) recurrent=\(recurrent)")
                #expect(exactness.isExact == exactness.reasons.isEmpty)
            }
        }
        let random = Exactness.of(.eprop, network: try Network(shape: Self.shape(hidden: 4, recurrent: false), neuron: TestPlugins.compile(model)), feedback: .random(seed: 1))
        #expect(!random.isExact && random.reasons[0].contains("random feedback"))
    }

    static func plan(_ model: String, hidden: Int, inputs: Int = 140, recurrent: Bool, batch: Int = 16, steps: Int = 1000,
                     memory: String, policy: PlanningPolicy) throws -> Plan {
        try Planner.plan(network: Network(shape: NetworkShape(inputs: inputs, hidden: hidden, outputs: 20, recurrent: recurrent), neuron: TestPlugins.compile(model)),
                         workload: Workload(batch: batch, steps: steps), memoryBudget: MemorySize.parse(memory), policy: policy)
    }

    @Test("the planner prices the shard: a worker holds the rule on B/S sequences, a process its busy workers and, between ranks, the exchange")
    func shardedPlans() throws {
        let network = try Network(shape: Self.shape(hidden: 32, recurrent: true), neuron: TestPlugins.compile("ALIF"))
        let workload = Workload(batch: 30, steps: 50)
        let single = try Planner.plan(network: network, workload: workload, memoryBudget: 1 << 40, policy: .fastest)
        // 4 shards of up to 8 sequences, 3 threads: 2 rounds of shards on 2 busy workers.
        let threads = Parallelism(shards: 4, threads: 3)
        let sharded = try Planner.plan(network: network, workload: workload, memoryBudget: 1 << 40, policy: .fastest, parallelism: threads)
        let distributed = try Planner.plan(network: network, workload: workload, memoryBudget: 1 << 40, policy: .fastest,
                                           parallelism: Parallelism(shards: 4, threads: 3, ranks: 2))
        let shard = CostModel(network: network, workload: Workload(batch: 8, steps: 50))
        for (index, rule) in LearningRuleKind.allCases.enumerated() {
            let alone = shard.cost(of: rule)
            #expect(single.assessments[index].workerBytes == single.assessments[index].processBytes)
            #expect(sharded.assessments[index].workerBytes == alone.peakBytes, "\(rule)")
            #expect(sharded.assessments[index].processBytes == 3 * alone.peakBytes)
            #expect(abs(sharded.assessments[index].cost.secondsPerStep - 2 * alone.secondsPerStep) <= 1e-12 * alone.secondsPerStep)
            // Two processes: two shards each, on two workers, one round; the exchange on top.
            let exchange = distributed.assessments[index].processBytes - 2 * alone.peakBytes
            #expect(exchange == Parallelism(shards: 4, threads: 3, ranks: 2).exchangeBytes(network: network, workload: workload) && exchange > 0)
            #expect(abs(distributed.assessments[index].cost.secondsPerStep - alone.secondsPerStep) <= 1e-12 * alone.secondsPerStep)
        }
        // A budget one process cannot meet with every worker busy rules the rule out.
        let tight = sharded.assessments.first { $0.cost.rule == .eprop }!.processBytes - 1
        let limited = try Planner.plan(network: network, workload: workload, memoryBudget: tight, policy: .fastest, parallelism: threads)
        #expect(limited.assessments.first { $0.cost.rule == .eprop }!.fitsBudget == false)
    }

    @Test("without --shards each rule is priced at its own shard count: the forward rules at most 4 sequences a shard in a multiple of 4, BPTT 4")
    func shardsByRule() throws {
        let expected: [(batch: Int, forward: Int)] = [(1, 1), (3, 3), (4, 4), (16, 4), (17, 8), (20, 8), (32, 8), (33, 12), (64, 16), (256, 64)]
        for (batch, forward) in expected {
            for rule in LearningRuleKind.allCases {
                let count = ShardedComputation.defaultShards(rule: rule, batch: batch)
                #expect(count == (rule == .bptt ? ShardedComputation.defaultShards : forward), "\(rule), B = \(batch)")
                #expect(rule == .bptt || ShardedComputation.shards(batch: batch, count: count).allSatisfy { $0.count <= ShardedComputation.forwardShardSequences })
            }
        }
        let network = try Network(shape: Self.shape(hidden: 32, recurrent: true), neuron: TestPlugins.compile("ALIF"))
        let workload = Workload(batch: 32, steps: 50)
        let byRule = try Planner.plan(network: network, workload: workload, memoryBudget: 1 << 40, policy: .fastest,
                                      parallelism: Parallelism(shards: 4, threads: 2, shardsByRule: true))
        for assessment in byRule.assessments {
            let rule = assessment.cost.rule, shards = rule == .bptt ? 4 : 8
            let given = try Planner.plan(network: network, workload: workload, memoryBudget: 1 << 40, policy: .fastest,
                                         parallelism: Parallelism(shards: shards, threads: 2))
            let same = given.assessments.first { $0.cost.rule == rule }!
            #expect(assessment.shards == shards && same.shards == shards, "\(rule)")
            #expect(assessment.workerBytes == same.workerBytes && assessment.processBytes == same.processBytes, "\(rule)")
            #expect(Parallelism(shards: 4, threads: 2, shardsByRule: true).processCost(of: rule, network: network, workload: workload).peakBytes
                    == Parallelism(shards: shards, threads: 2).processCost(of: rule, network: network, workload: workload).peakBytes)
        }
    }

    /// Gathering, a rank holds every shard's result; summing, one vector each way of the
    /// gradients, the batch's readouts and the spike counts, whatever the shards.
    @Test("the summed exchange's buffers do not grow with the shards; the gathering one's do")
    func exchangeBuffers() throws {
        let network = try Network(shape: Self.shape(hidden: 32, recurrent: true), neuron: TestPlugins.compile("ALIF"))
        let workload = Workload(batch: 32, steps: 50)
        let gradients = network.tensors.reduce(0) { $0 + $1.count }
        func bytes(_ exchange: ShardExchange, shards: Int) -> Int {
            Parallelism(shards: shards, threads: 2, ranks: 4, exchange: exchange).exchangeBytes(network: network, workload: workload)
        }
        let summed = 2 * (4 + 2 + network.neuronCount + 50 * 32 * network.outputs + gradients) * 8
        #expect(bytes(.sum, shards: 4) == summed && bytes(.sum, shards: 32) == summed)
        #expect(bytes(.gather, shards: 32) > 4 * bytes(.gather, shards: 4) / 2 && bytes(.gather, shards: 32) > summed)
        #expect(Parallelism(shards: 8, threads: 2, ranks: 1, exchange: .sum).exchangeBytes(network: network, workload: workload) == 0, "one process exchanges nothing")
    }

    @Test("e-prop when it is exact and cheapest")
    func choosesEProp() throws {
        let plan = try Self.plan("LIF", hidden: 256, recurrent: false, memory: "4GiB", policy: .exact)
        #expect(plan.chosen == .eprop)
        #expect(plan.choice.exactness.isExact)
        #expect(plan.assessments.allSatisfy { $0.cost.secondsPerStep >= plan.choice.cost.secondsPerStep })
        #expect(plan.assessments.first { $0.cost.rule == .bptt }?.ruledOut?.contains("slower per step") == true)
    }

    @Test("BPTT when exactness is required with W_rec and the sequence fits")
    func choosesBPTT() throws {
        let plan = try Self.plan("ALIF", hidden: 256, recurrent: true, memory: "8GiB", policy: .exact)
        #expect(plan.chosen == .bptt)
        #expect(plan.choice.cost.checkpointInterval == nil)
        let eprop = plan.assessments.first { $0.cost.rule == .eprop }!
        #expect(eprop.ruledOut == "not exact" && eprop.exactness.reasons.contains { $0.contains("W_rec couples neurons") })
    }

    @Test("RTRL when exactness is required, BPTT does not fit even checkpointed, and N is small")
    func choosesRTRL() throws {
        let plan = try Self.plan("LIF", hidden: 8, inputs: 4, recurrent: true, batch: 1, steps: 1_000_000, memory: "100KB", policy: .exact)
        #expect(plan.chosen == .rtrl)
        let bptt = plan.assessments.first { $0.cost.rule == .bptt }!
        #expect(!bptt.fitsBudget && bptt.cost.checkpointInterval != nil)
    }

    @Test("BPTT checkpoints when the full sequence does not fit")
    func checkpointsToFit() throws {
        let plan = try Self.plan("ALIF", hidden: 256, recurrent: true, steps: 100_000, memory: "1GiB", policy: .exact)
        #expect(plan.chosen == .bptt)
        #expect(plan.choice.cost.checkpointInterval != nil && plan.choice.cost.peakBytes <= 1 << 30)
    }

    @Test("the online policy never picks BPTT; fastest may")
    func policies() throws {
        let online = try Self.plan("ALIF", hidden: 256, recurrent: true, memory: "4GiB", policy: .online)
        #expect(online.chosen == .eprop)
        #expect(online.explanation.contains("approximate"))
        let fastest = try Self.plan("ALIF", hidden: 256, recurrent: false, memory: "4GiB", policy: .fastest)
        #expect(fastest.choice.cost.secondsPerStep == fastest.assessments.filter(\.fitsBudget).map(\.cost.secondsPerStep).min())
    }

    @Test("no rule within the budget is a clear refusal")
    func refusal() throws {
        do {
            _ = try Self.plan("ALIF", hidden: 64, recurrent: true, memory: "1KB", policy: .exact)
            Issue.record("a 1 KB budget must be refused")
        } catch {
            let text = "\(error)"
            #expect(text.contains("no learning rule satisfies the 'exact' policy"))
            for rule in LearningRuleKind.allCases { #expect(text.contains("\(rule.rawValue): ")) }
        }
        #expect(throws: PlasticityError.self) { try MemorySize.parse("lots") }
        #expect(try MemorySize.parse("4GiB") == 4 << 30)
    }
}

@Suite("Time model")
struct TimeModelTests {
    static let shape = NetworkShape(inputs: 140, hidden: 64, outputs: 20)
    static let workload = Workload(batch: 4, steps: 100)

    @Test("a C plugin's kernel calls are priced once per call and step; Swift models make none")
    func externalCalls() throws {
        let izhikevich = try TestPlugins.compile("Izhikevich")
        #expect(try TestPlugins.compile("LIF").makeStepKernel(Float.self).externalCallCount == 0)
        // F's two outputs come from one grouped call; then f and the seven VARYING partials.
        let calls = izhikevich.makeStepKernel(Float.self).externalCallCount
        #expect(calls == 9)
        var free = MachineModel.reference
        free.externalCallSeconds = 0
        for rule in LearningRuleKind.allCases {
            let priced = CostModel(network: try Network(shape: Self.shape, neuron: izhikevich), workload: Self.workload).cost(of: rule).secondsPerStep
            let unpriced = CostModel(network: try Network(shape: Self.shape, neuron: izhikevich), workload: Self.workload, machine: free).cost(of: rule).secondsPerStep
            #expect(abs(priced - unpriced - Double(calls) * MachineModel.reference.externalCallSeconds) < 1e-12, "\(rule)")
        }
    }

    @Test("sparse inputs cut the forward product's work; cached working sets stream faster", arguments: ["LIF", "ALIF"])
    func sparsityAndCache(model: String) throws {
        let neuron = try TestPlugins.compile(model)
        let sparse = Workload(batch: 4, steps: 100, inputDensity: 0.05)
        let dense = CostModel(network: try Network(shape: Self.shape, neuron: neuron), workload: Self.workload)
        let skipping = CostModel(network: try Network(shape: Self.shape, neuron: neuron), workload: sparse)
        // The input product is 2·B·N·I flops when dense; 95% of it is skipped. BPTT skips as
        // much again in its input-weight gradient, and e-prop's chunked gradient (a loss at
        // every step, a non-leaky readout) as much again for the gradient and for each
        // per-synapse component (ALIF's adaptation): one row per non-zero input each.
        let saved = 2.0 * 4 * 64 * 140 * 0.95
        let synaptic = Double(neuron.structure.traceStorage.filter { $0 == .perSynapse }.count)
        #expect(synaptic == (model == "LIF" ? 0 : 1))
        for rule in LearningRuleKind.allCases {
            let expected = rule == .bptt ? 2 * saved : rule == .eprop ? (2 + synaptic) * saved : saved
            #expect(abs(dense.cost(of: rule).flopsPerStep - skipping.cost(of: rule).flopsPerStep - expected) < 1, "\(rule)")
        }
        var uncached = MachineModel.reference
        uncached.caches = []
        let fromMemory = CostModel(network: try Network(shape: Self.shape, neuron: neuron), workload: Self.workload, machine: uncached)
        for rule in LearningRuleKind.allCases {
            #expect(fromMemory.cost(of: rule).secondsPerStep >= dense.cost(of: rule).secondsPerStep, "\(rule)")
        }
        // RTRL passes over its whole influence (B·N·k·Θ, 9 MB here) every step: it fits in the
        // L3, and RTRL is limited by that traffic.
        #expect(fromMemory.cost(of: .rtrl).secondsPerStep > dense.cost(of: .rtrl).secondsPerStep)
    }
}
