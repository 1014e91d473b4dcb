import Foundation
import PlasticityCore
import Testing

@Suite("Out-of-tree Swift plugin")
struct OutOfTreePluginTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Builds Examples/QuadraticIF as its own package (as a user outside this repository would).
    /// SwiftPM does not notice files added to or removed from the core package, a path
    /// dependency, in a scratch directory it built before; a failed build is retried once with
    /// the build description dropped, so a stale one is rebuilt rather than reported.
    static func buildExample() throws -> String {
        let scratch = repository.appendingPathComponent(".build-examples")
        func build() throws -> (status: Int32, output: String, error: String) {
            try runProgram("swift", ["build", "--package-path", repository.appendingPathComponent("Examples/QuadraticIF").path, "--scratch-path", scratch.path])
        }
        var result = try build()
        if result.status != 0 {
            for stale in ["debug.yaml", "debug/description.json"] { try? FileManager.default.removeItem(at: scratch.appendingPathComponent(stale)) }
            result = try build()
        }
        guard result.status == 0 else { throw PlasticityError.invalidConfiguration("building the example failed:\n\(result.output)\(result.error)") }
        return scratch.appendingPathComponent("debug/libQuadraticIF.so").path
    }

    @Test("built outside this package, loaded through the same loader, sharing the core's types; its gradients agree across rules")
    func buildLoadAndTrain() throws {
        let registry = ModelRegistry()
        try PluginLoader().load(try Self.buildExample(), into: registry)
        let model = try registry.model(named: "QuadraticIF")
        #expect(model.model.defaultSurrogate is FastSigmoidSurrogate, "a core value made in the plugin casts to the host's type")
        let neuron = try model.compile()
        #expect(neuron.structure.traceStorage == [.perSynapse])
        for recurrent in [false, true] {
            let network = try Network(shape: NetworkShape(inputs: 3, hidden: 5, outputs: 2, recurrent: recurrent, bias: true, readoutDecay: 0.3), neuron: neuron)
            let parameters = ParameterSet<Double>(randomFor: network, seed: 2, inputGain: 5, recurrentGain: 0.5)
            let inputs: [Double] = (0..<120).map { index in Double((index * 5) % 7) / 7 }
            let loss = try Loss<Double>(.crossEntropySummed, steps: 20, batch: 2, outputs: 2, labels: [1, 0])
            func run(_ rule: LearningRuleKind) throws -> GradientResult<Double> {
                try GradientComputation.run(rule: rule, network: network, parameters: parameters, inputs: inputs, steps: 20, batch: 2, loss: loss)
            }
            let bptt = try run(.bptt)
            #expect(bptt.spikeCount > 0)
            #expect(relativeError(try run(.rtrl).gradients, bptt.gradients) < 1e-10)
            if !recurrent { #expect(relativeError(try run(.eprop).gradients, bptt.gradients) < 1e-10) }
        }
        let result = try runTool(["inspect", "QuadraticIF", "--plugin", Self.repository.appendingPathComponent(".build-examples/debug/libQuadraticIF.so").path])
        #expect(result.status == 0 && result.output.contains("ε_v: per synapse"))
    }

    @Test("plasticity build-plugin compiles a single-file Swift plugin in an empty folder against the built core; it loads, verifies and trains like any plugin")
    func singleFilePlugin() throws {
        let directory = try temporaryDirectory()
        let source = directory.appendingPathComponent("SoftLIF.swift")
        try Data("""
            import Foundation
            import PlasticityCore

            public struct SoftLIF: NeuronModel {
                public static let name = "SoftLIF"
                public static let summary = "leaky neuron with a saturating input"
                public static let stateVariables = [StateVariable("v", summary: "membrane potential")]
                public static let parameters = [ParameterSpec("tau", default: 20, validRange: 1e-3...1e9)]
                public static let defaultSurrogate: any Surrogate = TriangleSurrogate()
                let decay: Sym
                public init(parameters: ParameterValues) { decay = exp(-1 / parameters.symbol("tau")) }
                public func update(_ x: NeuronStepInputs) -> [Sym] { [decay * x.state[0] + 2 * tanh(x.current) - stopGradient(x.previousSpike)] }
                public func spikeArgument(_ state: [Sym]) -> Sym { state[0] - 1 }
            }

            @_cdecl("plasticity_plugin_abi_version")
            public func pluginABIVersion() -> Int32 { 1 }

            @_cdecl("plasticity_plugin_entry")
            public func pluginEntry() -> UnsafeMutableRawPointer { PluginManifest(models: [SoftLIF.self]).retainedPointer() }
            """.utf8).write(to: source)
        let build = try runTool(["build-plugin", source.path])
        #expect(build.status == 0, "\(build.output)\(build.error)")
        let library = directory.appendingPathComponent("libSoftLIF.so").path
        #expect(build.output.contains("built \(library)"))
        let verify = try runTool(["verify", library])
        #expect(verify.status == 0 && verify.output.contains("SoftLIF at defaults"), "\(verify.output)\(verify.error)")

        let registry = ModelRegistry()
        try PluginLoader().load(library, into: registry)
        let network = try Network(shape: NetworkShape(inputs: 3, hidden: 4, outputs: 2), neuron: try registry.model(named: "SoftLIF").compile())
        let parameters = ParameterSet<Double>(randomFor: network, seed: 2, inputGain: 5)
        let inputs: [Double] = (0..<60).map { Double(($0 * 5) % 7) / 7 }
        let loss = try Loss<Double>(.crossEntropySummed, steps: 10, batch: 2, outputs: 2, labels: [1, 0])
        let bptt = try GradientComputation.run(rule: .bptt, network: network, parameters: parameters, inputs: inputs, steps: 10, batch: 2, loss: loss)
        let eprop = try GradientComputation.run(rule: .eprop, network: network, parameters: parameters, inputs: inputs, steps: 10, batch: 2, loss: loss)
        #expect(bptt.spikeCount > 0 && relativeError(eprop.gradients, bptt.gradients) < 1e-10)

        let badName = directory.appendingPathComponent("2bad.swift")
        try Data("let x = 1".utf8).write(to: badName)
        #expect(try runTool(["build-plugin", badName.path]).error.contains("cannot name a Swift module"))
        let broken = directory.appendingPathComponent("Broken.swift")
        try Data("import PlasticityCore\nlet x: Int = \"text\"\n".utf8).write(to: broken)
        let failed = try runTool(["build-plugin", broken.path])
        #expect(failed.status != 0 && failed.error.contains("could not build"), "\(failed.error)")
    }
}
