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
}
