import Foundation
import PlasticityCore
import Testing

@Suite("C plugins")
struct CPluginTests {
    static let source = DatasetTests.fixtures.appendingPathComponent("faulty_plugin.c")
    static let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/PlasticityCore/CPluginABI/include")

    /// Builds the test plugin with `defines`, as a model called `name`.
    static func build(_ name: String, defines: [String] = []) throws -> String {
        let output = try temporaryDirectory().appendingPathComponent("lib\(name).so").path
        let result = try runProgram("clang", ["-shared", "-fPIC", "-O1", "-I", header.path, "-DMODEL_NAME=\"\(name)\""] + defines.map { "-D\($0)" }
            + ["-o", output, source.path, "-lm"])
        guard result.status == 0 else { throw PlasticityError.invalidConfiguration("clang failed for \(name): \(result.error)") }
        return output
    }

    @Test("a plugin of ABI 1 keeps loading; its parameters stay per population, and asking for more says why")
    func versionOnePlugin() throws {
        let registry = ModelRegistry()
        try PluginLoader().load(try Self.build("LeakyOne"), into: registry)
        let model = try registry.model(named: "LeakyOne")
        #expect(try model.compile(ModelConfiguration(parameters: ["alpha": 0.8])).parameters.first?.value == 0.8)
        #expect(errorMessage { _ = try model.compile(ModelConfiguration(parameterInputs: ["alpha"])) }.contains("ABI 1"))
        #expect(errorMessage {
            _ = try Network.Population(name: "h", model: model.model, size: 3, settings: PopulationSettings(trained: ["alpha": true])) { _, _ in [] }
        }.contains("rebuild it for ABI 2"))
    }

    @Test("a correct C plugin loads, verifies and trains with every rule as exactly as a Swift one")
    func correctPlugin() throws {
        let registry = ModelRegistry()
        try PluginLoader().load(try Self.build("LeakyC"), into: registry)
        let neuron = try registry.model(named: "LeakyC").compile()
        #expect(neuron.structure.total.entries == [[.varying]], "A is varying as declared (a kernel), r·c varies")
        #expect(neuron.structure.ownSpikeGain.entries == [[.constant(-1)]])
        let network = try Network(shape: NetworkShape(inputs: 3, hidden: 4, outputs: 2, recurrent: false, bias: true, readoutDecay: 0.5), neuron: neuron)
        let parameters = ParameterSet<Double>(randomFor: network, seed: 3, inputGain: 3)
        let inputs: [Double] = (0..<72).map { index in Double((index * 7) % 5) / 4 }
        let loss = try Loss<Double>(.crossEntropySummed, steps: 12, batch: 2, outputs: 2, labels: [0, 1])
        func run(_ rule: LearningRuleKind) throws -> GradientResult<Double> {
            try GradientComputation.run(rule: rule, network: network, parameters: parameters, inputs: inputs, steps: 12, batch: 2, loss: loss)
        }
        let bptt = try run(.bptt)
        #expect(bptt.spikeCount > 0)
        for rule in [LearningRuleKind.eprop, .denseEprop, .rtrl] {
            #expect(relativeError(try run(rule).gradients, bptt.gradients) < 1e-10, "\(rule)")
        }
    }

    @Test("a C kernel is called once per step for the whole population, never per neuron")
    func oncePerStep() throws {
        let path = try Self.build("Counted")
        let registry = ModelRegistry()
        try PluginLoader().load(path, into: registry)
        let handle = try #require(dlopen(path, RTLD_NOW | RTLD_NOLOAD))
        let calls = unsafeBitCast(try #require(dlsym(handle, "test_update_calls")), to: (@convention(c) () -> Int).self)
        let network = try Network(shape: NetworkShape(inputs: 3, hidden: 300, outputs: 2), neuron: registry.model(named: "Counted").compile())
        let forward = try ForwardPass<Float>(network: network, parameters: ParameterSet(randomFor: network, seed: 1), batch: 2)
        let before = calls()
        let input = [Float](repeating: 0.5, count: 2 * 3)
        for _ in 0..<7 { input.withUnsafeBufferPointer { forward.step(input: $0.baseAddress!) } }
        #expect(calls() - before == 7, "600 neurons, 7 steps: one call of F per step")
    }

    @Test("planted faults are refused with the model, the entry and the mismatch; the process goes on",
          arguments: [
              ("FAULT_WRONG_DERIVATIVE", "entry ∂v[t]/∂v[t-1] is declared varying but finite differences disagree"),
              ("FAULT_FALSE_ZERO", "entry ∂v[t]/∂z[t-1] is declared 0 but finite differences disagree by 1"),
              ("FAULT_WRONG_CONSTANT", "entry ∂v[t]/∂I[t] is declared const 0.5 but finite differences disagree by 0.5"),
              ("FAULT_NAN", "its state update for v is NaN at h = ("),
              ("FAULT_VERSION", "was built for plugin ABI version 3, but this Plasticity speaks version 1 or 2"),
              ("FAULT_MISSING_KERNEL", "model Faulty is invalid: the descriptor has no update kernel (F)"),
              ("FAULT_DUPLICATE_RULE", "rules 2 and 4 both declare entry ∂v[t]/∂I[t]; give each entry one rule"),
          ])
    func plantedFaults(fault: String, expected: String) throws {
        let registry = ModelRegistry()
        let path = try Self.build("Faulty", defines: [fault])
        do {
            try PluginLoader().load(path, into: registry)
            Issue.record("\(fault) must be refused")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            if fault.hasPrefix("FAULT_WRONG") || fault == "FAULT_FALSE_ZERO" || fault == "FAULT_NAN" {
                #expect("\(error)".contains("model Faulty"))
            }
        }
        #expect(registry.all.isEmpty, "nothing of a refused plugin is registered")
        try PluginLoader().load("ALIF", into: registry)
        try PluginLoader().load(try Self.build("Healthy"), into: registry)
        #expect(registry.all.map(\.name) == ["ALIF", "Healthy"])
    }

    @Test("plasticity verify prints every check and fails on a faulty plugin")
    func verifyCommand() throws {
        let good = try runTool(["verify", "Izhikevich"])
        #expect(good.status == 0, "\(good.output)\(good.error)")
        #expect(good.output.contains("∂v[t]/∂u[t-1]") && good.output.contains("ok"))
        let bad = try runTool(["verify", try Self.build("Faulty", defines: ["FAULT_WRONG_CONSTANT"])])
        #expect(bad.status != 0)
        #expect(bad.output.contains("∂v[t]/∂I[t]") && bad.output.contains("FAIL"))
    }
}
