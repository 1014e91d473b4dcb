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
