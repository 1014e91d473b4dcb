import Foundation
import PlasticityCore

/// Runs `plasticity SUBCOMMAND PATH` in a child process — opening a plugin library, reading a
/// data file with libhdf5: code that can crash or hang — and reads its verdict. A crash
/// (signal), a hang (time limit) or an exit there becomes a refusal naming the cause and
/// where the child was, and the host goes on. Verdicts are cached by file identity
/// (`CheckVerdictCache`), so the cost is paid once per file.
///
/// The child writes one line at a time, unbuffered: `stage …` and `kernel …` as it goes, then
/// `verdict ok` or `verdict refused <reason>`.
struct ChildProcessCheck {
    /// The hidden subcommand the child runs.
    let subcommand: String
    /// The environment variable holding the time limit, in seconds, and its default.
    let timeLimitVariable: String
    let defaultTimeLimit: Double
    private let cache = CheckVerdictCache()

    init(subcommand: String, timeLimitVariable: String, defaultTimeLimit: Double) {
        self.subcommand = subcommand
        self.timeLimitVariable = timeLimitVariable
        self.defaultTimeLimit = defaultTimeLimit
    }

    /// How the child ended without a verdict.
    enum Ending {
        case hung(seconds: Double, place: String)
        case crashed(signal: String, place: String)
        case exited(status: Int32, place: String, message: String)

        /// The ending as a clause: "crashed with SIGSEGV in kernel F (update) of model X".
        var clause: String {
            switch self {
            case .hung(let seconds, let place): return "did not finish within \(String(format: "%g", seconds)) s (stopped \(place))"
            case .crashed(let signal, let place): return "crashed with \(signal) \(place)"
            case .exited(let status, let place, let message): return "ended the process with exit status \(status) \(place)\(message)"
            }
        }
    }

    /// The cached verdict on the file at `path`, or a new one; `refusal` words an ending.
    func verdict(for path: String, refusal: (Ending) -> String) throws -> CheckVerdict {
        let key = cache.key(for: path).map { "\(subcommand) \($0)" }
        if let key, let cached = cache[key] { return cached }
        let verdict = try run(path, refusal: refusal)
        if let key { cache[key] = verdict }
        return verdict
    }

    private func timeLimit() throws -> Double {
        guard let text = ProcessInfo.processInfo.environment[timeLimitVariable] else { return defaultTimeLimit }
        guard let seconds = Double(text), seconds.isFinite, (0.1...86_400).contains(seconds) else {
            throw PlasticityError.invalidConfiguration("\(timeLimitVariable) must be a number of seconds between 0.1 and 86400, got '\(text)'")
        }
        return seconds
    }

    private func run(_ path: String, refusal: (Ending) -> String) throws -> CheckVerdict {
        let limit = try timeLimit()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: Self.executable)
        child.arguments = [subcommand, path]
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
        let hung = finished.wait(timeout: .now() + limit) == .timedOut
        if hung {
            kill(child.processIdentifier, SIGKILL)
            finished.wait()
        }
        reading.wait()
        let lines = String(decoding: outputData.data, as: UTF8.self).split(separator: "\n").map(String.init)
        if let verdict = lines.last(where: { $0.hasPrefix("verdict ") }) {
            return verdict == "verdict ok" ? .passed : CheckVerdict(refusal: String(verdict.dropFirst("verdict refused ".count)))
        }
        // Where it was: the last kernel called, else the last stage.
        let place = lines.last { $0.hasPrefix("kernel ") || $0.hasPrefix("stage ") }.map { line in
            line.hasPrefix("kernel ") ? "in \(line.dropFirst("kernel ".count))" : "while \(line.dropFirst("stage ".count))"
        } ?? "before it reported anything"
        let ending: Ending
        if hung {
            ending = .hung(seconds: limit, place: place)
        } else if child.terminationReason == .uncaughtSignal {
            ending = .crashed(signal: Self.signalName(child.terminationStatus), place: place)
        } else {
            let message = String(decoding: errorData.data, as: UTF8.self).split(separator: "\n").last.map { ": \($0)" } ?? ""
            ending = .exited(status: child.terminationStatus, place: place, message: message)
        }
        return CheckVerdict(refusal: refusal(ending), endedTheProcess: true)
    }

    /// This program's file: the child runs the same build.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// SIGSEGV and the like, by number.
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGABRT: "SIGABRT",
                                      SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGTRAP: "SIGTRAP", SIGSYS: "SIGSYS"]
        return names[signal] ?? "signal \(signal)"
    }

    /// One protocol line of the child, written at once (no buffering: it may die next).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line.replacingOccurrences(of: "\n", with: " ") + "\n").utf8))
    }

    /// The child's side: `stage` said, then `body`, and its verdict — ok, or refused with the
    /// error it threw. A crash or a hang inside says nothing more; the parent names it.
    static func answer(stage: String, _ body: () throws -> Void) {
        say("stage \(stage)")
        do {
            try body()
            say("verdict ok")
        } catch {
            say("verdict refused \(error)")
        }
    }
}

/// What one reader thread read from a pipe; read by the caller after the reader finished.
private final class PipeContents: @unchecked Sendable {
    var data = Data()
}

/// Checks each plugin library in a child process (`plasticity check-plugin`) before the host
/// opens it: a crashing, hanging or exiting plugin is refused with the kernel it was in.
struct IsolatedPluginScreen: PluginScreen {
    static let timeLimitVariable = "PLASTICITY_PLUGIN_CHECK_SECONDS"
    private let check = ChildProcessCheck(subcommand: "check-plugin", timeLimitVariable: timeLimitVariable, defaultTimeLimit: 30)

    func check(_ path: String) throws {
        if let reason = try verdict(path).refusal { throw PlasticityError.refusedInSeparateProcess(reason: reason) }
    }

    /// Throws only if opening `path` would end this process (`plasticity verify` goes on to
    /// print every check of a plugin that merely fails them).
    func checkSafeToOpen(_ path: String) throws {
        let verdict = try verdict(path)
        if verdict.endedTheProcess, let reason = verdict.refusal { throw PlasticityError.refusedInSeparateProcess(reason: reason) }
    }

    private func verdict(_ path: String) throws -> CheckVerdict {
        try check.verdict(for: path) { ending in
            var cause = ending.clause
            if case .hung = ending { cause += "; a kernel that never returns? (\(Self.timeLimitVariable) sets the limit)" }
            return "\(path) was refused: checked in a separate process, it \(cause). Nothing of it was loaded; the other plugins are unaffected"
        }
    }
}
