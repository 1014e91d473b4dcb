import ArgumentParser
import Foundation
import PlasticityCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a plugin's Jacobian rules and annotations against finite differences and print a report.",
        discussion: "The same checks run whenever a plugin is loaded; a plugin that fails them is refused. Exits non-zero if any check fails.")

    @Argument(help: "The plugin: a library or a .neuron model file, as a path or a name looked up as lib<name>.so, <name>.so or <name>.neuron.")
    var plugin: String

    func run() throws {
        let (path, models) = try PluginLoader().open(plugin)
        print("plugin \(path)")
        var failed = false
        for model in models {
            let report = try model.verify()
            print("")
            print("\(report.model): \(report.samples) random states, central differences in Double, tolerance \(JacobianVerifier.tolerance) (relative to max(1, |FD|))")
            if let nonFinite = report.nonFinite { print("  FAIL: \(nonFinite)") }
            let width = report.checks.map(\.name.count).max() ?? 0
            for check in report.checks {
                let status = check.skipped ? "skipped (stopped gradient)" : check.passed ? "ok" : "FAIL"
                var line = "  \(check.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(check.declared.description.padding(toLength: 14, withPad: " ", startingAt: 0))"
                if !check.skipped { line += String(format: "  max error %.2e", check.maximumError) }
                line += "  \(status)"
                if !check.passed { line += ": \(check.worstCase)" }
                print(line)
            }
            failed = failed || !report.passed
        }
        if failed { throw ExitCode.failure }
    }
}
