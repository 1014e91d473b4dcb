import Foundation
import PlasticityCore
import Testing

/// Runs the built `plasticity` tool (it sits next to the test binary), with `environment`
/// added to this process's, and returns its exit status and output.
func runTool(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
    // Plugin verdicts cached in a directory of this test run, not the user's cache.
    try runProgram(URL(fileURLWithPath: PluginLoader.executableDirectory()).appendingPathComponent("plasticity").path, arguments,
                   environment: ["PLASTICITY_CACHE_DIR": toolCacheDirectory].merging(environment) { $1 })
}

/// The verdict cache of the tool runs of this test process.
let toolCacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("plasticity-tests-cache-\(ProcessInfo.processInfo.processIdentifier)").path

@Suite("Command line")
struct CommandLineTests {
    @Test("plasticity models lists every plugin model with its file")
    func models() throws {
        let result = try runTool(["models"])
        #expect(result.status == 0)
        for name in TestPlugins.names {
            #expect(result.output.contains("lib\(name).so"))
        }
    }

    @Test("plasticity inspect shows the annotated blocks and the trace storage")
    func inspect() throws {
        let lif = try runTool(["inspect", "LIF"])
        #expect(lif.status == 0)
        #expect(lif.output.contains("ε_v: per presynaptic input (collapsed)"))
        let differentiated = try runTool(["inspect", "LIF", "--set", "resetGradient=1", "--surrogate", "sigmoid(slope=2)"])
        #expect(differentiated.output.contains("ε_v: per synapse"))
        #expect(differentiated.output.contains("surrogate: sigmoid(slope=2)"))
        let alif = try runTool(["inspect", "ALIF"])
        #expect(alif.output.contains("ε_a: per synapse"))
    }

    @Test("every subcommand's options parse (no two share a name)", arguments: ["demo", "train", "models", "inspect", "plan", "grad", "compare", "bench", "bench side-by-side", "bench threads", "verify", "new-model"])
    func helpParses(command: String) throws {
        let result = try runTool(command.split(separator: " ").map(String.init) + ["--help"])
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(!result.output.contains("Validation failed"))
    }

    @Test("the same options mean the same in every command: --batch and --batch-size, and W_rec on unless --no-recurrent", arguments: ["train", "plan", "compare", "bench"])
    func consistentOptions(command: String) throws {
        let help = try runTool(command == "bench" ? ["bench", "scaling", "--help"] : [command, "--help"]).output
        #expect(help.contains("--batch") && help.contains("--batch-size") && help.contains("--recurrent/--no-recurrent") && help.contains("default: with them"), "\(help)")
        if command == "bench" {
            // Each bench lists only what it uses: one model or several, a chart and a budget or none.
            let costModel = try runTool(["bench", "cost-model", "--help"]).output, sideBySide = try runTool(["bench", "side-by-side", "--help"]).output
            for help in [costModel, sideBySide] {
                #expect(help.contains("--models") && !help.contains("--model ") && !help.contains("--plot") && !help.contains("--memory"), "\(help)")
            }
            #expect(help.contains("--model ") && help.contains("--plot") && help.contains("--memory"))
        }
        guard command == "plan" else { return }
        let withDefault = try runTool(["plan", "--model", "LIF", "--hidden", "8", "--steps", "10", "--batch-size", "4"])
        #expect(withDefault.output.contains("hidden LIF 8 ⟲") && withDefault.output.contains("B=4"), "W_rec by default: \(withDefault.output)")
        let without = try runTool(["plan", "--model", "LIF", "--hidden", "8", "--steps", "10", "--batch", "4", "--no-recurrent"])
        #expect(without.output.contains("hidden LIF 8;") && without.output.contains("B=4"), "\(without.output)")
    }

    @Test("bad input is a one-line error and a non-zero exit")
    func errors() throws {
        let unknown = try runTool(["inspect", "Nope"])
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("no model named 'Nope'"))
        let parameter = try runTool(["inspect", "LIF", "--set", "tau=3"])
        #expect(parameter.status != 0)
        #expect(parameter.error.contains("model LIF has no parameter 'tau'"))
        let plugin = try runTool(["models", "--plugin", "/nonexistent/libX.so"])
        #expect(plugin.error.contains("plugin file /nonexistent/libX.so does not exist"))
    }

    @Test("plasticity new-model writes a template that loads from PLASTICITY_PLUGIN_PATH, copies a model file under a new name, and refuses to overwrite")
    func newModel() throws {
        let directory = try temporaryDirectory().path
        let written = try runTool(["new-model", "Mine", "--output", directory])
        #expect(written.status == 0, "\(written.error)")
        let listed = try runTool(["models"], environment: [PluginLoader.searchPathVariable: directory])
        #expect(listed.output.contains("Mine") && listed.output.contains("\(directory)/Mine.neuron"))
        let again = try runTool(["new-model", "Mine", "--output", directory])
        #expect(again.status != 0 && again.error.contains("Mine.neuron exists; pass --force to replace it"))
        let copy = try runTool(["new-model", "MyALIF", "--from", TestPlugins.repository.appendingPathComponent("Models/ALIF.neuron").path, "--output", directory])
        #expect(copy.status == 0, "\(copy.error)")
        let inspected = try runTool(["inspect", "MyALIF", "--plugin", "\(directory)/MyALIF.neuron"])
        #expect(inspected.output.contains("ε_a: per synapse"))
        let compiled = try runTool(["new-model", "X", "--from", "LIF", "--output", directory])
        #expect(compiled.status != 0 && compiled.error.contains("LIF is a compiled plugin"))
    }
}

@Suite("Command line: list options")
struct ListOptionTests {
    @Test("rule and size lists are refused item by item: unknown or repeated rules, non-numbers, zero and negative sizes, no repetitions")
    func refusals() throws {
        let cases: [([String], String)] = [
            (["compare", "--model", "LIF", "--rules", "eprop,eprop"], "rule 'eprop' is named twice in 'eprop,eprop'"),
            (["compare", "--model", "LIF", "--rules", ""], "unknown rule ''; the rules are eprop, dense-eprop, rtrl, bptt"),
            (["bench", "scaling", "--sizes", "4,abc"], "'abc' in '4,abc' is not a whole number of at least 1"),
            (["bench", "memory", "--lengths=-10"], "'-10' in '-10' is not a whole number of at least 1"),
            (["bench", "cost-model", "--sizes", "0"], "'0' in '0' is not a whole number of at least 1"),
            (["bench", "scaling", "--repetitions", "0"], "--repetitions, --inputs and --outputs must each be at least 1, and --batch 1…65536"),
            (["bench", "scaling", "--batch", "100000"], "--batch 1…65536"),
            (["bench", "cost-model", "--max-seconds", "nan"], "--max-seconds must be a positive number of seconds, got nan"),
            (["bench", "side-by-side", "--steps", "0"], "--steps must be at least 1"),
        ]
        for (arguments, message) in cases {
            let result = try runTool(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.error.contains(message), "\(arguments): \(result.error)")
        }
    }
}
