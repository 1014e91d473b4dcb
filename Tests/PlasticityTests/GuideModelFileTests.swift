import Foundation
import PlasticityCore
import Testing

/// The plugin guide's Swift model, as the guide writes it (Documentation/WritingAPlugin.md).
struct GuideMyNeuron: NeuronModel {
    static let name = "MyNeuron"
    static let summary = "leaky neuron with a saturating input"
    static let stateVariables = [StateVariable("v", summary: "membrane potential")]
    static let parameters = [
        ParameterSpec("tau", default: 20, summary: "membrane time constant (ms)", validRange: 1e-3...1e9),
        ParameterSpec("gain", default: 2, summary: "input gain", validRange: 0...1e9),
    ]
    static let defaultSurrogate: any Surrogate = TriangleSurrogate()
    let decay: Sym
    let gain: Sym
    init(parameters: ParameterValues) {
        decay = exp(-1 / parameters.symbol("tau"))
        gain = parameters.symbol("gain")
    }
    func update(_ x: NeuronStepInputs) -> [Sym] { [decay * x.state[0] + gain * tanh(x.current) - stopGradient(x.previousSpike)] }
    func spikeArgument(_ state: [Sym]) -> Sym { state[0] - 1 }
}

@Suite("The plugin guide's examples as model files")
struct GuideModelFileTests {
    static let examples = TestPlugins.repository.appendingPathComponent("Examples/ModelFiles")

    static func textModel(_ file: String, _ parameters: [String: Double] = [:]) throws -> CompiledNeuron {
        try CompiledNeuron(model: ModelFile.load(path: examples.appendingPathComponent(file).path), configuration: ModelConfiguration(parameters: parameters))
    }

    /// The C source the guide writes to MyCNeuron/cond.c.
    static func guideCSource() throws -> String {
        let guide = try String(contentsOf: TestPlugins.repository.appendingPathComponent("Documentation/WritingAPlugin.md"), encoding: .utf8)
        let start = try #require(guide.range(of: "cat > MyCNeuron/cond.c <<'EOF'\n"))
        let end = try #require(guide.range(of: "\nEOF\n", range: start.upperBound..<guide.endIndex))
        return String(guide[start.upperBound..<end.lowerBound])
    }

    @Test("MyNeuron.neuron is the guide's Swift model: the same expressions, annotations and gradients for every rule")
    func swiftExample() throws {
        for parameters in [[:], ["tau": 7.0, "gain": 0.5]] {
            let swift = try CompiledNeuron(model: GuideMyNeuron.self, configuration: ModelConfiguration(parameters: parameters))
            let text = try Self.textModel("MyNeuron.neuron", parameters)
            #expect(text.update.map(\.description) == swift.update.map(\.description))
            #expect(text.spikeArgument.description == swift.spikeArgument.description)
            #expect(text.structure.traceStorage == swift.structure.traceStorage)
            let a = try RuleFixture(neuron: swift, drive: 2, recurrent: true, seed: 5), b = try RuleFixture(neuron: text, drive: 2, recurrent: true, seed: 5)
            for rule in ModelFileTests.rules {
                let expected = try a.gradients(rule)
                #expect(expected.spikeCount > 0)
                #expect(relativeError(try b.gradients(rule).gradients, expected.gradients) <= 1e-12, "\(parameters) \(rule)")
            }
        }
    }

    @Test("ConductanceLIF.neuron equals the guide's C plugin, whose derivatives are written by hand (every rule, ≤ 1e-10)")
    func cExample() throws {
        let directory = try temporaryDirectory()
        let source = directory.appendingPathComponent("cond.c")
        try Self.guideCSource().write(to: source, atomically: true, encoding: .utf8)
        let library = directory.appendingPathComponent("libConductanceLIF.so").path
        let built = try runProgram("clang", ["-shared", "-fPIC", "-O1", "-I", CPluginTests.header.path, "-o", library, source.path, "-lm"])
        try #require(built.status == 0, "\(built.error)")
        let registry = ModelRegistry()
        try PluginLoader().load(library, into: registry)
        for parameters in [[:], ["tau": 5.0, "reversal": 3.0]] {
            let c = try registry.model(named: "ConductanceLIF").compile(ModelConfiguration(parameters: parameters))
            let text = try Self.textModel("ConductanceLIF.neuron", parameters)
            #expect(text.structure.traceStorage == c.structure.traceStorage)
            let a = try RuleFixture(neuron: c, recurrent: true, seed: 9), b = try RuleFixture(neuron: text, recurrent: true, seed: 9)
            for rule in ModelFileTests.rules {
                let expected = try a.gradients(rule)
                #expect(expected.spikeCount > 0)
                #expect(relativeError(try b.gradients(rule).gradients, expected.gradients) <= 1e-10, "\(parameters) \(rule)")
            }
        }
    }
}
