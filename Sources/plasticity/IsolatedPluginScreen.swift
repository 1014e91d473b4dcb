import Foundation
import PlasticityCore

/// Checks each plugin library in a child process (`plasticity check-plugin`) before the host
/// opens it: a crash (signal), a hang (time limit) or an exit there refuses that plugin with
/// its cause and the kernel it was in, and the host goes on with the others. Verdicts are
/// cached by file identity (`PluginVerdictCache`), so the cost is paid once per file.
final class IsolatedPluginScreen: PluginScreen {
    /// The environment variable holding the time limit of one plugin's check, in seconds.
    static let timeLimitVariable = "PLASTICITY_PLUGIN_CHECK_SECONDS"
    static let defaultTimeLimit = 30.0

    private let timeLimit: Double
    private let cache = PluginVerdictCache()

    init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        timeLimit = try Self.timeLimit(environment)
    }

    static func timeLimit(_ environment: [String: String]) throws -> Double {
        guard let text = environment[timeLimitVariable] else { return defaultTimeLimit }
        guard let seconds = Double(text), seconds.isFinite, (0.1...3600).contains(seconds) else {
            throw PlasticityError.invalidConfiguration("\(timeLimitVariable) must be a number of seconds between 0.1 and 3600, got '\(text)'")
        }
        return seconds
    }

    func check(_ path: String) throws {
        if let reason = try verdict(path).refusal { throw PlasticityError.pluginRefused(reason: reason) }
    }

    /// Throws only if opening `path` would end this process (`plasticity verify` goes on to
    /// print every check of a plugin that merely fails them).
    func checkSafeToOpen(_ path: String) throws {
        let verdict = try verdict(path)
        if verdict.endedTheProcess, let reason = verdict.refusal { throw PlasticityError.pluginRefused(reason: reason) }
    }

    /// The cached verdict on the file, or a new one.
    private func verdict(_ path: String) throws -> PluginVerdict {
        let key = cache.key(for: path)
        if let key, let cached = cache[key] { return cached }
        let verdict = try run(path)
        if let key { cache[key] = verdict }
        return verdict
    }

    /// Runs the check in a child and reads its verdict, or names what ended it.
    private func run(_ path: String) throws -> PluginVerdict {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: Self.executable)
        child.arguments = ["check-plugin", path]
        let output = Pipe(), errors = Pipe()
        child.standardOutput = output
        child.standardError = errors
        child.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        child.terminationHandler = { _ in finished.signal() }
        try child.run()
        // Read both pipes while the child runs, so that neither fills up and blocks it.
        let reading = DispatchGroup()
        let outputData = PipeContents(), errorData = PipeContents()
        DispatchQueue.global().async(group: reading) { outputData.data = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: reading) { errorData.data = errors.fileHandleForReading.readDataToEndOfFile() }
        let hung = finished.wait(timeout: .now() + timeLimit) == .timedOut
        if hung {
            kill(child.processIdentifier, SIGKILL)
            finished.wait()
        }
        reading.wait()
        let lines = String(decoding: outputData.data, as: UTF8.self).split(separator: "\n").map(String.init)
        if let verdict = lines.last(where: { $0.hasPrefix("verdict ") }) {
            return verdict == "verdict ok" ? .passed : PluginVerdict(refusal: String(verdict.dropFirst("verdict refused ".count)))
        }
        // Where it was: the last kernel called, else the last stage.
        let place = lines.last { $0.hasPrefix("kernel ") || $0.hasPrefix("stage ") }.map { line in
            line.hasPrefix("kernel ") ? "in \(line.dropFirst("kernel ".count))" : "while \(line.dropFirst("stage ".count))"
        } ?? "before it reported anything"
        let cause: String
        if hung {
            cause = "did not finish checking within \(Self.describe(timeLimit)) s (stopped \(place)); a kernel that never returns? (\(Self.timeLimitVariable) sets the limit)"
        } else if child.terminationReason == .uncaughtSignal {
            cause = "crashed with \(Self.signalName(child.terminationStatus)) \(place)"
        } else {
            let message = String(decoding: errorData.data, as: UTF8.self).split(separator: "\n").last.map { ": \($0)" } ?? ""
            cause = "ended the process with exit status \(child.terminationStatus) \(place)\(message)"
        }
        return PluginVerdict(refusal: "\(path) was refused: checked in a separate process, it \(cause). Nothing of it was loaded; the other plugins are unaffected",
                             endedTheProcess: true)
    }

    /// This program's file: the child runs the same build.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    private static func describe(_ seconds: Double) -> String { String(format: "%g", seconds) }

    /// SIGSEGV and the like, by number.
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGABRT: "SIGABRT",
                                      SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGTRAP: "SIGTRAP", SIGSYS: "SIGSYS"]
        return names[signal] ?? "signal \(signal)"
    }
}

/// What one reader thread read from a pipe; read by the caller after the reader finished.
private final class PipeContents: @unchecked Sendable {
    var data = Data()
}
