import ArgumentParser
import Foundation
import PlasticityCore

/// The child side of `IsolatedHDF5Screen`: reads every array of one SHD HDF5 file with libhdf5,
/// under a memory limit, and says how it went (`ChildProcessCheck`'s protocol).
struct CheckData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-data",
        abstract: "Read one SHD HDF5 file with libhdf5, reporting progress for a parent process (used internally).",
        shouldDisplay: false)

    @Argument(help: "The HDF5 file's path.")
    var path: String

    func run() throws {
        // A file that declares more than memory holds fails here, not in the parent.
        var limit = rlimit(rlim_cur: rlim_t(IsolatedHDF5Screen.memoryLimit), rlim_max: rlim_t(IsolatedHDF5Screen.memoryLimit))
        setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
        ChildProcessCheck.answer(stage: "reading it with libhdf5") {
            _ = try SpikingHeidelbergDigits.readHDF5Arrays(URL(fileURLWithPath: path))
        }
    }
}

/// Reads each SHD HDF5 file first in a child process (`plasticity check-data`): libhdf5 can
/// crash on a damaged file (a flipped byte: SIGSEGV in H5HG_read), and a file can declare
/// more data than memory holds. Either refuses the file, naming the cause, before this
/// process opens it; verdicts are cached by file identity.
struct IsolatedHDF5Screen {
    static let timeLimitVariable = "PLASTICITY_DATA_CHECK_SECONDS"
    /// Address space the child may use: half the machine's memory.
    static var memoryLimit: Int { Int(ProcessInfo.processInfo.physicalMemory / 2) }
    private let check = ChildProcessCheck(subcommand: "check-data", timeLimitVariable: timeLimitVariable, defaultTimeLimit: 600)

    func check(_ file: URL) throws {
        let path = file.path
        let verdict = try check.verdict(for: path) { ending in
            var cause = ending.clause
            if case .hung = ending { cause += " (\(Self.timeLimitVariable) sets the limit)" }
            return "\(path) was refused: read with libhdf5 in a separate process, it \(cause); the file is damaged or needs more than "
                + "\(MemorySize.format(Self.memoryLimit)). Nothing was loaded from it. Download it again, or convert it to .npz with Scripts/shd_to_npz.py"
        }
        if let reason = verdict.refusal { throw PlasticityError.refusedInSeparateProcess(reason: reason) }
    }
}
