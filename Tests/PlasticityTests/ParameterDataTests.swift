import Foundation
import PlasticityCore
import Testing

@Suite("Neuron parameters from flags, network files and arrays; trained within range")
struct ParameterDataTests {
    @Test("parameter values parse in every stated form and are refused otherwise, naming the form")
    func parsing() throws {
        #expect(try ParameterSource.parse("30") == .constant(30))
        #expect(try ParameterSource.parse("uniform(5, 50)") == .uniform(low: 5, high: 50))
        #expect(try ParameterSource.parse("normal(20,3)") == .normal(mean: 20, deviation: 3))
        #expect(try ParameterSource.parse("LogNormal(3,0.5)") == .logNormal(mu: 3, sigma: 0.5))
        #expect(try ParameterSource.parse("dir/taus.npz:tau") == .array(path: "dir/taus.npz", name: "tau"))
        for (text, cause) in [("uniform(5)", "two finite numbers"), ("uniform(50,5)", "low end"), ("normal(1,0)", "deviation"), ("gamma(1,2)", "unknown distribution"),
                              ("nan", "not finite"), ("abc", "is not a number"), ("uniform(1,inf)", "two finite numbers")] {
            #expect(errorMessage { _ = try ParameterSource.parse(text) }.contains(cause), "\(text)")
        }
    }

    @Test("a population draws per-neuron values from its seed, folds single values, and checks names, sizes and ranges")
    func populationSettings() throws {
        let lif = try TestPlugins.registry.model(named: "LIF").model
        func make(_ settings: PopulationSettings, size: Int = 50, name: String = "h") throws -> Network.Population {
            try Network.Population(name: name, model: lif, size: size, settings: settings) { _, _ in [1, 2, 3] }
        }
        let drawn = try make(PopulationSettings(sources: ["tauMembrane": .uniform(low: 5, high: 50), "threshold": .constant(1.5)], seed: 3))
        #expect(drawn.neuron.parameterInputs == ["tauMembrane"])
        #expect(drawn.neuron.parameters.first { $0.name == "threshold" }?.value == 1.5)
        let taus = drawn.parameters[0].values
        #expect(taus.count == 50 && taus.allSatisfy { (5..<50).contains($0) } && Set(taus).count == 50)
        #expect(try make(PopulationSettings(sources: ["tauMembrane": .uniform(low: 5, high: 50)], seed: 3)).parameters[0].values == taus, "same seed, same draw")
        #expect(try make(PopulationSettings(sources: ["tauMembrane": .uniform(low: 5, high: 50)], seed: 3), name: "g").parameters[0].values != taus,
                "another population draws its own")
        let trained = try make(PopulationSettings(sources: ["tauMembrane": .constant(25)], trained: ["tauMembrane": true, "threshold": false]), size: 4)
        #expect(trained.parameters == [PopulationParameter(name: "tauMembrane", values: [25, 25, 25, 25], trainable: true),
                                       PopulationParameter(name: "threshold", values: [1], trainable: true)])
        #expect(errorMessage { _ = try make(PopulationSettings(sources: ["tauMembran": .constant(3)])) }.contains("tauMembrane"))
        #expect(errorMessage { _ = try make(PopulationSettings(sources: ["tauMembrane": .array(path: "a.npz", name: "t")])) }.contains("1 value or 50"))
        #expect(errorMessage { _ = try make(PopulationSettings(sources: ["tauMembrane": .normal(mean: 1, deviation: 5)])) }.contains("outside its valid range"))
        #expect(errorMessage { _ = try make(PopulationSettings(sources: ["tauMembrane": .uniform(low: 5, high: 6)], trained: ["tauMembrane": false])) }
            .contains("trained as one shared value"))
        #expect(errorMessage { _ = try PopulationSettings.parseTrained(["beta", "beta:shared"]) }.contains("twice"))
        #expect(errorMessage { _ = try PopulationSettings.parseTrained(["beta:each"]) }.contains("NAME:shared"))
    }

    @Test("a network file states per-neuron lists, distributions, .npz arrays (relative to the file) and trained parameters")
    func networkFile() throws {
        let directory = try temporaryDirectory()
        try NumPyArchive.write(["tau": NumPyArray([10.0, 20, 30], shape: [3])], to: directory.appendingPathComponent("taus.npz"))
        let path = directory.appendingPathComponent("n.json").path
        try """
            {"populations": [{"name": "a", "model": "ALIF", "size": 3,
                              "parameters": {"tauMembrane": "taus.npz:tau", "tauAdaptation": "lognormal(5,0.3)", "beta": [1, 1.5, 2]},
                              "train": ["tauAdaptation", "beta:shared"]}],
             "projections": [{"source": "input", "target": "a"}], "readout": {"from": ["a"]}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(errorMessage { _ = try NetworkFile.load(path).build(registry: TestPlugins.registry, inputs: 2, outputs: 2, loadArray: NetworkArrays.parameterArray) }
            .contains("trained as one shared value"), "beta is given per neuron but trained shared")
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "beta:shared", with: "beta").write(toFile: path, atomically: true, encoding: .utf8)
        let network = try NetworkFile.load(path).build(registry: TestPlugins.registry, inputs: 2, outputs: 2, loadArray: NetworkArrays.parameterArray)
        let population = network.populations[0]
        #expect(population.parameters.map(\.name) == ["tauMembrane", "tauAdaptation", "beta"])
        #expect(population.parameters[0].values == [10, 20, 30] && !population.parameters[0].trainable)
        #expect(population.parameters[2].values == [1, 1.5, 2] && population.parameters[2].trainable)
        #expect(network.tensors.suffix(2).map(\.name) == ["a.tauAdaptation", "a.beta"])
        let parameters = ParameterSet<Double>(randomFor: network, seed: 1)
        #expect(parameters["a.beta"] == [1, 1.5, 2])
        #expect(NetworkFileTests.message(NetworkFileTests.minimal.replacingOccurrences(of: "\"size\": 3", with: "\"size\": 3, \"parameters\": {\"tauMembrane\": \"uniform(9)\"}"))
            .contains("populations[0].parameters.tauMembrane is wrong"))
        #expect(NetworkFileTests.message(NetworkFileTests.minimal.replacingOccurrences(of: "\"size\": 3", with: "\"size\": 3, \"parameters\": {\"tauMembrane\": true}"))
            .contains("must be a number, a list of numbers, or a string"))
    }

    @Test("an update keeps trained parameters within the model's range and steps them at their own scale")
    func projection() throws {
        let lif = try TestPlugins.registry.model(named: "LIF").model
        let population = try Network.Population(name: "h", model: lif, size: 2,
                                                parameters: [PopulationParameter(name: "tauMembrane", values: [20, 20], trainable: true)])
        let network = try Network(inputs: 1, populations: [population], projections: [ProjectionDescription(source: "input", target: "h")],
                                  readout: ReadoutDescription(sources: ["h"], outputs: 1))
        let previous = ParameterSet<Double>(randomFor: network, seed: 1)
        var updated = previous
        updated["h.tauMembrane"] = [20.5, -3]
        network.finishNeuronParameterUpdate(&updated, previous: previous)
        #expect(updated["h.tauMembrane"] == [30, 1e-3], "a step of 0.5 scaled by the magnitude 20; a negative τ projected to the range's floor")
        var bad = previous
        bad["h.tauMembrane"] = [20, -1]
        #expect(errorMessage { try network.checkNeuronParameters(bad) }.contains("h.tauMembrane"))
    }
}

extension ParameterDataTests {
    @Test("plasticity grad reads and writes trained parameters by name; a weights file without them starts from the settings")
    func gradCommand() throws {
        let directory = try temporaryDirectory()
        let lif = try TestPlugins.registry.model(named: "LIF").model
        let settings = PopulationSettings(sources: ["tauMembrane": .uniform(low: 5, high: 50)], trained: ["tauMembrane": true, "threshold": false], seed: 2)
        let network = try Network(shape: NetworkShape(inputs: 3, hidden: 4, outputs: 2, recurrent: true, bias: true)) {
            try Network.Population(name: $0, model: lif, size: 4, settings: settings) { _, _ in [] }
        }
        var parameters = ParameterSet<Float>(randomFor: network, seed: 1, inputGain: 4)
        parameters["hidden.tauMembrane"] = [8, 16, 24, 32]
        let weights = directory.appendingPathComponent("w.npz"), batchFile = directory.appendingPathComponent("x.npz"), out = directory.appendingPathComponent("g.npz")
        try NumPyArchive.write(NetworkArrays.arrays(of: parameters, network: network), to: weights)
        var rng = SplitMix64(seed: 5)
        let inputs = (0..<(30 * 2 * 3)).map { _ in Float.random(in: 0...1, using: &rng) }
        try NumPyArchive.write(["inputs": NumPyArray(inputs, shape: [30, 2, 3]), "labels": NumPyArray(integers: [0, 1], shape: [2])], to: batchFile)
        let flags = ["grad", "--model", "LIF", "--set", "tauMembrane=uniform(5,50)", "--train-parameters", "tauMembrane,threshold:shared", "--parameter-seed", "2",
                     "--inputs", batchFile.path, "--out", out.path, "--rule", "bptt"]
        let run = try runTool(flags + ["--weights", weights.path])
        #expect(run.status == 0, "\(run.error)")
        let written = try NumPyArchive.read(out)
        #expect(written["hidden.tauMembrane"]?.shape == [4] && written["hidden.threshold"]?.shape == [1])
        let loss = try Loss<Float>(.crossEntropySummed, steps: 30, batch: 2, outputs: 2, labels: [0, 1])
        let batch = SequenceBatch(inputs: inputs, steps: 30, batch: 2, loss: loss)
        let expected = try ShardedComputation.gradients(rule: .bptt, network: network, parameters: parameters, batch: batch, threads: 1)
        #expect(written["hidden.tauMembrane"] == NumPyArray(expected.gradients["hidden.tauMembrane"], shape: [4]), "the file's τ values are the ones used")
        #expect(expected.gradients["hidden.tauMembrane"].contains { $0 != 0 })
        // Without the parameter arrays, the drawn initial values are used.
        var arrays = NetworkArrays.arrays(of: parameters, network: network)
        arrays["hidden.tauMembrane"] = nil
        arrays["hidden.threshold"] = nil
        try NumPyArchive.write(arrays, to: weights)
        #expect(try runTool(flags + ["--weights", weights.path]).status == 0)
        var initial = parameters
        initial.setInitialNeuronParameters(of: network)
        let fromSettings = try ShardedComputation.gradients(rule: .bptt, network: network, parameters: initial, batch: batch, threads: 1)
        #expect(try NumPyArchive.read(out)["hidden.tauMembrane"] == NumPyArray(fromSettings.gradients["hidden.tauMembrane"], shape: [4]))
        // A τ outside the model's range is refused by name.
        arrays["hidden.tauMembrane"] = NumPyArray([Float](arrayLiteral: 8, -1, 24, 32), shape: [4])
        try NumPyArchive.write(arrays, to: weights)
        let refused = try runTool(flags + ["--weights", weights.path])
        #expect(refused.status != 0 && refused.error.contains("hidden.tauMembrane") && refused.error.contains("outside its valid range"), "\(refused.error)")
    }

    @Test("training learns per-neuron adaptation time constants, within range, and a resumed run keeps them")
    func training() throws {
        let task = try TrainingTests.smallEvidence()
        let alif = try TestPlugins.registry.model(named: "ALIF").model
        let settings = PopulationSettings(sources: ["tauAdaptation": .constant(100)], trained: ["tauAdaptation": true])
        let network = try Network(shape: NetworkShape(inputs: task.inputCount, hidden: 16, outputs: task.outputCount, recurrent: true, bias: true)) {
            try Network.Population(name: $0, model: alif, size: 16, settings: settings) { _, _ in [] }
        }
        var configuration = TrainingConfiguration()
        configuration.epochs = 3
        configuration.batchSize = 16
        configuration.learningRate = 1e-2
        configuration.rule = .eprop
        let checkpoint = try temporaryDirectory().appendingPathComponent("c.json")
        let trainer = try Trainer(network: network, dataset: task, configuration: configuration, checkpoint: checkpoint, resume: false)
        try trainer.run()
        let taus = trainer.state.parameters["hidden.tauAdaptation"]
        #expect(taus.count == 16 && Set(taus).count > 8, "per-neuron values have moved apart: \(taus)")
        #expect(taus.allSatisfy { $0 >= 1e-3 && $0.isFinite })
        #expect(trainer.state.history.last!.trainingLoss < trainer.state.history.first!.trainingLoss)
        let resumed = try Trainer(network: network, dataset: task, configuration: configuration, checkpoint: checkpoint, resume: true)
        #expect(resumed.state.parameters["hidden.tauAdaptation"] == taus)
        // The same graph with other parameter data is another run.
        let other = try Network(shape: NetworkShape(inputs: task.inputCount, hidden: 16, outputs: task.outputCount, recurrent: true, bias: true)) {
            try Network.Population(name: $0, model: alif, size: 16, settings: PopulationSettings(sources: ["tauAdaptation": .constant(150)], trained: ["tauAdaptation": true])) { _, _ in [] }
        }
        #expect(errorMessage { _ = try Trainer(network: other, dataset: task, configuration: configuration, checkpoint: checkpoint, resume: true) }.contains("different run"))
    }
}
