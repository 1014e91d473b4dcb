import ArgumentParser
import Foundation
import PlasticityCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a plugin's Jacobian rules and annotations against finite differences and print a report.",
        discussion: "The same checks run whenever a plugin is loaded; a plugin that fails them is refused. Exits non-zero if any check fails.")

    @Argument(help: "The plugin: a library or a .neuron model file, as a path or a name looked up as lib<name>.so, <name>.so or <name>.neuron.")
    var plugin: String

    @Option(name: .customLong("set"), help: "Verify at this parameter value instead of the default (NAME=VALUE). Repeatable.")
    var assignments: [String] = []

    @Option(help: "Points checked per model: a quarter random states, the rest on simulated trajectories that cross threshold (at least 4).")
    var samples = VerificationOptions.defaultSamples

    @Option(help: "Seed of the sampled states and input currents.")
    var seed: UInt64 = 7

    func validate() throws {
        guard (4...100_000).contains(samples) else { throw ValidationError("--samples must be between 4 and 100000, got \(samples)") }
    }

    func run() throws {
        var parameters: [String: Double] = [:]
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let value = Double(parts[1]), value.isFinite else {
                throw ValidationError("--set expects NAME=VALUE with a finite number, got '\(assignment)'")
            }
            parameters[parts[0]] = value
        }
        // A plugin that crashes or hangs is refused by the check in a child process, before it
        // is opened here; one that only fails checks is opened to print them all.
        let loader = PluginLoader()
        let path = try loader.resolve(plugin)
        if !ModelFile.isModelFile(path) { try IsolatedPluginScreen().checkSafeToOpen(path) }
        let (_, models) = try loader.open(path)
        print("plugin \(path)")
        var failed = false
        for model in models {
            let report = try model.verify(ModelConfiguration(parameters: parameters), options: VerificationOptions(samples: samples, seed: seed))
            print("")
            let at = report.parameters.isEmpty ? "defaults" : report.parameters.keys.sorted().map { "\($0)=\(report.parameters[$0]!)" }.joined(separator: ", ")
            print("\(report.model) at \(at): central differences in Double, tolerance \(JacobianVerifier.tolerance) (relative to max(1, |FD|))")
            print("  \(report.coverage.description)")
            if let violation = report.contractViolation { print("  FAIL: \(violation)") }
            if let nonFinite = report.nonFinite { print("  FAIL: \(nonFinite)") }
            let width = report.checks.map(\.name.count).max() ?? 0
            for check in report.checks {
                let status = check.skipped.map { "skipped (\($0))" } ?? (check.passed ? "ok" : "FAIL")
                var line = "  \(check.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(check.declared.description.padding(toLength: 14, withPad: " ", startingAt: 0))"
                if check.skipped == nil { line += String(format: "  max error %.2e", check.maximumError) }
                line += "  \(status)"
                if !check.passed { line += ": \(check.worstCase)" }
                print(line)
            }
            failed = failed || !report.passed
        }
        if failed { throw ExitCode.failure }
    }
}
