import Foundation
import PlasticityCore
import Testing

@Suite("Models from text files")
struct ModelFileTests {
    /// Parses `text` as a model file and compiles it with `parameters`.
    static func compile(_ text: String, _ parameters: [String: Double] = [:]) throws -> CompiledNeuron {
        try CompiledNeuron(model: ModelFile.parse(text, path: "test.neuron"), configuration: ModelConfiguration(parameters: parameters))
    }

    static let rules: [LearningRuleKind] = [.eprop, .denseEprop, .rtrl, .bptt]

    @Test("The text LIF, ALIF and AdLIF have the Swift plugins' expressions, annotations and trace storage",
          arguments: ["LIF", "ALIF", "AdLIF"])
    func sameStructure(model: String) throws {
        for variant in TestPlugins.resetVariants(model) {
            let swift = try TestPlugins.compile(model, variant), text = try TestPlugins.compile("Text\(model)", variant)
            #expect(text.update.map(\.description) == swift.update.map(\.description))
            #expect(text.spikeArgument.description == swift.spikeArgument.description)
            for (a, b) in [(text.structure.total, swift.structure.total), (text.structure.stateJacobian, swift.structure.stateJacobian),
                           (text.structure.ownSpikeGain, swift.structure.ownSpikeGain), (text.structure.currentGain, swift.structure.currentGain),
                           (text.structure.spikeGradient, swift.structure.spikeGradient)] {
                #expect(a.entries == b.entries)
            }
            #expect(text.structure.traceStorage == swift.structure.traceStorage)
            #expect(text.varyingEntries == swift.varyingEntries)
            #expect(text.parameters.map(\.name) == swift.parameters.map(\.name))
            #expect(text.parameters.map(\.value) == swift.parameters.map(\.value))
        }
    }

    @Test("The text models' gradients equal the Swift plugins' for every rule and loss (≤ 1e-12 relative, Double)",
          arguments: ["LIF", "ALIF", "AdLIF"])
    func sameGradients(model: String) throws {
        for variant in TestPlugins.resetVariants(model) {
            for (loss, decay) in [(LossKind.crossEntropyEveryStep, 0.0), (.crossEntropySummed, 0.7), (.meanSquaredError, 0.0)] {
                let swift = try RuleFixture(model: model, modelParameters: variant, recurrent: true, readoutDecay: decay, lossKind: loss, seed: 7)
                let text = try RuleFixture(model: "Text\(model)", modelParameters: variant, recurrent: true, readoutDecay: decay, lossKind: loss, seed: 7)
                for rule in Self.rules {
                    let expected = try swift.gradients(rule), found = try text.gradients(rule)
                    #expect(expected.spikeCount > 0, "the comparison needs spikes")
                    #expect(found.spikeCount == expected.spikeCount)
                    #expect(Swift.abs(found.loss - expected.loss) <= 1e-12 * Swift.abs(expected.loss))
                    #expect(relativeError(found.gradients, expected.gradients) <= 1e-12, "\(model) \(variant) \(loss) \(rule)")
                }
            }
        }
    }

    @Test("An ODE with the exponential integrator is the exact step: dv/dt = (R·I − v)/τ gives α v + (1 − α) R I")
    func exponentialIntegrator() throws {
        let header = """
            model M
            state v = 0.25
            parameter tau = 7 in [1e-3, 1e9]
            parameter R = 1.5
            parameter dt = 0.5 in [1e-6, 1e6]
            spike v - 1

            """
        let ode = try Self.compile(header + "dv/dt = (R*I - v)/tau using exponential\n")
        let discrete = try Self.compile(header + "let alpha = exp(-dt/tau)\nv' = alpha*v + (1 - alpha)*R*I\n")
        var rng = SplitMix64(seed: 3)
        for _ in 0..<20 {
            let v = Double.random(in: -2...2, using: &rng), current = Double.random(in: -2...2, using: &rng)
            let a = KernelStep(ode, state: [v], previousSpike: 0, current: current, spikes: .heaviside)
            let b = KernelStep(discrete, state: [v], previousSpike: 0, current: current, spikes: .heaviside)
            // Hand-derived: the solution of the ODE after dt with I held constant.
            let exact = 1.5 * current + (v - 1.5 * current) * Foundation.exp(-0.5 / 7)
            #expect(Swift.abs(a.newState[0] - exact) <= 1e-13)
            #expect(Swift.abs(a.newState[0] - b.newState[0]) <= 1e-13)
            #expect(Swift.abs(a.b(0) - b.b(0)) <= 1e-13)
        }
        #expect(ode.structure.stateJacobian.entries == [[.constant(Foundation.exp(-0.5 / 7))]])
    }

    @Test("Forward Euler and a reset: v[t] = v + Δt·rhs, then v_reset where the neuron spiked")
    func eulerAndReset() throws {
        let neuron = try Self.compile("""
            model E
            state v = 0
            parameter tau = 10
            parameter dt = 0.1 in [1e-6, 1e6]
            parameter vReset = -0.5
            dv/dt = (-v + I + v*v)/tau using euler
            reset v = vReset
            spike v - 1
            """)
        for (v, z, current) in [(0.3, 0.0, 0.7), (1.2, 1.0, -0.4), (-0.8, 0.0, 2.0)] {
            let step = KernelStep(neuron, state: [v], previousSpike: z, current: current, spikes: .heaviside)
            let integrated = v + 0.1 * (-v + current + v * v) / 10
            #expect(Swift.abs(step.newState[0] - (z == 1 ? -0.5 : integrated)) <= 1e-14)
            // The reset is gated by stopGradient(z): dv/dv[t-1] is the integrated value's slope.
            #expect(Swift.abs(step.a(0, 0) - (1 + 0.1 * (-1 + 2 * v) / 10) * (1 - z)) <= 1e-14)
        }
    }

    @Test("x ^ n is an exact product, with the derivative n·x^(n−1)")
    func integerPowers() throws {
        let neuron = try Self.compile("model P\nstate v = 0\nv' = 0.5*v^3 - v^-2 + I\nspike v - 1\n")
        let step = KernelStep(neuron, state: [1.3], previousSpike: 0, current: 0.2, spikes: .heaviside)
        #expect(Swift.abs(step.newState[0] - (0.5 * 1.3 * 1.3 * 1.3 - 1 / (1.3 * 1.3) + 0.2)) <= 1e-14)
        #expect(Swift.abs(step.a(0, 0) - (1.5 * 1.3 * 1.3 + 2 / (1.3 * 1.3 * 1.3))) <= 1e-13)
    }

    /// A valid model file to break in the error tests.
    static let valid = """
        model Good
        state v = 0 "membrane potential"
        parameter tau = 20 in [1e-3, 1e9] "time constant"
        parameter dt = 1 in [1e-6, 1e6]
        let alpha = exp(-dt/tau)
        v' = alpha*v + I - stopGradient(z)
        spike v - 1
        """

    static func message(_ text: String) -> String { errorMessage { _ = try ModelFile.parse(text, path: "m.neuron") } }

    @Test("Each class of mistake is refused with file, line, column and what to do")
    func errors() throws {
        let cases: [(String, String)] = [
            (Self.valid.replacingOccurrences(of: "alpha*v", with: "alpah*v"), "m.neuron:6:6: unknown name 'alpah'; did you mean 'alpha'?"),
            (Self.valid.replacingOccurrences(of: "exp(", with: "expp("), "m.neuron:5:13: unknown function 'expp'; did you mean 'exp'? (functions: abs, atan, exp, heaviside, if, log, max, min, sigmoid, sqrt, stopGradient, tanh)"),
            (Self.valid.replacingOccurrences(of: "exp(-dt/tau)", with: "min(dt)"), "m.neuron:5:13: min takes 2 arguments, got 1"),
            (Self.valid.replacingOccurrences(of: "v' =", with: "w' ="), "m.neuron:6:1: an update for 'w', which is not a state variable; did you mean 'v'?"),
            (Self.valid.replacingOccurrences(of: "v' =", with: "gate' ="), "m.neuron:6:1: an update for 'gate', which is not a state variable; declare it with 'state gate = 0'"),
            (Self.valid.replacingOccurrences(of: "v' = alpha*v + I - stopGradient(z)", with: ""), "m.neuron:2:7: state 'v' has no update; add v' = … or dv/dt = … using euler"),
            (Self.valid + "\nstate w = 0\nw' = 0.9*w + v", "m.neuron:8:7: state 'w' never affects the spike: neither the spike argument nor any state that does reads it"),
            (Self.valid.replacingOccurrences(of: "spike v - 1", with: "spike v - I"), "m.neuron:7:11: the spike argument reads the input current I; it may depend on the new state and parameters only"),
            (Self.valid.replacingOccurrences(of: "spike v - 1", with: "let kick = 2*z\nspike v - kick"), "m.neuron:7:14: the spike argument reads the previous spike z (through 'kick'); it may depend on the new state and parameters only"),
            (Self.valid.replacingOccurrences(of: "let alpha = exp(-dt/tau)", with: "let alpha = beta/2\nlet beta = exp(-alpha)"), "m.neuron:5:5: derived values form a cycle: alpha → beta → alpha"),
            (Self.valid.replacingOccurrences(of: "tau = 20", with: "tau = 0"), "m.neuron:3:11: parameter tau's default 0 is outside its valid range [0.001, 1000000000]"),
            (Self.valid.replacingOccurrences(of: "v' = alpha*v", with: "v' = alpha*v +* 2"), "m.neuron:6:15: expected a number, a name or '(', found '*'"),
            (Self.valid.replacingOccurrences(of: "model Good", with: "modl Good"), "m.neuron:1:1: unknown statement 'modl'; expected model, summary, state, parameter, let, an update such as modl' = …, reset, spike or surrogate"),
            (Self.valid.replacingOccurrences(of: "model Good", with: ""), "m.neuron:1:1: the file names no model; add a line 'model NAME'"),
            (Self.valid.replacingOccurrences(of: "spike v - 1", with: ""), "m.neuron:1:1: the model gives no spike argument; add a line such as 'spike v - threshold'"),
            (Self.valid.replacingOccurrences(of: "let alpha", with: "let tau"), "m.neuron:5:5: 'tau' is already declared at line 3"),
            (Self.valid.replacingOccurrences(of: "state v", with: "state z"), "m.neuron:2:7: 'z' is reserved for the previous spike z[t-1]"),
            (Self.valid + "\nv' = v", "m.neuron:8:1: 'v' already has an update at line 6"),
            (Self.valid.replacingOccurrences(of: "v' = alpha*v + I - stopGradient(z)", with: "dv/dt = -v/tau + I"), "m.neuron:6:19: say how to integrate dv/dt: end the line with 'using euler' or 'using exponential'"),
            (Self.valid.replacingOccurrences(of: "v' = alpha*v + I - stopGradient(z)", with: "dv/dt = -v/tau + I using rk4"), "m.neuron:6:26: unknown integrator 'rk4'; choose euler or exponential"),
            (Self.valid.replacingOccurrences(of: "parameter dt = 1 in [1e-6, 1e6]", with: "").replacingOccurrences(of: "exp(-dt/tau)", with: "0.9")
                .replacingOccurrences(of: "v' = alpha*v + I - stopGradient(z)", with: "dv/dt = -v/tau + I using euler"),
             "m.neuron:6:1: integrating dv/dt needs the time step: declare 'parameter dt = 1 in [1e-6, 1e6] \"time step (ms)\"'"),
            (Self.valid.replacingOccurrences(of: "v' = alpha*v", with: "v' = alpha*v^0.5"), "m.neuron:6:13: '^' takes an integer exponent from -64 to 64 written as a number; for other powers use exp(y*log(x))"),
            (Self.valid + "\nsurrogate triangel", "m.neuron:8:11: invalid surrogate 'triangel': unknown family 'triangel'; choose one of triangle, fast-sigmoid, sigmoid, arctan"),
            (Self.valid.replacingOccurrences(of: "\"membrane potential\"", with: "\"membrane potential"), "m.neuron:2:13: a text in quotes is not closed on its line"),
            (Self.valid.replacingOccurrences(of: "v' = alpha*v", with: "v' = alpha*v % 2"), "m.neuron:6:14: unexpected character '%'"),
            (Self.valid.replacingOccurrences(of: "in [1e-3, 1e9]", with: "in [1e9, 1e-3]"), "m.neuron:3:23: the range [1000000000, 0.001] is empty"),
            (Self.valid.replacingOccurrences(of: "v' = alpha*v", with: "v' = " + String(repeating: "(", count: 200) + "v" + String(repeating: ")", count: 200) + "*alpha"),
             "m.neuron:6:106: the expression is nested more than 100 levels deep"),
        ]
        for (text, expected) in cases { #expect(Self.message(text) == expected) }
        #expect(Self.message(Self.valid) == "no error")
        // Line ends saved as CRLF: the same statements and the same places.
        let crlf = Self.valid.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(Self.message(crlf) == "no error")
        #expect(Self.message(crlf.replacingOccurrences(of: "alpha*v", with: "alpah*v")) == "m.neuron:6:6: unknown name 'alpah'; did you mean 'alpha'?")
    }

    @Test("An exponential step the ODE does not allow, and a parameter outside its range, are refused when compiled")
    func compileErrors() throws {
        let nonlinear = Self.valid.replacingOccurrences(of: "v' = alpha*v + I - stopGradient(z)", with: "dv/dt = -v*v/tau + I using exponential")
        #expect(errorMessage { _ = try Self.compile(nonlinear) }
            == "model Good is invalid: test.neuron:6:1: dv/dt is not of the form a + b·v with b depending on parameters only, so the exponential integrator does not apply; use euler")
        #expect(errorMessage { _ = try Self.compile(Self.valid, ["tau": -1]) } == "parameter tau = -1.0 of model Good is outside its valid range 0.001...1000000000")
        #expect(errorMessage { _ = try Self.compile(Self.valid, ["tua": 3]) } == "model Good has no parameter 'tua'; its parameters are tau, dt")
    }

    @Test("Loaded like any plugin: by path, by name along the search path, from PLASTICITY_PLUGIN_PATH; a broken file registers nothing")
    func loading() throws {
        let directory = try temporaryDirectory()
        let good = directory.appendingPathComponent("Good.neuron")
        try Self.valid.write(to: good, atomically: true, encoding: .utf8)
        let broken = directory.appendingPathComponent("Broken.neuron")
        try Self.valid.replacingOccurrences(of: "model Good", with: "model Broken").replacingOccurrences(of: "spike v - 1", with: "spike v - I")
            .write(to: broken, atomically: true, encoding: .utf8)

        let registry = ModelRegistry()
        let path = try PluginLoader(searchPath: [directory.path]).load("Good", into: registry)
        #expect(path == good.resolvingSymlinksInPath().path)
        #expect(registry.all.map(\.name) == ["Good"])
        #expect(errorMessage { try PluginLoader(searchPath: []).load(broken.path, into: registry) }.hasPrefix("\(broken.path):7:11: the spike argument reads the input current I"))
        #expect(registry.all.map(\.name) == ["Good"], "nothing of a refused file is registered")
        #expect(PluginLoader.discoverPlugins(environment: [PluginLoader.searchPathVariable: directory.path])
                == [broken.resolvingSymlinksInPath().path, good.resolvingSymlinksInPath().path])
        #expect(errorMessage { try PluginLoader().load(directory.path + "/Missing.neuron", into: ModelRegistry()) }
                == "plugin file \(directory.path)/Missing.neuron does not exist")
        let folder = directory.appendingPathComponent("Folder.neuron")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        #expect(errorMessage { try PluginLoader().load(folder.path, into: ModelRegistry()) } == "\(folder.path):1:1: not a regular file")
    }

    @Test("Random bytes and mutated valid files never crash or hang the loader (bounded fuzz, fixed seed)")
    func fuzz() throws {
        var rng = SplitMix64(seed: 2026)
        let seeds = try TestPlugins.modelFiles.values.sorted().map { try String(contentsOf: TestPlugins.repository.appendingPathComponent($0), encoding: .utf8) }
        let alphabet = Array("abvzIxyt0123456789.e+-*/^()[],='\"#<>\n \t_dusingeulerxpspikestatelet")
        var outcomes = (accepted: 0, refused: 0)
        for round in 0..<600 {
            var text: [Character]
            if round % 3 == 0 {
                text = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            } else {
                text = Array(seeds[round % seeds.count])
                for _ in 0..<Int.random(in: 1...4, using: &rng) where !text.isEmpty {
                    let at = Int.random(in: 0..<text.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: text.remove(at: at)
                    case 1: text.insert(alphabet.randomElement(using: &rng)!, at: at)
                    default: text[at] = alphabet.randomElement(using: &rng)!
                    }
                }
            }
            do {
                let model = try ModelFile.parse(String(text), path: "fuzz.neuron")
                // What parses must also compile and verify, or be refused with an error.
                _ = try? model.verify()
                outcomes.accepted += 1
            } catch let error as PlasticityError {
                #expect("\(error)".hasPrefix("fuzz.neuron:"), "\(error)")
                outcomes.refused += 1
            }
        }
        #expect(outcomes.accepted > 50 && outcomes.refused > 200, "the fuzz exercises both paths: \(outcomes)")
    }
}
