import Foundation
import PlasticityCore
import Testing

@Suite("C plugins")
struct CPluginTests {
    static let source = DatasetTests.fixtures.appendingPathComponent("faulty_plugin.c")
    static let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/PlasticityCore/CPluginABI/include")

    /// Builds the test plugin (`source`, by default the faulty one) with `defines`, as a model called `name`.
    static func build(_ name: String, defines: [String] = [], source: URL = source) throws -> String {
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
              ("FAULT_VERSION", "was built for plugin ABI version 10, but this Plasticity speaks version 1 to 3"),
              ("FAULT_MISSING_KERNEL", "model Faulty is invalid: the descriptor has no update kernel (F)"),
              ("FAULT_DUPLICATE_RULE", "rules 2 and 4 both declare entry ∂v[t]/∂I[t]; give each entry one rule"),
              // Wrong only above v = 1.5, after a spike: random states near v = 0 never see it.
              ("FAULT_ZERO_ABOVE_THRESHOLD", "entry ∂v[t]/∂z[t-1] is declared 0 but finite differences disagree by 1"),
              ("FAULT_INDEX", "kernel F (update) of model Faulty gives neuron 1 of 96 the value"),
              ("FAULT_PARTIAL_WRITE", "kernel F (update) of model Faulty left output 0 of neuron 1 of 96 unwritten"),
              // Two states declared, kernels of one: F writes its result into the current.
              ("FAULT_STATE_COUNT_MORE", "kernel F (update) of model Faulty wrote into its input array 3 (I[t])"),
          ])
    func plantedFaults(fault: String, expected: String) throws {
        let registry = ModelRegistry()
        let path = try Self.build("Faulty", defines: [fault])
        do {
            try PluginLoader().load(path, into: registry)
            Issue.record("\(fault) must be refused")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            if !["FAULT_VERSION", "FAULT_MISSING_KERNEL", "FAULT_DUPLICATE_RULE"].contains(fault) {
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

    @Test("a constant right only at the default parameters passes at load and is refused at other values, naming them; verify --set shows it")
    func constantRightOnlyAtDefaults() throws {
        let path = try Self.build("DefaultOnly", defines: ["FAULT_DEFAULT_ONLY_CONSTANT"])
        let registry = ModelRegistry()
        try PluginLoader().load(path, into: registry)
        let model = try registry.model(named: "DefaultOnly")
        _ = try model.compile(ModelConfiguration(parameters: ["alpha": 0.9]))
        let message = errorMessage { _ = try model.compile(ModelConfiguration(parameters: ["alpha": 0.5])) }
        #expect(message.contains("model DefaultOnly with alpha=0.5: entry ∂v[t]/∂v[t-1] is declared const 0.9 but finite differences disagree by 0.4"), "\(message)")
        #expect(message.contains("plasticity verify DefaultOnly --set alpha=0.5"))
        // The correct plugin compiles at the same values.
        try PluginLoader().load(try Self.build("Leaky"), into: registry)
        _ = try registry.model(named: "Leaky").compile(ModelConfiguration(parameters: ["alpha": 0.5]))

        let atDefaults = try runTool(["verify", path])
        #expect(atDefaults.status == 0, "\(atDefaults.output)\(atDefaults.error)")
        let atHalf = try runTool(["verify", path, "--set", "alpha=0.5", "--samples", "40"])
        #expect(atHalf.status != 0)
        #expect(atHalf.output.contains("DefaultOnly at alpha=0.5") && atHalf.output.contains("40 samples") && atHalf.output.contains("FAIL: declared 0.9, finite differences 0.5"))
        for command in [["inspect", "DefaultOnly"], ["train", "--model", "DefaultOnly", "--epochs", "1", "--checkpoint", try temporaryDirectory().appendingPathComponent("c.json").path]] {
            let refused = try runTool(command + ["--plugin", path, "--set", "alpha=0.5"])
            #expect(refused.status != 0 && refused.error.contains("not at these parameter values"), "\(command[0]): \(refused.error)")
        }
    }

    @Test("a plugin that crashes, hangs, exits, has fewer states than its kernels or is truncated is refused by a check in a child process, naming the cause; the host and the good plugins go on, and the verdicts are cached by file identity")
    func crashIsolation() throws {
        let directory = try temporaryDirectory()
        let crashes = ["FAULT_CRASH": "crashed with SIGSEGV in kernel F (update) of model Crash",
                       // Writes through whatever the missing arguments' registers hold: a crash
                       // here, but which one depends on the registers, so only the refusal is asserted.
                       "FAULT_STATE_COUNT_FEWER": "libFewer.so was refused: checked in a separate process, it",
                       "FAULT_HANG": "did not finish within 2 s (stopped in kernel F (update) of model Hang)",
                       "FAULT_EXIT": "ended the process with exit status 3 in kernel F (update) of model Exit"]
        let names = ["FAULT_CRASH": "Crash", "FAULT_STATE_COUNT_FEWER": "Fewer", "FAULT_HANG": "Hang", "FAULT_EXIT": "Exit"]
        for (fault, name) in names {
            try FileManager.default.moveItem(atPath: try Self.build(name, defines: [fault]), toPath: directory.appendingPathComponent("lib\(name).so").path)
        }
        // A library cut short: the dynamic loader itself faults on it.
        var truncated = try Data(contentsOf: URL(fileURLWithPath: try Self.build("Cut")))
        truncated = truncated.prefix(3000)
        try truncated.write(to: directory.appendingPathComponent("libCut.so"))
        try FileManager.default.moveItem(atPath: try Self.build("Healthy"), toPath: directory.appendingPathComponent("libHealthy.so").path)
        let cache = try temporaryDirectory().path
        let environment = ["PLASTICITY_PLUGIN_PATH": directory.path, "PLASTICITY_PLUGIN_CHECK_SECONDS": "2", "PLASTICITY_CACHE_DIR": cache]
        for run in 0..<2 {
            let result = try runTool(["models"], environment: environment)
            #expect(result.status == 0, "run \(run): \(result.error)")
            #expect(result.output.contains("Healthy") && result.output.contains("Izhikevich"))
            for fault in names.keys {
                #expect(result.error.contains(crashes[fault]!), "run \(run), \(fault): \(result.error)")
            }
            #expect(result.error.contains("libCut.so was refused: checked in a separate process, it crashed with SIGBUS while opening the library"), "\(result.error)")
        }
        let cached = try String(contentsOfFile: cache + "/check-verdicts.json", encoding: .utf8)
        #expect(["Crash", "Fewer", "Hang", "Exit", "Cut", "Healthy", "LIF"].allSatisfy { cached.contains("lib\($0).so") })
        // The same path with other contents is checked again: a fixed plugin loads.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("libCrash.so"))
        try FileManager.default.moveItem(atPath: try Self.build("Crash"), toPath: directory.appendingPathComponent("libCrash.so").path)
        let fixed = try runTool(["models"], environment: environment)
        #expect(fixed.output.contains("Crash") && !fixed.error.contains("libCrash.so"), "\(fixed.error)")
        // verify checks in a child process too, before it opens the library itself.
        let verify = try runTool(["verify", directory.appendingPathComponent("libExit.so").path], environment: environment)
        #expect(verify.status != 0 && verify.error.contains("exit status 3"), "\(verify.error)")
    }
}
