import Foundation
import PlasticityCore
import Testing

@Suite("Network files and the graph flags")
struct NetworkFileTests {
    static let examples = TestPlugins.repository.appendingPathComponent("Examples/Networks")

    static func write(_ json: String) throws -> String {
        let url = try temporaryDirectory().appendingPathComponent("network.json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static func message(_ json: String, inputs: Int? = 4, outputs: Int? = 2) -> String {
        errorMessage { _ = try NetworkFile.load(write(json)).build(registry: TestPlugins.registry, inputs: inputs, outputs: outputs) }
    }

    static let minimal = """
        {"populations": [{"name": "h", "model": "LIF", "size": 3}],
         "projections": [{"source": "input", "target": "h"}],
         "readout": {"from": ["h"]}}
        """

    @Test("the example files build the graphs they describe")
    func examples() throws {
        let twoLayer = try NetworkFile.load(Self.examples.appendingPathComponent("two-layer-alif.json").path)
            .build(registry: TestPlugins.registry, inputs: 40, outputs: 2)
        #expect(twoLayer.tensors.map(\.name) == ["hidden1.input", "hidden1.recurrent", "hidden2.hidden1", "hidden2.recurrent", "hidden1.bias", "hidden2.bias",
                                                 "readout.hidden2", "readout.bias"])
        #expect(twoLayer.populations.allSatisfy { $0.neuron.name == "ALIF" && $0.size == 64 })
        let lsnn = try NetworkFile.load(Self.examples.appendingPathComponent("lsnn.json").path).build(registry: TestPlugins.registry, inputs: 40, outputs: 2)
        #expect(lsnn.readout.sources.count == 2 && lsnn.projections.filter(\.delayed).count == 4)
        let skip = try NetworkFile.load(Self.examples.appendingPathComponent("skip-and-mask.json").path).build(registry: TestPlugins.registry, inputs: nil, outputs: nil)
        #expect(skip.inputs == 40 && skip.outputs == 2 && skip.readoutDecay == 0.5)
        let mask = try #require(skip.projections.first { $0.name == "back.front" }?.mask)
        let density = Double(mask.filter { $0 }.count) / Double(mask.count)
        #expect(density > 0.15 && density < 0.35, "density 0.25 drawn from its seed: \(density)")
        #expect(skip.populations[0].neuron.name == "Izhikevich")
    }

    @Test("a bad network file is refused naming the place and the cause")
    func refusals() throws {
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "\"size\"", with: "\"sise\"")).contains("populations[0] has an unknown key \"sise\" (did you mean \"size\"?"))
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "\"target\": \"h\"}", with: "\"target\": \"h\", \"kind\": \"delayed\"}"))
            .contains("projections[0].kind must be \"feedforward\" (within the step) or \"recurrent\""))
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "\"size\": 3", with: "\"size\": 2.5")).contains("populations[0].size must be a whole number"))
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "\"size\": 3", with: "\"size\": 0")).contains("populations[0].size must be a whole number in 1…"))
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "\"size\": 3", with: "\"size\": 1e12")).contains("must be a whole number in 1…16777216"))
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "\"LIF\"", with: "\"LIFF\"")).contains("LIFF"))
        #expect(Self.message("{\"projections\": [], \"readout\": {\"from\": []}}").contains("has no \"populations\""))
        #expect(Self.message("{\"populations\": [").contains("is not valid JSON"))
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "{\"from\"", with: "{\"decay\": 1, \"from\"")).contains("κ must be in [0, 1)"))
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "\"target\": \"h\"}", with: "\"target\": \"h\", \"mask\": {\"density\": 2}}"))
            .contains("projections[0].mask.density must be in (0, 1]"))
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "\"target\": \"h\"}", with: "\"target\": \"h\", \"mask\": \"one-to-one\"}"))
            .contains("one-to-one mask needs equal sizes, got 3×4"))
        #expect(Self.message(Self.minimal.replacingOccurrences(of: "{\"populations\"", with: "{\"inputs\": 5, \"populations\"")).contains("states 5 inputs, the data has 4"))
        #expect(Self.message(Self.minimal, inputs: nil).contains("does not state \"inputs\""))
        #expect(errorMessage { _ = try NetworkFile.load(temporaryDirectory().path) }.contains("is not a regular file"))
        #expect(errorMessage { _ = try NetworkFile.load("/nonexistent/n.json") }.contains("cannot be read"))
    }

    @Test("plasticity grad writes every rule's gradients of a two-layer network under the tensors' names", arguments: LearningRuleKind.allCases)
    func gradRoundTrip(rule: LearningRuleKind) throws {
        let directory = try temporaryDirectory()
        let networkPath = try Self.write("""
            {"populations": [{"name": "low", "model": "ALIF", "size": 5}, {"name": "high", "model": "LIF", "size": 4}],
             "projections": [{"source": "input", "target": "low", "gain": 3}, {"source": "low", "target": "low", "kind": "recurrent"},
                             {"source": "low", "target": "high", "gain": 3}, {"name": "high.skip", "source": "input", "target": "high"}],
             "readout": {"from": ["low", "high"], "decay": 0.4}}
            """)
        let network = try NetworkFile.load(networkPath).build(registry: TestPlugins.registry, inputs: 3, outputs: 2)
        let parameters = ParameterSet<Float>(randomFor: network, seed: 4, inputGain: 3)
        let weights = directory.appendingPathComponent("w.npz"), batchFile = directory.appendingPathComponent("x.npz"), out = directory.appendingPathComponent("g.npz")
        try NumPyArchive.write(NetworkArrays.arrays(of: parameters, network: network), to: weights)
        var rng = SplitMix64(seed: 3)
        let inputs = (0..<(20 * 2 * 3)).map { _ in Float.random(in: 0...1, using: &rng) }
        try NumPyArchive.write(["inputs": NumPyArray(inputs, shape: [20, 2, 3]), "labels": NumPyArray(integers: [0, 1], shape: [2])], to: batchFile)
        let run = try runTool(["grad", "--network", networkPath, "--rule", rule.rawValue, "--weights", weights.path, "--inputs", batchFile.path, "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        let written = try NumPyArchive.read(out)
        let loss = try Loss<Float>(.crossEntropySummed, steps: 20, batch: 2, outputs: 2, labels: [0, 1])
        let expected = try ShardedComputation.gradients(rule: rule, network: network, parameters: parameters,
                                                        batch: SequenceBatch(inputs: inputs, steps: 20, batch: 2, loss: loss), threads: 1)
        #expect(Set(written.keys) == Set(network.tensors.map(\.name) + ["loss", "spike_count"]))
        for (name, array) in NetworkArrays.arrays(of: expected.gradients, network: network) {
            #expect(written[name] == array, "\(name)")
        }
        #expect(written["readout.low"]?.shape == [2, 5] && written["high.bias"]?.shape == [4])
    }

    @Test("grad refuses a batch whose loss or gradients are not numbers, and writes nothing")
    func gradNonFinite() throws {
        let directory = try temporaryDirectory()
        let network = try Network(shape: NetworkShape(inputs: 3, hidden: 4, outputs: 2, recurrent: true, bias: true), neuron: TestPlugins.compile("LIF"))
        let weights = directory.appendingPathComponent("w.npz"), batchFile = directory.appendingPathComponent("x.npz"), out = directory.appendingPathComponent("g.npz")
        try NumPyArchive.write(NetworkArrays.arrays(of: ParameterSet<Float>(randomFor: network, seed: 1, inputGain: 4), network: network), to: weights)
        var targets = [Float](repeating: 0.5, count: 5 * 2 * 2)
        targets[7] = .nan
        try NumPyArchive.write(["inputs": NumPyArray([Float](repeating: 0.5, count: 30), shape: [5, 2, 3]), "targets": NumPyArray(targets, shape: [5, 2, 2])],
                               to: batchFile)
        let run = try runTool(["grad", "--model", "LIF", "--loss", "mse", "--rule", "bptt", "--weights", weights.path, "--inputs", batchFile.path, "--out", out.path])
        #expect(run.status != 0 && run.error.contains("the loss is nan"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test("grad takes a short form's sizes from the weights' names")
    func gradShortForm() throws {
        let directory = try temporaryDirectory()
        let network = try Network(shape: NetworkShape(inputs: 3, hidden: 4, outputs: 2, recurrent: true, bias: true, layers: 2), neuron: TestPlugins.compile("LIF"))
        let weights = directory.appendingPathComponent("w.npz"), batchFile = directory.appendingPathComponent("x.npz"), out = directory.appendingPathComponent("g.npz")
        try NumPyArchive.write(NetworkArrays.arrays(of: ParameterSet<Float>(randomFor: network, seed: 1, inputGain: 4), network: network), to: weights)
        try NumPyArchive.write(["inputs": NumPyArray([Float](repeating: 0.5, count: 30), shape: [5, 2, 3]),
                                "labels": NumPyArray(integers: [0, 1], shape: [2])], to: batchFile)
        let run = try runTool(["grad", "--model", "LIF", "--layers", "2", "--weights", weights.path, "--inputs", batchFile.path, "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        #expect(try NumPyArchive.read(out)["hidden2.hidden1"]?.shape == [4, 4])
        let oneLayer = try runTool(["grad", "--model", "LIF", "--weights", weights.path, "--inputs", batchFile.path, "--out", out.path])
        #expect(oneLayer.status != 0 && oneLayer.error.contains("hidden.input"), "\(oneLayer.error)")
    }

    @Test("train and plan take a network file and the short forms; a resume with another graph is refused")
    func trainAndPlan() throws {
        let directory = try temporaryDirectory()
        let checkpoint = directory.appendingPathComponent("c.json")
        let common = ["--task", "evidence", "--train-examples", "64", "--test-examples", "16", "--epochs", "1", "--batch-size", "16", "--checkpoint", checkpoint.path]
        let file = try runTool(["train", "--network", Self.examples.appendingPathComponent("lsnn.json").path, "--rule", "bptt"] + common)
        #expect(file.status == 0, "\(file.error)")
        #expect(file.output.contains("regular LIF 60") && file.output.contains("adaptive ALIF 40") && file.output.contains("epoch 1"), "\(file.output)")
        let saved = try TrainingCheckpoint.read(from: checkpoint)
        #expect(saved.parameters.names.contains("regular.adaptive.delayed") && saved.network.populations.count == 2)
        let other = try runTool(["train", "--model", "LIF", "--hidden", "8", "--layers", "2", "--resume"] + common)
        #expect(other.status != 0 && other.error.contains("different run"), "\(other.error)")
        let mixed = try runTool(["train", "--model", "LIF", "--hidden", "6", "--mix", "ALIF:4", "--rule", "eprop", "--deep-feedback", "spatial"] + common.dropLast(2)
                                + ["--checkpoint", directory.appendingPathComponent("m.json").path])
        #expect(mixed.status == 0, "\(mixed.error)")
        let plan = try runTool(["plan", "--model", "ALIF", "--layers", "2", "--hidden", "16", "--recurrent", "--steps", "50"])
        #expect(plan.status == 0 && plan.output.contains("hidden2 ALIF 16") && plan.output.contains("approximate tensors under eprop"), "\(plan.output)")
        let badMix = try runTool(["plan", "--model", "LIF", "--mix", "ALIF:x"])
        #expect(badMix.status != 0 && badMix.error.contains("--mix expects MODEL:N"), "\(badMix.error)")
        let both = try runTool(["plan", "--network", Self.examples.appendingPathComponent("lsnn.json").path, "--layers", "2"])
        #expect(both.status != 0 && both.error.contains("drop --layers and --mix"))
    }
}
