import Foundation
import PlasticityCore
import Testing

@Suite("Learning rules on network graphs")
struct GraphRuleTests {
    @Test("BPTT matches finite differences in smooth mode", arguments: GraphCase.allCases)
    func bpttMatchesFiniteDifferences(_ graph: GraphCase) throws {
        let fixture = try graph.fixture(differentiableReset: true)
        let smooth = RuleOptions(spikes: .smooth)
        let analytic = try fixture.gradients(.bptt, options: smooth).gradients
        let numeric = try finiteDifferences(of: fixture.parameters) { try fixture.gradients(.bptt, parameters: $0, options: smooth).loss }
        let error = relativeError(analytic, numeric)
        #expect(error < 1e-6, "relative error \(error)")
        for name in numeric.names where !name.hasSuffix(".bias") {
            #expect(numeric[name].contains { Swift.abs($0) > 1e-4 }, "tensor \(name) must matter to the loss")
            #expect(relativeError(analytic[name], numeric[name]) < 1e-5, "\(name)")
        }
    }

    @Test("RTRL equals BPTT to 1e-10, with every population spiking", arguments: GraphCase.allCases)
    func rtrlEqualsBPTT(_ graph: GraphCase) throws {
        for lossKind in [LossKind.crossEntropyEveryStep, .crossEntropySummed] {
            let fixture = try graph.fixture(lossKind: lossKind)
            let bptt = try fixture.gradients(.bptt), rtrl = try fixture.gradients(.rtrl)
            #expect(bptt.spikesPerPopulation(of: fixture.network).allSatisfy { $0 > 0 }, "every population spikes: \(bptt.spikesPerPopulation(of: fixture.network))")
            #expect(Swift.abs(bptt.loss - rtrl.loss) < 1e-12)
            let error = relativeError(rtrl.gradients, bptt.gradients)
            #expect(error < 1e-10, "\(lossKind): relative error \(error)")
        }
    }

    /// Tensor by tensor: equal to BPTT where `Exactness` says exact, measurably not elsewhere.
    @Test("e-prop equals BPTT exactly on the tensors Exactness calls exact, and differs on the others",
          arguments: GraphCase.allCases, [DeepFeedback.broadcast(seed: 5), .spatial])
    func epropExactWhereStated(_ graph: GraphCase, deep: DeepFeedback) throws {
        let fixture = try graph.fixture()
        let options = RuleOptions(deepFeedback: deep)
        let bptt = try fixture.gradients(.bptt).gradients
        let eprop: ParameterSet<Double>
        do {
            eprop = try fixture.gradients(.eprop, options: options).gradients
        } catch {
            // Spatial signals need a population downstream within the step.
            #expect(deep == .spatial && "\(error)".contains("no spatial learning signal"), "\(error)")
            return
        }
        let exactness = Exactness.of(.eprop, network: fixture.network, deepFeedback: deep)
        #expect(exactness.isExact == exactness.approximateTensors.isEmpty)
        for name in bptt.names {
            let error = relativeError(eprop[name], bptt[name])
            if exactness.approximateTensors.contains(name) {
                #expect(error > 1e-6, "\(name) is said to be approximate, but e-prop's gradient equals BPTT's (error \(error))")
            } else {
                #expect(error < 1e-9, "\(name) is said to be exact, but differs from BPTT by \(error); reasons: \(exactness.reasons)")
            }
        }
    }

    @Test("the exactness analysis names what makes each graph approximate")
    func exactnessReasons() throws {
        let stacked = Exactness.of(.eprop, network: try GraphCase.stacked.network())
        #expect(Set(stacked.approximateTensors) == ["hidden1.input", "hidden1.recurrent", "hidden1.bias", "hidden2.hidden1", "hidden2.recurrent", "hidden2.bias"])
        #expect(stacked.reasons.contains { $0.contains("hidden1 is not read out") })
        let skip = Exactness.of(.eprop, network: try GraphCase.skip.network())
        #expect(Set(skip.approximateTensors) == ["lower.input", "lower.bias"], "the top layer has no memory loop: its inputs are exact")
        let relay = try GraphCase.relay.network()
        #expect(Exactness.of(.eprop, network: relay, deepFeedback: .spatial).isExact, "a memoryless population passes an exact spatial signal")
        #expect(Exactness.of(.eprop, network: relay).reasons.contains { $0.contains("broadcast") })
        let lsnn = Exactness.of(.eprop, network: try GraphCase.lsnn.network())
        #expect(lsnn.reasons.contains { $0.contains("W_rec couples neurons of lif") } && lsnn.reasons.contains { $0.contains("W_rec couples neurons of alif") },
                "\(lsnn.reasons)")
        #expect(Set(lsnn.approximateTensors).isSuperset(of: ["lif.input", "alif.input", "lif.alif.delayed", "alif.lif.delayed"]))
        let loop = try Network(inputs: 2, populations: ["a", "b"].map { Network.Population(name: $0, neuron: NetworkGraphTests.lif, size: 2) },
                               projections: [.init(source: "input", target: "a"), .init(source: "a", target: "b"), .init(source: "b", target: "a", delayed: true)],
                               readout: ReadoutDescription(sources: ["b"], outputs: 2))
        #expect(Exactness.of(.eprop, network: loop).reasons.contains { $0.contains("b is on the loop b → a → b") }, "\(Exactness.of(.eprop, network: loop).reasons)")
        for rule in [LearningRuleKind.bptt, .rtrl] { #expect(Exactness.of(rule, network: try GraphCase.lsnn.network()).isExact) }
    }

    @Test("checkpointed BPTT gives the same gradients on every graph", arguments: GraphCase.allCases)
    func checkpointedBPTT(_ graph: GraphCase) throws {
        let fixture = try graph.fixture(lossKind: .crossEntropySummed, steps: 40)
        let full = try fixture.gradients(.bptt)
        let checkpointed = try fixture.gradients(.bptt, options: RuleOptions(checkpointInterval: 6))
        #expect(relativeError(checkpointed.gradients, full.gradients) < 1e-12)
        #expect(checkpointed.storageBytes < full.storageBytes)
    }

    @Test("dense e-prop equals sparse e-prop on every graph, for both deep signals", arguments: GraphCase.allCases)
    func denseEqualsSparse(_ graph: GraphCase) throws {
        let fixture = try graph.fixture(lossKind: .meanSquaredError)
        for deep in [DeepFeedback.broadcast(seed: 3), .spatial] {
            let options = RuleOptions(deepFeedback: deep)
            guard let sparse = try? fixture.gradients(.eprop, options: options) else { continue }
            let dense = try fixture.gradients(.denseEprop, options: options)
            #expect(relativeError(dense.gradients, sparse.gradients) < 1e-10, "\(deep)")
        }
    }

    @Test("masked entries get no gradient from any rule and keep their zero weight through training")
    func masks() throws {
        let fixture = try GraphCase.masked.fixture()
        let network = fixture.network
        for projection in network.projections {
            let mask = try #require(projection.mask)
            #expect(mask.contains(false) && mask.contains(true))
            for rule in LearningRuleKind.allCases {
                let gradient = try fixture.gradients(rule).gradients[projection.name]
                #expect(zip(gradient, mask).allSatisfy { $1 || $0 == 0 }, "\(rule) \(projection.name)")
                #expect(zip(gradient, mask).contains { $1 && $0 != 0 })
            }
        }
        // Weights given with non-zero masked entries are used masked: the same gradients.
        var unmasked = fixture.parameters
        unmasked["hidden.input"] = unmasked["hidden.input"].map { $0 + 0.3 }
        var remasked = unmasked
        remasked["hidden.input"] = zip(unmasked["hidden.input"], network.projections[0].mask!).map { $1 ? $0 : 0 }
        #expect(try fixture.gradients(.bptt, parameters: unmasked).gradients == fixture.gradients(.bptt, parameters: remasked).gradients)
        var optimizer = Adam<Double>(decoupledWeightDecay: 0.1)
        var parameters = fixture.parameters
        for _ in 0..<3 { optimizer.update(&parameters, gradients: try fixture.gradients(.eprop, parameters: parameters).gradients, rate: 0.1) }
        #expect(zip(parameters["hidden.recurrent"], network.projections[1].mask!).allSatisfy { $1 || $0 == 0 })
    }

    @Test("a stacked network's forward pass equals its layers run one after the other")
    func stackedForwardComposes() throws {
        let fixture = try GraphCase.skip.fixture()
        let network = fixture.network
        let forward = try ForwardPass(network: network, parameters: fixture.parameters, batch: fixture.batch)
        // The same network with the lower layer's spikes fed as data to the upper layer.
        let lower = try Network(inputs: 4, populations: [network.populations[0]], projections: [ProjectionDescription(source: "input", target: "lower")],
                                readout: ReadoutDescription(sources: ["lower"], outputs: 3))
        let lowerParameters = ParameterSet<Double>([("lower.input", fixture.parameters["lower.input"]), ("lower.bias", fixture.parameters["lower.bias"]),
                                                    ("readout.lower", [Double](repeating: 0, count: 15)), ("readout.bias", [0, 0, 0])])
        let lowerPass = try ForwardPass(network: lower, parameters: lowerParameters, batch: fixture.batch)
        var spikes: [Double] = []
        fixture.inputs.withUnsafeBufferPointer { x in
            for t in 0..<fixture.steps {
                let input = x.baseAddress! + t * fixture.batch * 4
                forward.step(input: input)
                lowerPass.step(input: input)
                spikes += lowerPass.populations[0].spike.array
                #expect(forward.populations[0].spike.array == lowerPass.populations[0].spike.array)
                // Upper current = W_skip x_t + W_lower→upper z_t^lower + b.
                let upper = forward.populations[1]
                for b in 0..<fixture.batch {
                    for j in 0..<4 {
                        var current = fixture.parameters["upper.bias"][j]
                        for i in 0..<4 { current += fixture.parameters["upper.skip"][j * 4 + i] * input[b * 4 + i] }
                        for i in 0..<5 { current += fixture.parameters["upper.lower"][j * 5 + i] * lowerPass.populations[0].spike[b * 5 + i] }
                        #expect(Swift.abs(upper.current[b * 4 + j] - current) < 1e-12)
                    }
                }
            }
        }
        #expect(spikes.contains(1))
    }
}

@Suite("Network graphs: structure and errors")
struct NetworkGraphTests {
    static let lif = { try! TestPlugins.compile("LIF") }()

    static func message(populations: [(String, Int)] = [("a", 3), ("b", 3)], projections: [ProjectionDescription], readout: [String] = ["b"]) -> String {
        errorMessage {
            _ = try Network(inputs: 2, populations: populations.map { Network.Population(name: $0.0, neuron: lif, size: $0.1) }, projections: projections,
                            readout: ReadoutDescription(sources: readout, outputs: 2))
        }
    }

    @Test("populations are stepped in the order of the within-step projections, whatever their declaration order")
    func stepOrder() throws {
        let network = try Network(inputs: 2, populations: ["c", "b", "a"].map { Network.Population(name: $0, neuron: Self.lif, size: 2) },
                                  projections: [ProjectionDescription(source: "b", target: "c"), ProjectionDescription(source: "a", target: "b"),
                                                ProjectionDescription(source: "input", target: "a"), ProjectionDescription(source: "c", target: "a", delayed: true)],
                                  readout: ReadoutDescription(sources: ["c"], outputs: 2))
        #expect(network.populations.map(\.name) == ["a", "b", "c"])
        #expect(network.tensors.map(\.name) == ["c.b", "b.a", "a.input", "a.c.delayed", "a.bias", "b.bias", "c.bias", "readout.c", "readout.bias"])
    }

    @Test("impossible graphs are refused, naming the cause")
    func refusals() {
        let cycle = Self.message(projections: [.init(source: "input", target: "a"), .init(source: "a", target: "b"), .init(source: "b", target: "a")])
        #expect(cycle.contains("within-step projections form a cycle: a → b → a"), "\(cycle)")
        #expect(Self.message(projections: [.init(source: "input", target: "a"), .init(source: "a", target: "a")]).contains("cycle: a → a"))
        #expect(Self.message(projections: [.init(source: "input", target: "a", delayed: true)]).contains("the input group has no previous step"))
        #expect(Self.message(projections: [.init(source: "inptu", target: "a")]).contains("source 'inptu' is neither 'input' nor a population"))
        #expect(Self.message(projections: [.init(source: "input", target: "a"), .init(source: "input", target: "b")], readout: ["c"])
            .contains("the readout reads 'c', which is not a population"))
        #expect(Self.message(projections: [.init(source: "input", target: "b")]).contains("population 'a' receives no projection"))
        #expect(Self.message(projections: [.init(source: "input", target: "a"), .init(source: "input", target: "b")])
            .contains("population 'a' does not reach the readout"))
        #expect(Self.message(projections: [.init(source: "input", target: "a"), .init(source: "a", target: "b"), .init(name: "b.x", source: "a", target: "b")])
            .contains("declared twice"))
        #expect(Self.message(populations: [("input", 2)], projections: [], readout: ["input"]).contains("reserved"))
        #expect(Self.message(populations: [("a.b", 2)], projections: [], readout: ["a.b"]).contains("without dots"))
        #expect(Self.message(projections: [.init(source: "input", target: "a", mask: [true]), .init(source: "a", target: "b")])
            .contains("mask of projection input → a"))
        #expect(Self.message(projections: [.init(source: "input", target: "a", gain: -1), .init(source: "a", target: "b")]).contains("gain"))
        #expect(Self.message(populations: [("a", 1 << 20), ("b", 3)], projections: [.init(source: "input", target: "a"), .init(source: "a", target: "a", delayed: true),
                                                                             .init(source: "a", target: "b")])
            .contains("tensor a.recurrent (1048576×1048576) takes the network past 2147483648 weights"), "sizes are checked before anything is allocated")
    }

    @Test("parameters are checked against the network by name and size")
    func parameterChecks() throws {
        let network = try GraphCase.stacked.network()
        var parameters = ParameterSet<Float>(randomFor: network, seed: 1)
        #expect(parameters.names == network.tensors.map(\.name))
        parameters["hidden2.hidden1"] = [Float](repeating: 0, count: 16)
        #expect(throws: Never.self) { try ForwardPass(network: network, parameters: parameters, batch: 1) }
        let missing = ParameterSet<Float>(parameters.named.filter { $0.name != "hidden2.recurrent" })
        #expect(errorMessage { _ = try ForwardPass(network: network, parameters: missing, batch: 1) }.contains("hidden2.recurrent"))
        let decoded = try JSONDecoder().decode(ParameterSet<Float>.self, from: JSONEncoder().encode(parameters))
        #expect(decoded == parameters, "checkpoints keep the names and their order")
    }
}
