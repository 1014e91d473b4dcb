import ArgumentParser
import Foundation
import PlasticityCore

/// The child side of `IsolatedPluginScreen`: opens one plugin library, verifies its models and
/// writes what it is doing, line by line and unbuffered, to standard output, so that the parent
/// can name where a crash or a hang happened: `stage …`, `kernel …` before each C kernel call
/// that differs from the last one, then `verdict ok` or `verdict refused <reason>`.
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
            Self.say("kernel \(kernel)")
        }
        do {
            Self.say("stage opening the library and reading its models")
            let loader = PluginLoader()
            let (_, models) = try loader.open(path)
            for model in models {
                Self.say("stage verifying model \(model.name)")
                last = ""
                if let failure = try model.verify().failure { throw PlasticityError.verificationFailed(path: path, detail: failure) }
            }
            // The registry's own checks (names within the plugin) too.
            try ModelRegistry().register(models, from: path)
            Self.say("verdict ok")
        } catch {
            Self.say("verdict refused \(error)")
        }
    }

    /// One protocol line, written at once (no buffering: the process may die next).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line.replacingOccurrences(of: "\n", with: " ") + "\n").utf8))
    }
}
