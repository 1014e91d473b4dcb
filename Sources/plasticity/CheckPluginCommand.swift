import ArgumentParser
import Foundation
import PlasticityCore

/// The child side of `IsolatedPluginScreen`: opens one plugin library, verifies its models and
/// says what it is doing (`ChildProcessCheck`'s protocol), with `kernel …` before each C
/// kernel call that differs from the last one.
struct CheckPlugin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-plugin",
        abstract: "Open and verify one plugin library, reporting progress for a parent process (used internally).",
        shouldDisplay: false)

    @Argument(help: "The plugin library's absolute path.")
    var path: String

    func run() throws {
        var last = ""
        PluginLoader.reportKernelCalls { kernel in
            guard kernel != last else { return }
            last = kernel
            ChildProcessCheck.say("kernel \(kernel)")
        }
        ChildProcessCheck.answer(stage: "opening the library and reading its models") {
            let (_, models) = try PluginLoader().open(path)
            for model in models {
                ChildProcessCheck.say("stage verifying model \(model.name)")
                last = ""
                if let failure = try model.verify().failure { throw PlasticityError.verificationFailed(path: path, detail: failure) }
            }
            // The registry's own checks (names within the plugin) too.
            try ModelRegistry().register(models, from: path)
        }
    }
}
