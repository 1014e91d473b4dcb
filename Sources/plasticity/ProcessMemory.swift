import Foundation

/// The memory this process has used, as the system counts it.
enum ProcessMemory {
    /// The largest resident set so far (`getrusage`; Linux reports it in KiB).
    static var peakResidentBytes: Int {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
    }
}
